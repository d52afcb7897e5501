#include <algorithm>

#include "remote_connection.hpp"

namespace ecto_libsql::remote {

// --- ResultReader ----------------------------------------------------------------------------

std::string_view ResultReader::column_name(int index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= result_.columns.size())
    throw Error(kCodeRange, "column index out of range");
  return result_.columns[static_cast<std::size_t>(index)];
}

Step ResultReader::step(const ExecBudget* /*budget*/) {
  if (next_ >= result_.row_count) return Step::Done;
  ++next_;
  return Step::Row;
}

const Value& ResultReader::cell(int index) const {
  const std::size_t cols = result_.columns.size();
  if (next_ == 0 || index < 0 || static_cast<std::size_t>(index) >= cols)
    throw Error(kCodeRange, "no row or column index out of range");
  return result_.cells[(next_ - 1) * cols + static_cast<std::size_t>(index)];
}

ValueType ValueRowReader::column_type(int index) const {
  const Value& v = cell(index);
  switch (v.index()) {
    case 0:
      return ValueType::Null;
    case 1:
      return ValueType::Integer;
    case 2:
      return ValueType::Float;
    case 3:
      return ValueType::Text;
    default:
      return ValueType::Blob;
  }
}

std::int64_t ValueRowReader::column_int64(int index) const {
  const Value& v = cell(index);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  return 0;
}

double ValueRowReader::column_double(int index) const {
  const Value& v = cell(index);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return 0.0;
}

std::string_view ValueRowReader::column_text(int index) const {
  const Value& v = cell(index);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<std::vector<std::byte>>(&v))
    return {reinterpret_cast<const char*>(b->data()), b->size()};  // NOLINT
  return {};
}

std::span<const std::byte> ValueRowReader::column_blob(int index) const {
  const Value& v = cell(index);
  if (const auto* b = std::get_if<std::vector<std::byte>>(&v)) return *b;
  if (const auto* s = std::get_if<std::string>(&v))
    return {reinterpret_cast<const std::byte*>(s->data()), s->size()};  // NOLINT
  return {};
}

// --- RemoteStatement -------------------------------------------------------------------------

namespace {

Value owned(const ParamValue& value) {
  return std::visit(
      [](const auto& v) -> Value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          return std::string(v);
        } else if constexpr (std::is_same_v<T, BlobView>) {
          return std::vector<std::byte>(v.bytes.begin(), v.bytes.end());
        } else {
          return v;
        }
      },
      value);
}

bool name_matches(std::string_view given, std::string_view wanted) {
  if (given == wanted) return true;
  return !wanted.empty() && wanted.substr(1) == given;
}

}  // namespace

RemoteStatement::RemoteStatement(RemoteConnection& conn, std::string sql)
    : conn_(&conn),
      sql_(std::move(sql)),
      cls_(sql::classify(sql_)),
      readonly_(cls_.command == sql::Command::Select && !cls_.has_returning),
      names_(sql::parameter_names(sql_)) {
  if (cls_.is_empty) throw Error(kCodeMisuse, "No SQL statement given");
}

void RemoteStatement::require_open() const {
  if (conn_ == nullptr) throw_misuse("Statement not found: it is closed");
  conn_->require_open();
}

RemoteStatement::~RemoteStatement() {
  close();
}

void RemoteStatement::close() noexcept {
  streamed_.reset();  // uses the connection: before it is forgotten
  if (conn_ != nullptr && sql_id_) conn_->close_sql(*sql_id_);
  sql_id_.reset();
  conn_ = nullptr;
  result_.reset();
}

std::optional<std::string> RemoteStatement::parameter_name(int index) const {
  if (index < 1 || index > parameter_count())
    throw Error(kCodeRange, "Parameter index " + std::to_string(index) + " out of range");
  const std::string& name = names_[static_cast<std::size_t>(index - 1)];
  if (name.empty() || name.front() == '?') return std::nullopt;
  return name;
}

void RemoteStatement::bind(const Params& params) {
  require_open();
  result_.reset();
  streamed_.reset();
  args_.clear();
  bound_ = false;
  const std::size_t count = names_.size();
  if (!params.is_named) {
    if (params.positional.size() != count) {
      throw Error(kCodeRange, "wrong number of parameters: the statement takes " +
                                  std::to_string(count) + ", " +
                                  std::to_string(params.positional.size()) + " given");
    }
    for (const ParamValue& v : params.positional)
      args_.push_back(owned(v));
    bound_ = true;
    return;
  }
  std::string missing;
  std::string required;
  for (const std::string& name : names_) {
    if (name.empty() || name.front() == '?') {
      throw Error(kCodeRange,
                  "Cannot use named parameter map with SQL that has positional parameters (?). "
                  "Use a list of arguments instead.");
    }
    if (!required.empty()) required += ", ";
    required += name;
    auto found = std::find_if(params.named.begin(), params.named.end(),
                              [&](const NamedParam& p) { return name_matches(p.name, name); });
    if (found == params.named.end()) {
      if (!missing.empty()) missing += ", ";
      missing += name;
      continue;
    }
    // Named parameters go to the server by position: every server then binds them alike.
    args_.push_back(owned(found->value));
  }
  if (!missing.empty()) {
    args_.clear();
    throw Error(kCodeRange,
                "Missing required parameters: " + missing + ". SQL requires: " + required);
  }
  bound_ = true;
}

void RemoteStatement::reset() noexcept {
  result_.reset();
  streamed_.reset();
  args_.clear();
  bound_ = false;
}

void RemoteStatement::run() const {
  if (result_ || streamed_) return;
  require_open();
  std::vector<Value> args = args_;
  if (!bound_) args.assign(names_.size(), Null{});
  if (streaming_ && readonly_ && conn_->can_stream()) {
    streamed_ = conn_->stream(sql_, args);
    return;
  }
  if (runs_ > 0 && !store_tried_) {
    store_tried_ = true;
    sql_id_ = conn_->store_sql(sql_);
  }
  ++runs_;
  result_.emplace(conn_->execute(sql_, cls_, readonly_, args, sql_id_));
}

RowReader& RemoteStatement::reader() const {
  run();
  if (streamed_) return *streamed_;
  return *result_;
}

std::vector<ColumnInfo> RemoteStatement::columns() const {
  require_open();
  if (streamed_) {
    std::vector<ColumnInfo> out;
    for (std::size_t i = 0; i < streamed_->columns().size(); ++i) {
      out.push_back(
          ColumnInfo{streamed_->columns()[i], streamed_->columns()[i], streamed_->decltypes()[i]});
    }
    return out;
  }
  if (result_) {
    std::vector<ColumnInfo> out;
    const StmtResult& r = result_->result();
    for (std::size_t i = 0; i < r.columns.size(); ++i)
      out.push_back(ColumnInfo{r.columns[i], r.columns[i], r.decltypes[i]});
    return out;
  }
  if (!described_) described_ = conn_->describe(sql_);
  return *described_;
}

int RemoteStatement::column_count() const {
  require_open();
  if (!result_ && !streamed_ && !bound_ && !names_.empty())
    return static_cast<int>(columns().size());
  return reader().column_count();
}

std::string_view RemoteStatement::column_name(int index) const {
  return reader().column_name(index);
}

Step RemoteStatement::step(const ExecBudget* budget) {
  return reader().step(budget);
}

ValueType RemoteStatement::column_type(int index) const {
  return reader().column_type(index);
}
std::int64_t RemoteStatement::column_int64(int index) const {
  return reader().column_int64(index);
}
double RemoteStatement::column_double(int index) const {
  return reader().column_double(index);
}
std::string_view RemoteStatement::column_text(int index) const {
  return reader().column_text(index);
}
std::span<const std::byte> RemoteStatement::column_blob(int index) const {
  return reader().column_blob(index);
}
std::int64_t RemoteStatement::changes() const {
  if (streamed_) return streamed_->changes();
  return result_ ? result_->changes() : 0;
}
std::int64_t RemoteStatement::last_insert_rowid() const {
  if (streamed_) return streamed_->last_insert_rowid();
  return result_ ? result_->last_insert_rowid() : 0;
}

}  // namespace ecto_libsql::remote
