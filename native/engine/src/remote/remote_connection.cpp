#include "remote_connection.hpp"

#include "ecto_libsql/remote/remote.hpp"
#include "foreign_key_probe.hpp"
#include "hrana_batch.hpp"

namespace ecto_libsql::remote {

std::shared_ptr<Connection> open_remote(const ConnectOptions& options) {
  return std::make_shared<RemoteConnection>(options);
}

RemoteConnection::RemoteConnection(const ConnectOptions& options)
    : stream_(options), busy_timeout_ms_(options.busy_timeout_ms) {}

RemoteConnection::~RemoteConnection() {
  close();
}

void RemoteConnection::require_open() const {
  if (!open_) throw_misuse("Connection is closed");
}

void RemoteConnection::close() noexcept {
  if (!open_) return;
  stream_.forget_stored_sql();  // the server forgets it with the socket: no close_sql for each
  for (auto& weak : user_statements_) {
    if (auto stmt = weak.lock()) stmt->close();
  }
  user_statements_.clear();
  stream_.close();
  open_ = false;
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

std::shared_ptr<Statement> RemoteConnection::open_cursor(std::string_view sql,
                                                         const Params& params) {
  std::shared_ptr<Statement> stmt = prepare(sql);
  stmt->bind(params);
  std::static_pointer_cast<RemoteStatement>(stmt)->stream_rows();
  return stmt;
}

StatementLease RemoteConnection::acquire(std::string_view sql, const ExecBudget* /*budget*/) {
  require_open();
  // A server runs one statement per request: several are run as a script by the caller.
  if (sql::split_statements(sql).size() > 1) throw SeveralStatements();
  return StatementLease(std::make_unique<RemoteStatement>(*this, std::string(sql)), nullptr);
}

void RemoteConnection::note_counts(const StmtResult& result, bool write) {
  if (result.last_insert_rowid) last_insert_rowid_ = *result.last_insert_rowid;
  if (write) {
    changes_ = result.affected;
    total_changes_ += result.affected;
  }
}

void RemoteConnection::follow_transaction(const sql::Classification& cls, std::string_view sql,
                                          const json::value* autocommit_result, bool succeeded) {
  TransactionState& transaction = stream_.transaction();
  if (autocommit_result != nullptr && autocommit_result->is_object()) {
    const auto& o = autocommit_result->get_object();
    if (const auto* r = o.if_contains("response"); r != nullptr && r->is_object()) {
      if (const auto* a = r->get_object().if_contains("is_autocommit"); a && a->is_bool()) {
        transaction.autocommit_is(a->get_bool());
        stream_.end_if_idle();
        return;
      }
    }
  }
  transaction.ran(cls, sql, succeeded);
  // The transaction ended inside this request: the stream ends too.
  stream_.end_if_idle();
}

StmtResult RemoteConnection::execute(const std::string& sql, const sql::Classification& cls,
                                     bool readonly, const std::vector<Value>& args,
                                     std::optional<std::int32_t> sql_id) {
  require_open();
  const bool in_transaction = stream_.transaction().open();
  // tursodb reports no counts: ask SQLite for them in the same batch.
  const bool ask_counts = stream_.protocol() == Protocol::Minimal && is_dml(cls);
  json::array requests;
  if (ask_counts) {
    json::array steps{batch_step(sql, encode_values(args))};
    add_counts_step(steps, 0);
    requests.push_back(batch_request(std::move(steps)));
  } else {
    requests.push_back(execute_request(sql, args, sql_id));
  }
  // Outside a transaction only transaction statements can change the autocommit state.
  const bool v3 = stream_.protocol() == Protocol::V3 && (in_transaction || cls.is_transaction);
  if (v3) requests.push_back(json::object{{"type", "get_autocommit"}});
  const bool opens = cls.command == sql::Command::Begin || cls.command == sql::Command::Savepoint;
  json::array results = stream_.pipeline(std::move(requests), readonly, !in_transaction && !opens);
  if (results.empty() || !results[0].is_object()) {
    throw Error(kCodeError, "remote: malformed server reply (empty results)", "PROTOCOL");
  }
  const json::object& first = results[0].get_object();
  const bool ok = first.contains("type") && first.at("type") == "ok";
  follow_transaction(cls, sql, v3 && results.size() > 1 ? &results[1] : nullptr, ok);
  if (!ok) {
    const json::value* err = first.if_contains("error");
    Error error = server_error(err != nullptr ? *err : json::value());
    if ((error.code() & 0xff) == kCodeConstraint && !cls.is_transaction &&
        error.message().find("FOREIGN KEY constraint failed") != std::string::npos) {
      if (auto broken = find_broken_foreign_key(stream_, sql, args)) {
        throw foreign_key_error(error, *broken);
      }
    }
    throw error;
  }
  const json::value& response = first.at("response");
  StmtResult result;
  if (ask_counts) {
    const json::object& batch = response.at("result").get_object();
    const json::array& step_results = batch.at("step_results").get_array();
    const json::array& step_errors = batch.at("step_errors").get_array();
    if (step_results.empty()) {
      throw Error(kCodeError, "remote: malformed server reply (empty batch results)", "PROTOCOL");
    }
    if (!step_errors[0].is_null()) throw server_error(step_errors[0]);
    result = decode_stmt_result(step_results[0]);
    if (step_results.size() > 1) take_counts(result, step_results[1]);
  } else {
    result = decode_stmt_result(response.at("result"));
  }
  note_counts(result, !readonly && !cls.is_transaction);
  return result;
}

std::vector<ColumnInfo> RemoteConnection::describe(const std::string& sql) {
  require_open();
  if (stream_.protocol() == Protocol::Minimal) {
    throw Error(kCodeMisuse,
                "column metadata of a statement that has not run is not available from this "
                "server (it does not support Hrana describe)");
  }
  json::array requests{json::object{{"type", "describe"}, {"sql", sql}}};
  json::array results = stream_.pipeline(std::move(requests), true, !stream_.transaction().open());
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
  const bool in_transaction = stream_.transaction().open();
  HranaBatch batch(steps, transactional, in_transaction, stream_.protocol() == Protocol::Minimal);
  json::array requests{batch.take_request()};
  const bool v3 = stream_.protocol() == Protocol::V3;
  if (v3) requests.push_back(json::object{{"type", "get_autocommit"}});
  json::array results = stream_.pipeline(std::move(requests), batch.read_only(), !in_transaction);
  static const sql::Classification kNone{};
  follow_transaction(kNone, "", v3 && results.size() > 1 ? &results[1] : nullptr, true);
  const json::object& first = results.at(0).get_object();
  if (first.at("type") != "ok") throw server_error(first.at("error"));
  std::vector<StmtResult> step_results =
      batch.results(first.at("response").at("result").get_object());
  for (std::size_t i = 0; i < step_results.size(); ++i) {
    const sql::Classification& cls = batch.classification(i);
    note_counts(step_results[i], !is_plain_read(cls) && !cls.is_transaction);
    ResultReader reader(std::move(step_results[i]));
    on_result(i, reader);
  }
}

std::uint64_t RemoteConnection::begin(TransactionBehaviour behaviour,
                                      const ExecBudget* /*budget*/) {
  require_open();
  if (stream_.transaction().open()) {
    throw Error(kCodeError, "cannot start a transaction within a transaction");
  }
  const char* sql = behaviour == TransactionBehaviour::Immediate   ? "BEGIN IMMEDIATE"
                    : behaviour == TransactionBehaviour::Exclusive ? "BEGIN EXCLUSIVE"
                                                                   : "BEGIN DEFERRED";
  const sql::Classification cls = sql::classify(sql);
  execute(sql, cls, false, {});
  stream_.transaction().begun();
  return stream_.transaction().serial();
}

void RemoteConnection::commit() {
  require_open();
  static const sql::Classification kCommit = sql::classify("COMMIT");
  execute("COMMIT", kCommit, false, {});
}

void RemoteConnection::rollback() {
  require_open();
  if (!stream_.transaction().open()) return;
  static const sql::Classification kRollback = sql::classify("ROLLBACK");
  execute("ROLLBACK", kRollback, false, {});
}

void RemoteConnection::reset() {
  require_open();
  if (stream_.transaction().open()) {
    try {
      rollback();
    } catch (const Error&) {
      stream_.abandon();
    }
  }
}

}  // namespace ecto_libsql::remote
