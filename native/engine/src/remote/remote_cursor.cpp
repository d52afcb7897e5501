// Cursors over `v3/cursor` (Hrana 3 over HTTP): the answer is a first line with the stream's
// baton, then one JSON entry a line (step_begin, row, step_end, step_error, error), read from
// the socket as the rows are stepped.
#include "remote_cursor.hpp"

#include <utility>

namespace ecto_libsql::remote {

namespace {

constexpr std::size_t kReadPiece = std::size_t{64} * 1024;

std::string_view entry_type(const json::value& entry) {
  if (!entry.is_object()) return {};
  const json::value* type = entry.get_object().if_contains("type");
  if (type == nullptr || !type->is_string()) return {};
  return type->get_string();
}

std::int64_t integer_field(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr ? integer_of(*v).value_or(0) : 0;
}

}  // namespace

// --- HranaStream ------------------------------------------------------------------------------

bool HranaStream::can_stream() const noexcept {
  // Over WebSocket the connection's only stream would be held by the cursor; a stream the
  // server moved elsewhere (base_url) keeps to the pipeline.
  return protocol_ == Protocol::V3 && !ws_ && !stream_http_;
}

void HranaStream::settle_cursor() {
  if (active_cursor_ != nullptr && !active_cursor_->own_stream()) active_cursor_->drain();
}

void HranaStream::cursor_done(const CursorReader* cursor) noexcept {
  if (active_cursor_ == cursor) active_cursor_ = nullptr;
}

void HranaStream::continue_after_cursor(std::optional<std::string> baton,
                                        const json::value* base_url) {
  baton_ = std::move(baton);
  follow(base_url);
}

void HranaStream::close_cursor_stream(HttpClient& client, const std::string& baton) noexcept {
  if (closed_) return;
  try {
    json::object body{{"baton", baton}, {"requests", json::array{json::object{{"type", "close"}}}}};
    client.request(true, pipeline_path_, json::serialize(body));
  } catch (...) {
    // The server expires abandoned streams itself.
  }
}

std::unique_ptr<CursorReader> HranaStream::open_cursor(const std::string& sql,
                                                       const std::vector<Value>& args) {
  // One answer at a time on the cursor socket; the previous cursor keeps its rows in memory.
  if (active_cursor_ != nullptr) active_cursor_->drain();
  if (!cursor_http_) cursor_http_ = make_http(http_->url());
  json::object body;
  const bool own = !transaction_.open();
  body["baton"] = !own && baton_ ? json::value(json::string(*baton_)) : json::value(nullptr);
  body["batch"] = json::object{{"steps", json::array{batch_step(sql, encode_values(args))}}};
  const std::string request = json::serialize(body);
  auto reader = std::make_unique<CursorReader>(*this, *cursor_http_, own);
  std::string error_body;
  // A read: sent once more on a fresh connection when the connection was lost outside a
  // transaction.
  const unsigned status = with_retry(true, [&](bool /*retry*/, Deadline& deadline) {
    return cursor_http_->start_streaming("/v3/cursor", request, error_body, &deadline);
  });
  if (status != 200) throw refused(HttpResponse{status, std::move(error_body), {}}, !own);
  active_cursor_ = reader.get();
  reader->open();
  return reader;
}

// --- CursorReader ----------------------------------------------------------------------------

CursorReader::CursorReader(HranaStream& stream, HttpClient& client, bool own_stream)
    : stream_(stream),
      client_(client),
      own_stream_(own_stream),
      interrupts_seen_(stream.interrupter().count()) {}

CursorReader::~CursorReader() {
  finish();
}

void CursorReader::lost(const Error& error) {
  throw stream_.failure(error, !own_stream_);
}

json::value CursorReader::next_entry() {
  // request_timeout and max_response_size bound each entry (one row), not the answer.
  Deadline deadline;
  const std::size_t limit = stream_.max_response_size();
  for (;;) {
    const std::size_t newline = pending_.find('\n', parsed_);
    if (newline != std::string::npos) {
      const std::string_view line(pending_.data() + parsed_, newline - parsed_);
      parsed_ = newline + 1;
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      json::error_code ec;
      json::value entry = json::parse(line, ec);
      if (ec || !entry.is_object()) {
        throw Error(kCodeError, "remote: malformed cursor entry (not JSON)", "PROTOCOL");
      }
      return entry;
    }
    if (body_done_) {
      if (parsed_ < pending_.size()) {
        throw Error(kCodeError, "remote: the cursor answer ends inside an entry", "PROTOCOL");
      }
      return nullptr;
    }
    // Keep only the unparsed tail before reading more.
    pending_.erase(0, parsed_);
    parsed_ = 0;
    if (stream_.interrupter().count() != interrupts_seen_) {
      // interrupt() came between two reads of this answer: it stops the cursor all the same.
      client_.disconnect();
      body_done_ = true;
      lost(Error(kCodeInterrupt, "interrupted"));
    }
    if (limit != 0 && pending_.size() > limit) {
      client_.disconnect();
      body_done_ = true;
      lost(too_big(client_.url().host + ":" + client_.url().port, limit));
    }
    bool more = false;
    const std::size_t before = pending_.size();
    try {
      more = client_.read_streaming(pending_, kReadPiece, &deadline);
    } catch (const Error& e) {
      body_done_ = true;
      lost(e);
    }
    if (!more) {
      body_done_ = true;
      stream_.cursor_done(this);
    }
    // What drain() keeps in memory is a buffered reply: the limit holds for it as a whole.
    if (draining_ && limit != 0 && (drained_ += pending_.size() - before) > limit) {
      client_.disconnect();
      body_done_ = true;
      lost(too_big(client_.url().host + ":" + client_.url().port, limit));
    }
  }
}

void CursorReader::open() {
  const json::value head = next_entry();
  if (!head.is_object()) {
    throw Error(kCodeError, "remote: empty answer to a cursor request", "PROTOCOL");
  }
  const json::object& obj = head.get_object();
  const json::value* baton = obj.if_contains("baton");
  std::optional<std::string> next;
  if (baton != nullptr && baton->is_string()) next = std::string(baton->get_string());
  if (own_stream_) {
    baton_ = std::move(next);
  } else {
    stream_.continue_after_cursor(std::move(next), obj.if_contains("base_url"));
  }
  // Up to the step's columns, so that they are known before the first row.
  while (columns_.empty() && !rows_done_) {
    const json::value entry = next_entry();
    if (entry.is_null()) {
      rows_done_ = true;
      break;
    }
    std::vector<Value> row;
    if (take(entry, row)) {
      buffered_.push_back(std::move(row));
      break;
    }
    if (entry_type(entry) == "step_begin") break;
  }
}

bool CursorReader::take(const json::value& entry, std::vector<Value>& row) {
  const std::string_view type = entry_type(entry);
  const json::object& obj = entry.get_object();
  if (type == "row") {
    const json::value* cells = obj.if_contains("row");
    if (cells == nullptr || !cells->is_array() || cells->get_array().size() != columns_.size()) {
      throw Error(kCodeError, "remote: malformed cursor row", "PROTOCOL");
    }
    row.clear();
    row.reserve(columns_.size());
    for (const json::value& cell : cells->get_array())
      row.push_back(decode_value(cell));
    return true;
  }
  if (type == "step_begin") {
    columns_.clear();
    decltypes_.clear();
    if (const json::value* cols = obj.if_contains("cols"); cols != nullptr && cols->is_array()) {
      for (const json::value& col : cols->get_array()) {
        const json::value* name = col.is_object() ? col.get_object().if_contains("name") : nullptr;
        const json::value* decl =
            col.is_object() ? col.get_object().if_contains("decltype") : nullptr;
        columns_.emplace_back(name != nullptr && name->is_string() ? name->get_string().c_str()
                                                                   : "");
        decltypes_.push_back(decl != nullptr && decl->is_string()
                                 ? std::optional<std::string>(decl->get_string().c_str())
                                 : std::nullopt);
      }
    }
    return false;
  }
  if (type == "step_end") {
    rows_done_ = true;
    affected_ = integer_field(obj, "affected_row_count");
    last_insert_rowid_ = integer_field(obj, "last_insert_rowid");
    return false;
  }
  if (type == "step_error" || type == "error") {
    rows_done_ = true;
    const json::value* err = obj.if_contains("error");
    throw server_error(err != nullptr ? *err : json::value());
  }
  throw Error(kCodeError, "remote: unknown cursor entry", "PROTOCOL");
}

bool CursorReader::next_row(std::vector<Value>& row) {
  while (!rows_done_) {
    const json::value entry = next_entry();
    if (entry.is_null()) {
      rows_done_ = true;
      return false;
    }
    if (take(entry, row)) return true;
  }
  return false;
}

Step CursorReader::step(const ExecBudget* /*budget*/) {
  has_row_ = false;
  if (!buffered_.empty()) {
    row_ = std::move(buffered_.front());
    buffered_.pop_front();
    has_row_ = true;
    return Step::Row;
  }
  // An error ends the rows for good: every later step answers it again.
  if (error_) throw *error_;  // NOLINT(cert-err60-cpp)
  try {
    if (next_row(row_)) {
      has_row_ = true;
      return Step::Row;
    }
  } catch (const Error& e) {
    error_ = e;
    rows_done_ = true;
    throw;
  }
  if (!body_done_) finish();  // the rest (normally nothing) is read now: the socket is free
  return Step::Done;
}

void CursorReader::drain() {
  stream_.cursor_done(this);
  draining_ = true;
  try {
    for (std::vector<Value> row; next_row(row);)
      buffered_.push_back(std::exchange(row, {}));
    while (!body_done_)
      next_entry();
  } catch (const Error& e) {
    // The rows before the error stay readable; the error comes after them.
    error_ = e;
    rows_done_ = true;
    if (!body_done_) {
      client_.disconnect();
      body_done_ = true;
    }
    // The stream is lost when its answer could not be read: the request waiting for it fails.
    if ((e.code() == kCodeIoErr || e.code() == kCodeInterrupt || e.code() == kCodeTooBig) &&
        !own_stream_) {
      throw;
    }
  }
  finish();
}

void CursorReader::finish() noexcept {
  stream_.cursor_done(this);
  if (!body_done_) {
    if (own_stream_ && !rows_done_) {
      // Nobody else uses this stream: dropping the socket ends the answer.
      client_.disconnect();
      body_done_ = true;
    } else {
      // The transaction's stream must stay usable: read the rest of the answer and drop it.
      try {
        while (!body_done_)
          next_entry();
      } catch (...) {
        client_.disconnect();
        body_done_ = true;
        stream_.abandon();
      }
    }
  }
  if (own_stream_ && baton_) {
    stream_.close_cursor_stream(client_, *baton_);
    baton_.reset();
  }
}

std::vector<ColumnInfo> CursorReader::columns() const {
  std::vector<ColumnInfo> out;
  out.reserve(columns_.size());
  for (std::size_t i = 0; i < columns_.size(); ++i)
    out.push_back(ColumnInfo{columns_[i], columns_[i], decltypes_[i]});
  return out;
}

std::string_view CursorReader::column_name(int index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= columns_.size())
    throw Error(kCodeRange, "column index out of range");
  return columns_[static_cast<std::size_t>(index)];
}

const Value& CursorReader::cell(int index) const {
  if (!has_row_ || index < 0 || static_cast<std::size_t>(index) >= row_.size())
    throw Error(kCodeRange, "no row or column index out of range");
  return row_[static_cast<std::size_t>(index)];
}

}  // namespace ecto_libsql::remote
