#include "ecto_libsql/parameters.hpp"
#include "remote_connection.hpp"

namespace ecto_libsql::remote {

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
  if (conn_ != nullptr && sql_id_) conn_->hrana().close_sql(*sql_id_);
  sql_id_.reset();
  conn_ = nullptr;
  result_.reset();
}

std::optional<std::string> RemoteStatement::parameter_name(int index) const {
  if (index < 1 || index > parameter_count())
    throw Error(kCodeRange, "Parameter index " + std::to_string(index) + " out of range");
  // As SQLite names them: "?NNN" for a numbered parameter, none for `?`.
  const std::string& name = names_[static_cast<std::size_t>(index - 1)];
  if (name.empty()) return std::nullopt;
  return name;
}

void RemoteStatement::bind(const Params& params) {
  require_open();
  result_.reset();
  streamed_.reset();
  args_.clear();
  bound_ = false;
  // Named parameters go to the server by position: every server then binds them alike.
  for (const ParamValue* value : parameter_values(names_, params))
    args_.push_back(owned_value(*value));
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
  if (streaming_ && readonly_ && conn_->hrana().can_stream()) {
    streamed_ = conn_->hrana().open_cursor(sql_, args);
    return;
  }
  if (runs_ > 0 && !store_tried_) {
    store_tried_ = true;
    sql_id_ = conn_->hrana().store_sql(sql_);
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
  if (streamed_) return streamed_->columns();
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
