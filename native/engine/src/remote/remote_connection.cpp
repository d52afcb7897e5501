#include "remote_connection.hpp"

#include <algorithm>

#include "ecto_libsql/remote/remote.hpp"
#include "local/foreign_key_failure.hpp"

namespace ecto_libsql::remote {

namespace {

constexpr std::string_view kCountsSql = "SELECT changes(), last_insert_rowid()";

json::object execute_request(const std::string& sql, const std::vector<Value>& args,
                             std::optional<std::int32_t> sql_id = {}) {
  json::array a;
  a.reserve(args.size());
  for (const Value& v : args)
    a.push_back(encode_value(v));
  json::object stmt;
  if (sql_id) {
    stmt["sql_id"] = *sql_id;
  } else {
    stmt["sql"] = sql;
  }
  stmt["args"] = std::move(a);
  return json::object{{"type", "execute"}, {"stmt", std::move(stmt)}};
}

json::object step_object(std::string_view sql, json::array args, json::value condition) {
  json::object stmt{{"sql", json::string_view(sql.data(), sql.size())}, {"args", std::move(args)}};
  json::object step{{"stmt", std::move(stmt)}};
  if (!condition.is_null()) step["condition"] = std::move(condition);
  return step;
}

json::value cond_ok(std::size_t step) {
  return json::object{{"type", "ok"}, {"step", step}};
}
json::value cond_not_ok(std::size_t step) {
  return json::object{{"type", "not"}, {"cond", cond_ok(step)}};
}

// ROLLBACK TO a savepoint, unlike ROLLBACK, keeps the transaction open.
std::string error_text(const HttpResponse& res) {
  std::string body = res.body.substr(0, 500);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
    body.pop_back();
  return body;
}

}  // namespace

Error http_error(const HttpResponse& res) {
  json::error_code ec;
  const json::value parsed = json::parse(res.body, ec);
  const std::string status = std::to_string(res.status);
  const bool auth = res.status == 401 || res.status == 403;
  if (!ec && parsed.is_object() && parsed.get_object().contains("message")) {
    Error error = server_error(parsed);
    if (auth) return Error(23, error.message(), error.remote_code());
    return error;
  }
  if (auth) {
    return Error(23, "remote: authentication failed (HTTP " + status + "): " + error_text(res),
                 "HTTP_" + status);
  }
  return Error(kCodeError, "remote: server answered HTTP " + status + ": " + error_text(res),
               "HTTP_" + status);
}

std::shared_ptr<Connection> open_remote(const ConnectOptions& options) {
  return std::make_shared<RemoteConnection>(options);
}

RemoteConnection::RemoteConnection(const ConnectOptions& options) {
  if (options.uri.empty()) throw Error(kCodeMisuse, "Failed to connect: no :uri given");
  Url url = parse_url(options.uri);
  // A token in the URL (`?authToken=`) stands for the option, as in libSQL's clients.
  auth_token_ = url.auth_token ? *url.auth_token : options.auth_token;
  require_header_safe(auth_token_, "auth_token");
  if (options.remote_encryption_key) {
    require_header_safe(*options.remote_encryption_key, "remote_encryption_key");
    remote_encryption_key_ = *options.remote_encryption_key;
  }
  ca_file_ = options.tls_ca_file;
  connect_timeout_ = options.connect_timeout;
  request_timeout_ = options.request_timeout;
  max_response_size_ = options.max_response_size;
  busy_timeout_ms_ = options.busy_timeout_ms;
  if (url.websocket || options.transport == "websocket") {
    url.websocket = true;
    protocol_ = Protocol::V3;
    http_ = make_http(url);
    ws_ = std::make_unique<WsClient>(url, connect_timeout_, request_timeout_, ca_file_);
    ws_->set_interrupter(&interrupter_);
    ws_->set_max_response_size(max_response_size_);
    if (!remote_encryption_key_.empty()) {
      ws_->add_header(std::string(kEncryptionKeyHeader), remote_encryption_key_);
    }
    Deadline deadline;
    ws_open(deadline);
    return;
  }
  http_ = make_http(url);
  // Probe what the server offers: v3, v2, or only the v2 pipeline (tursodb).
  HttpResponse v3 = http_->request(false, "/v3", "");
  if (v3.status >= 200 && v3.status < 300) {
    protocol_ = Protocol::V3;
    pipeline_path_ = "/v3/pipeline";
    return;
  }
  if (v3.status == 401 || v3.status == 403) throw http_error(v3);
  HttpResponse v2 = http_->request(false, "/v2", "");
  if (v2.status == 401 || v2.status == 403) throw http_error(v2);
  protocol_ = v2.status >= 200 && v2.status < 300 ? Protocol::V2 : Protocol::Minimal;
  pipeline_path_ = "/v2/pipeline";
}

std::unique_ptr<HttpClient> RemoteConnection::make_http(const Url& url) {
  auto client =
      std::make_unique<HttpClient>(url, auth_token_, connect_timeout_, request_timeout_, ca_file_);
  client->set_interrupter(&interrupter_);
  client->set_max_response_size(max_response_size_);
  if (!remote_encryption_key_.empty()) {
    client->add_header(std::string(kEncryptionKeyHeader), remote_encryption_key_);
  }
  return client;
}

RemoteConnection::~RemoteConnection() {
  close();
}

void RemoteConnection::require_open() const {
  if (!open_) throw_misuse("Connection is closed");
}

void RemoteConnection::close() noexcept {
  if (!open_) return;
  stored_sql_.clear();  // the server forgets it with the socket: no close_sql for each
  for (auto& weak : user_statements_) {
    if (auto stmt = weak.lock()) stmt->close();
  }
  user_statements_.clear();
  if (baton_ && protocol_ != Protocol::Minimal) {
    try {
      // Ends the server's stream (and rolls back its open transaction) at once.
      json::array requests{json::object{{"type", "close"}}};
      pipeline(std::move(requests), false, false);
    } catch (...) {
      // The server expires abandoned streams itself.
    }
  }
  open_ = false;
  in_transaction_ = false;
  baton_.reset();
  stream_http_.reset();
  http_->disconnect();
  if (cursor_http_) cursor_http_->disconnect();
  if (ws_) ws_->disconnect();
}

void RemoteConnection::ping() {
  require_open();
  static const sql::Classification kSelect = sql::classify("SELECT 1");
  execute("SELECT 1", kSelect, true, {});
}

std::shared_ptr<Statement> RemoteConnection::prepare(std::string_view sql) {
  require_open();
  auto stmt = std::make_shared<RemoteStatement>(*this, std::string(sql));
  std::erase_if(user_statements_, [](const auto& w) { return w.expired(); });
  user_statements_.push_back(stmt);
  return stmt;
}

StatementLease RemoteConnection::acquire(std::string_view sql, const ExecBudget* /*budget*/) {
  require_open();
  // A server runs one statement per request: several are run as a script by the caller.
  if (sql::split_statements(sql).size() > 1) throw SeveralStatements();
  return StatementLease(std::make_unique<RemoteStatement>(*this, std::string(sql)), nullptr);
}

void RemoteConnection::lose_transaction() noexcept {
  in_transaction_ = false;
  savepoint_depth_ = 0;
  baton_.reset();
  stream_http_.reset();
}

template <class Attempt>
auto RemoteConnection::with_retry(bool idempotent, Attempt&& attempt) {
  Deadline deadline;
  try {
    return attempt(false, deadline);
  } catch (const TransportError& e) {
    if (in_transaction_ || baton_) {
      lose_transaction();
      throw Error(kCodeIoErr,
                  "remote: connection lost inside a transaction; the transaction did not "
                  "complete and was abandoned (" +
                      e.message() + ")",
                  "CONNECTION_LOST");
    }
    // Outside a transaction: a request that cannot have run, or a read, is sent once more on
    // a fresh connection; a write is never repeated.
    if (e.maybe_processed() && !idempotent) {
      throw Error(kCodeIoErr,
                  e.message() + "; the write was not repeated and may or may not have been applied",
                  "CONNECTION_LOST");
    }
    // The retry only has what is left of request_timeout.
    if (deadline && Clock::now() >= *deadline) {
      throw Error(kCodeIoErr, e.message(), "CONNECTION_LOST");
    }
    try {
      return attempt(true, deadline);
    } catch (const TransportError& again) {
      throw Error(kCodeIoErr, again.message(), "CONNECTION_LOST");
    }
  } catch (const Error& e) {
    // interrupt(): the server's stream waits for a reply that was lost with the socket.
    if (e.code() == kCodeInterrupt && (in_transaction_ || baton_)) {
      lose_transaction();
      throw Error(kCodeInterrupt, "interrupted; the transaction was abandoned");
    }
    throw;
  }
}

HttpResponse RemoteConnection::send(std::string_view body, bool idempotent) {
  return with_retry(idempotent, [&](bool retry, Deadline& deadline) {
    // A retry goes to the connection's own address: a moved stream (base_url) is over.
    HttpClient& client = stream_http_ && !retry ? *stream_http_ : *http_;
    const std::string& path = stream_http_ && !retry ? stream_pipeline_path_ : pipeline_path_;
    return client.request(true, path, body, "application/json", &deadline);
  });
}

void RemoteConnection::ws_open(Deadline& deadline) {
  ws_->connect(deadline);
  json::object hello{{"type", "hello"}};
  hello["jwt"] = auth_token_.empty() ? json::value(nullptr) : json::value(auth_token_);
  ws_->send(json::serialize(hello), &deadline);
  json::value reply = json::parse(ws_->receive(&deadline));
  const json::object& obj = reply.as_object();
  if (obj.at("type") != "hello_ok") {
    ws_->disconnect();
    const json::value* err = obj.if_contains("error");
    Error e = server_error(err != nullptr ? *err : json::value());
    throw Error(23, "remote: authentication failed: " + e.message(), e.remote_code());
  }
  json::array open{json::object{{"type", "open_stream"}}};
  // SQL stored on the previous socket is stored again: it belonged to that connection.
  for (const auto& [id, sql] : stored_sql_)
    open.push_back(json::object{{"type", "store_sql"}, {"sql_id", id}, {"sql", sql}});
  json::array results = ws_exchange(open, deadline);
  for (const json::value& result : results) {
    if (result.at("type") != "ok") throw server_error(result.at("error"));
  }
}

std::optional<std::int32_t> RemoteConnection::store_sql(const std::string& sql) {
  if (!ws_) return std::nullopt;
  const std::int32_t id = next_sql_id_++;
  if (next_sql_id_ == INT32_MAX) next_sql_id_ = 1;
  json::array request{json::object{{"type", "store_sql"}, {"sql_id", id}, {"sql", sql}}};
  json::array results = ws_pipeline(request, true);
  if (results.empty() || results[0].at("type") != "ok") {
    throw server_error(results.empty() ? json::value() : results[0].at("error"));
  }
  stored_sql_.emplace(id, sql);
  return id;
}

void RemoteConnection::close_sql(std::int32_t sql_id) noexcept {
  if (stored_sql_.erase(sql_id) == 0 || !ws_ || !open_ || !ws_->connected()) return;
  try {
    Deadline deadline;
    ws_exchange(json::array{json::object{{"type", "close_sql"}, {"sql_id", sql_id}}}, deadline);
  } catch (...) {
    // The server forgets stored SQL with the socket.
  }
}

json::array RemoteConnection::ws_exchange(const json::array& requests, Deadline& deadline) {
  std::vector<std::int32_t> ids;
  json::array results;
  for (const json::value& request : requests) {
    if (request.at("type") == "close") continue;  // the stream lives as long as the socket
    json::object body = request.as_object();
    // store_sql and close_sql belong to the connection, every other request to its stream.
    if (request.at("type") != "store_sql" && request.at("type") != "close_sql")
      body["stream_id"] = 1;
    const std::int32_t id = next_request_id_++;
    if (next_request_id_ == INT32_MAX) next_request_id_ = 1;
    ids.push_back(id);
    ws_->send(json::serialize(json::object{
                  {"type", "request"}, {"request_id", id}, {"request", std::move(body)}}),
              &deadline);
  }
  std::vector<json::value> by_order(ids.size());
  for (std::size_t got = 0; got < ids.size(); ++got) {
    json::value msg = json::parse(ws_->receive(&deadline));
    const json::object& obj = msg.as_object();
    const auto id = static_cast<std::int32_t>(obj.at("request_id").to_number<std::int64_t>());
    const auto at = std::find(ids.begin(), ids.end(), id);
    if (at == ids.end()) {
      throw Error(kCodeError, "remote: reply to an unknown request", "PROTOCOL");
    }
    json::object result;
    if (obj.at("type") == "response_ok") {
      result["type"] = "ok";
      result["response"] = obj.at("response");
    } else {
      result["type"] = "error";
      result["error"] = obj.contains("error") ? obj.at("error") : json::value(nullptr);
    }
    by_order[static_cast<std::size_t>(at - ids.begin())] = std::move(result);
  }
  std::size_t k = 0;
  for (const json::value& request : requests) {
    if (request.at("type") == "close") {
      results.push_back(json::object{{"type", "ok"}, {"response", {{"type", "close"}}}});
    } else {
      results.push_back(std::move(by_order[k++]));
    }
  }
  return results;
}

json::array RemoteConnection::ws_pipeline(const json::array& requests, bool idempotent) {
  return with_retry(idempotent, [&](bool retry, Deadline& deadline) {
    if (retry || !ws_->connected()) ws_open(deadline);
    return ws_exchange(requests, deadline);
  });
}

json::array RemoteConnection::pipeline(json::array requests, bool idempotent, bool end_stream) {
  settle_cursor();
  if (ws_) return ws_pipeline(requests, idempotent);
  if (end_stream && protocol_ != Protocol::Minimal)
    requests.push_back(json::object{{"type", "close"}});
  json::object body;
  body["baton"] = baton_ ? json::value(json::string(*baton_)) : json::value(nullptr);
  body["requests"] = std::move(requests);
  const HttpResponse res = send(json::serialize(body), idempotent);
  if (res.status != 200) {
    const bool had_stream = in_transaction_ || baton_.has_value();
    Error error = http_error(res);
    if (had_stream) {
      lose_transaction();
      throw Error(error.code(), "remote: the transaction was abandoned: " + error.message(),
                  error.remote_code());
    }
    throw error;
  }
  json::error_code ec;
  json::value reply = json::parse(res.body, ec);
  if (ec || !reply.is_object()) {
    throw Error(kCodeError, "remote: malformed server reply (not JSON)", "PROTOCOL");
  }
  json::object& obj = reply.get_object();
  const json::value* baton = obj.if_contains("baton");
  if (baton != nullptr && baton->is_string()) {
    baton_ = std::string(baton->get_string());
  } else {
    baton_.reset();
  }
  follow(obj.if_contains("base_url"));
  if (!baton_) stream_http_.reset();
  json::value* results = obj.if_contains("results");
  if (results == nullptr || !results->is_array()) {
    throw Error(kCodeError, "remote: malformed server reply (no results)", "PROTOCOL");
  }
  return std::move(results->get_array());
}

void RemoteConnection::note_counts(const StmtResult& result, bool write) {
  if (result.last_insert_rowid) last_insert_rowid_ = *result.last_insert_rowid;
  if (write) {
    changes_ = result.affected;
    total_changes_ += result.affected;
  }
}

void RemoteConnection::update_transaction_state(const sql::Classification& cls,
                                                std::string_view sql,
                                                const json::value* autocommit_response,
                                                bool succeeded) {
  if (autocommit_response != nullptr && autocommit_response->is_object()) {
    const auto& o = autocommit_response->get_object();
    if (const auto* r = o.if_contains("response"); r != nullptr && r->is_object()) {
      if (const auto* a = r->get_object().if_contains("is_autocommit"); a && a->is_bool()) {
        const bool was = in_transaction_;
        in_transaction_ = !a->get_bool();
        if (in_transaction_ && !was) serial_ = next_serial_++;
        if (!in_transaction_) savepoint_depth_ = 0;
        return;
      }
    }
  }
  if (!succeeded) return;
  switch (cls.command) {
    case sql::Command::Begin:
      if (!in_transaction_) serial_ = next_serial_++;
      in_transaction_ = true;
      break;
    case sql::Command::Commit:
      in_transaction_ = false;
      savepoint_depth_ = 0;
      break;
    case sql::Command::Rollback:
      if (!sql::rolls_back_to_savepoint(sql)) {
        in_transaction_ = false;
        savepoint_depth_ = 0;
      }
      break;
    case sql::Command::Savepoint:
      if (!in_transaction_) {
        in_transaction_ = true;
        serial_ = next_serial_++;
        savepoint_depth_ = 1;
      } else if (savepoint_depth_ > 0) {
        ++savepoint_depth_;
      }
      break;
    case sql::Command::Release:
      if (savepoint_depth_ > 0 && --savepoint_depth_ == 0) in_transaction_ = false;
      break;
    default:
      break;
  }
}

StmtResult RemoteConnection::execute(const std::string& sql, const sql::Classification& cls,
                                     bool readonly, const std::vector<Value>& args,
                                     std::optional<std::int32_t> sql_id) {
  require_open();
  const bool dml = cls.command == sql::Command::Insert || cls.command == sql::Command::Update ||
                   cls.command == sql::Command::Delete;
  // tursodb reports no counts: ask SQLite for them in the same batch.
  const bool need_counts = protocol_ == Protocol::Minimal && dml;
  json::array requests;
  if (need_counts) {
    json::object req = execute_request(sql, args);
    json::array steps;
    steps.push_back(json::object{{"stmt", std::move(req["stmt"])}});
    steps.push_back(step_object(kCountsSql, {}, cond_ok(0)));
    requests.push_back(
        json::object{{"type", "batch"}, {"batch", json::object{{"steps", std::move(steps)}}}});
  } else {
    requests.push_back(execute_request(sql, args, sql_id));
  }
  // Outside a transaction only transaction statements can change the autocommit state.
  const bool v3 = protocol_ == Protocol::V3 && (in_transaction_ || cls.is_transaction);
  if (v3) requests.push_back(json::object{{"type", "get_autocommit"}});
  const bool opens = cls.command == sql::Command::Begin || cls.command == sql::Command::Savepoint;
  const bool end_stream = !in_transaction_ && !opens;
  json::array results = pipeline(std::move(requests), readonly, end_stream);
  if (results.empty() || !results[0].is_object()) {
    throw Error(kCodeError, "remote: malformed server reply (empty results)", "PROTOCOL");
  }
  const json::object& first = results[0].get_object();
  const bool ok = first.contains("type") && first.at("type") == "ok";
  update_transaction_state(cls, sql, v3 && results.size() > 1 ? &results[1] : nullptr, ok);
  if (!in_transaction_ && baton_ && protocol_ != Protocol::Minimal) {
    // The transaction ended inside this request: end the stream too.
    baton_.reset();
    stream_http_.reset();
  }
  if (!ok) {
    const json::value* err = first.if_contains("error");
    Error error = server_error(err != nullptr ? *err : json::value());
    if ((error.code() & 0xff) == kCodeConstraint && !cls.is_transaction &&
        error.message().find("FOREIGN KEY constraint failed") != std::string::npos) {
      std::string named = broken_foreign_key(sql, args);
      if (!named.empty()) {
        throw Error(error.code(), error.message() + named, error.remote_code());
      }
    }
    throw error;
  }
  const json::value& response = first.at("response");
  StmtResult result;
  if (need_counts) {
    const json::object& batch = response.at("result").get_object();
    const json::array& step_results = batch.at("step_results").get_array();
    const json::array& step_errors = batch.at("step_errors").get_array();
    if (!step_errors.empty() && !step_errors[0].is_null()) throw server_error(step_errors[0]);
    result = decode_stmt_result(step_results.at(0));
    if (step_results.size() > 1 && !step_results[1].is_null()) {
      StmtResult counts = decode_stmt_result(step_results[1]);
      if (counts.cells.size() == 2) {
        result.affected = std::get<std::int64_t>(counts.cells[0]);
        result.last_insert_rowid = std::get<std::int64_t>(counts.cells[1]);
      }
    }
  } else {
    result = decode_stmt_result(response.at("result"));
  }
  note_counts(result, !readonly && !cls.is_transaction);
  return result;
}

namespace {

// (table, rowid, parent, fkid) of each row PRAGMA foreign_key_check reports.
using Violation = std::tuple<std::string, std::string, std::string, std::int64_t>;

std::string cell_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return {};
}

std::int64_t cell_int(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return -1;
}

std::vector<Violation> violations(const StmtResult& r) {
  std::vector<Violation> out;
  const std::size_t width = r.columns.size();
  if (width < 4) return out;
  for (std::size_t row = 0; row < r.row_count; ++row) {
    const Value* c = &r.cells[row * width];
    out.emplace_back(cell_text(c[0]), cell_text(c[1]), cell_text(c[2]), cell_int(c[3]));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// The server answers only "FOREIGN KEY constraint failed". The statement runs once more in a
// savepoint with foreign keys deferred, PRAGMA foreign_key_check before and after it tells the
// rows it broke, and everything is rolled back, in one request on the current stream. The key
// is named as in local mode (CONSTRAINT name, or Ecto's "<table>_<column>_fkey").
std::string RemoteConnection::broken_foreign_key(const std::string& sql,
                                                 const std::vector<Value>& args) noexcept {
  try {
    json::array stmt_args;
    for (const Value& v : args)
      stmt_args.push_back(encode_value(v));
    json::array steps;
    steps.push_back(step_object("SAVEPOINT ecto_libsql_fk_probe", {}, nullptr));
    steps.push_back(step_object("PRAGMA foreign_key_check", {}, cond_ok(0)));
    steps.push_back(step_object("PRAGMA defer_foreign_keys = ON", {}, cond_ok(1)));
    steps.push_back(step_object(sql, std::move(stmt_args), cond_ok(2)));
    steps.push_back(step_object("PRAGMA foreign_key_check", {}, cond_ok(3)));
    steps.push_back(step_object(
        "SELECT m.name, m.sql, f.id, f.seq, f.\"table\", f.\"from\" FROM sqlite_master AS m, "
        "pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
        {}, cond_ok(0)));
    steps.push_back(step_object("ROLLBACK TO ecto_libsql_fk_probe", {}, cond_ok(0)));
    steps.push_back(step_object("PRAGMA defer_foreign_keys = OFF", {}, cond_ok(0)));
    steps.push_back(step_object("RELEASE ecto_libsql_fk_probe", {}, cond_ok(0)));
    json::array requests;
    requests.push_back(
        json::object{{"type", "batch"}, {"batch", json::object{{"steps", std::move(steps)}}}});
    json::array results = pipeline(std::move(requests), false, !in_transaction_);
    const json::object& first = results.at(0).get_object();
    if (first.at("type") != "ok") return {};
    const json::array& step_results =
        first.at("response").at("result").at("step_results").get_array();
    if (step_results.size() < 6 || step_results[1].is_null() || step_results[4].is_null() ||
        step_results[5].is_null()) {
      return {};
    }
    const std::vector<Violation> before = violations(decode_stmt_result(step_results[1]));
    const std::vector<Violation> after = violations(decode_stmt_result(step_results[4]));
    std::vector<Violation> fresh;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(fresh));
    if (fresh.empty()) return {};
    const auto& [table, rowid, parent, fkid] = fresh.front();
    const StmtResult keys = decode_stmt_result(step_results[5]);
    const std::size_t width = keys.columns.size();
    if (width < 6) return {};
    local::BrokenForeignKey broken{table, {}, parent, {}};
    std::string create_sql;
    for (std::size_t row = 0; row < keys.row_count; ++row) {
      const Value* c = &keys.cells[row * width];
      if (cell_text(c[0]) != table || cell_int(c[2]) != fkid) continue;
      create_sql = cell_text(c[1]);
      broken.parent = cell_text(c[4]);
      broken.columns.push_back(cell_text(c[5]));
    }
    if (broken.columns.empty()) return {};
    for (const auto& written : local::named_foreign_keys(create_sql)) {
      if (written.columns.size() != broken.columns.size()) continue;
      bool same = sql::keyword_equals(written.parent, broken.parent);
      for (std::size_t i = 0; same && i < written.columns.size(); ++i)
        same = sql::keyword_equals(written.columns[i], broken.columns[i]);
      if (same) {
        broken.name = written.name;
        break;
      }
    }
    if (broken.name.empty()) broken.name = table + "_" + broken.columns.front() + "_fkey";
    return local::describe(broken);
  } catch (...) {
    return {};
  }
}

std::vector<ColumnInfo> RemoteConnection::describe(const std::string& sql) {
  require_open();
  if (protocol_ == Protocol::Minimal) {
    throw Error(kCodeMisuse,
                "column metadata of a statement that has not run is not available from this "
                "server (it does not support Hrana describe)");
  }
  json::array requests{json::object{{"type", "describe"}, {"sql", sql}}};
  json::array results = pipeline(std::move(requests), true, !in_transaction_);
  const json::object& first = results.at(0).get_object();
  if (first.at("type") != "ok") throw server_error(first.at("error"));
  const json::object& r = first.at("response").at("result").get_object();
  std::vector<ColumnInfo> out;
  for (const json::value& col : r.at("cols").get_array()) {
    const json::object& c = col.get_object();
    const json::value* name = c.if_contains("name");
    const json::value* decl = c.if_contains("decltype");
    std::string n = name != nullptr && name->is_string() ? std::string(name->get_string()) : "";
    out.push_back(ColumnInfo{n, n,
                             decl != nullptr && decl->is_string()
                                 ? std::optional<std::string>(std::string(decl->get_string()))
                                 : std::nullopt});
  }
  return out;
}

void RemoteConnection::batch(std::span<const BatchStep> steps, bool transactional,
                             const std::function<void(std::size_t, RowReader&)>& on_result) {
  require_open();
  json::array hsteps;
  std::vector<std::size_t> index_of(steps.size());
  std::vector<std::size_t> counts_of(steps.size(), SIZE_MAX);
  std::vector<sql::Classification> classes(steps.size());
  const bool outer = transactional && !in_transaction_;
  if (transactional) {
    hsteps.push_back(step_object(outer ? "BEGIN" : "SAVEPOINT ecto_libsql_batch", {}, nullptr));
  }
  std::optional<std::size_t> previous =
      transactional ? std::optional<std::size_t>(0) : std::nullopt;
  bool all_read = true;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    classes[i] = sql::classify(steps[i].sql);
    const auto& cls = classes[i];
    const bool dml = cls.command == sql::Command::Insert || cls.command == sql::Command::Update ||
                     cls.command == sql::Command::Delete;
    if (!(cls.command == sql::Command::Select && !cls.has_returning)) all_read = false;
    RemoteStatement probe(*this, std::string(steps[i].sql));
    probe.bind(steps[i].params);  // checks the parameters and orders named ones
    json::array args;
    // Rebuild the arguments in SQL order through a bound statement.
    {
      const std::vector<std::string> names = sql::parameter_names(steps[i].sql);
      if (!steps[i].params.is_named) {
        for (const ParamValue& v : steps[i].params.positional)
          args.push_back(encode_param(v));
      } else {
        for (const std::string& name : names) {
          for (const NamedParam& p : steps[i].params.named) {
            if (p.name == name || (!name.empty() && name.substr(1) == p.name)) {
              args.push_back(encode_param(p.value));
              break;
            }
          }
        }
      }
    }
    index_of[i] = hsteps.size();
    hsteps.push_back(step_object(steps[i].sql, std::move(args),
                                 previous ? cond_ok(*previous) : json::value(nullptr)));
    previous = index_of[i];
    if (protocol_ == Protocol::Minimal && dml) {
      counts_of[i] = hsteps.size();
      hsteps.push_back(step_object(kCountsSql, {}, cond_ok(index_of[i])));
    }
  }
  std::size_t finish = SIZE_MAX;
  if (transactional) {
    finish = hsteps.size();
    hsteps.push_back(step_object(outer ? "COMMIT" : "RELEASE ecto_libsql_batch", {},
                                 previous ? cond_ok(*previous) : json::value(nullptr)));
    if (outer) {
      hsteps.push_back(step_object("ROLLBACK", {}, cond_not_ok(finish)));
    } else {
      hsteps.push_back(step_object("ROLLBACK TO ecto_libsql_batch", {}, cond_not_ok(finish)));
      hsteps.push_back(step_object("RELEASE ecto_libsql_batch", {}, cond_not_ok(finish)));
    }
  }
  json::array requests;
  requests.push_back(
      json::object{{"type", "batch"}, {"batch", json::object{{"steps", std::move(hsteps)}}}});
  const bool v3 = protocol_ == Protocol::V3;
  if (v3) requests.push_back(json::object{{"type", "get_autocommit"}});
  json::array results = pipeline(std::move(requests), all_read, !in_transaction_);
  if (v3 && results.size() > 1) {
    static const sql::Classification kNone{};
    update_transaction_state(kNone, "", &results[1], true);
  }
  if (!in_transaction_ && baton_ && protocol_ != Protocol::Minimal) {
    baton_.reset();
    stream_http_.reset();
  }
  const json::object& first = results.at(0).get_object();
  if (first.at("type") != "ok") throw server_error(first.at("error"));
  const json::object& batch = first.at("response").at("result").get_object();
  const json::array& step_results = batch.at("step_results").get_array();
  const json::array& step_errors = batch.at("step_errors").get_array();
  auto error_at = [&](std::size_t k) -> const json::value* {
    if (k < step_errors.size() && !step_errors[k].is_null()) return &step_errors[k];
    return nullptr;
  };
  if (transactional) {
    if (const json::value* e = error_at(0)) throw server_error(*e);
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (const json::value* e = error_at(index_of[i])) throw server_error(*e);
  }
  if (transactional) {
    if (const json::value* e = error_at(finish)) throw server_error(*e);
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::size_t k = index_of[i];
    if (k >= step_results.size() || step_results[k].is_null()) {
      throw Error(kCodeError, "remote: batch step " + std::to_string(i) + " did not run",
                  "PROTOCOL");
    }
    StmtResult r = decode_stmt_result(step_results[k]);
    if (counts_of[i] != SIZE_MAX && counts_of[i] < step_results.size() &&
        !step_results[counts_of[i]].is_null()) {
      StmtResult counts = decode_stmt_result(step_results[counts_of[i]]);
      if (counts.cells.size() == 2) {
        r.affected = std::get<std::int64_t>(counts.cells[0]);
        r.last_insert_rowid = std::get<std::int64_t>(counts.cells[1]);
      }
    }
    const auto& cls = classes[i];
    note_counts(
        r, !(cls.command == sql::Command::Select && !cls.has_returning) && !cls.is_transaction);
    ResultReader reader(std::move(r));
    on_result(i, reader);
  }
}

std::uint64_t RemoteConnection::begin(TransactionBehaviour behaviour,
                                      const ExecBudget* /*budget*/) {
  require_open();
  if (in_transaction_) {
    throw Error(kCodeError, "cannot start a transaction within a transaction");
  }
  const char* sql = behaviour == TransactionBehaviour::Immediate   ? "BEGIN IMMEDIATE"
                    : behaviour == TransactionBehaviour::Exclusive ? "BEGIN EXCLUSIVE"
                                                                   : "BEGIN DEFERRED";
  const sql::Classification cls = sql::classify(sql);
  execute(sql, cls, false, {});
  if (!in_transaction_) {
    in_transaction_ = true;
    serial_ = next_serial_++;
  }
  return serial_;
}

void RemoteConnection::commit() {
  require_open();
  static const sql::Classification kCommit = sql::classify("COMMIT");
  execute("COMMIT", kCommit, false, {});
}

void RemoteConnection::rollback() {
  require_open();
  if (!in_transaction_) return;
  static const sql::Classification kRollback = sql::classify("ROLLBACK");
  execute("ROLLBACK", kRollback, false, {});
}

void RemoteConnection::reset() {
  require_open();
  if (in_transaction_) {
    try {
      rollback();
    } catch (const Error&) {
      lose_transaction();
    }
  }
}

}  // namespace ecto_libsql::remote
