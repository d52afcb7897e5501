// The remote connection: statements run on the server through Hrana pipelines; results come
// back whole and are read from memory.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/open.hpp"
#include "hrana_json.hpp"
#include "http_client.hpp"
#include "ws_client.hpp"

namespace ecto_libsql::remote {

class RemoteStatement;

// What the server offers, found by probing at connect.
enum class Protocol {
  V3,       // GET /v3 answers: v3 pipeline, get_autocommit, close
  V2,       // GET /v2 answers: v2 pipeline, close
  Minimal,  // only execute and batch on /v2/pipeline (tursodb --sync-server)
};

// Rows of one statement result, read from memory.
class ResultReader : public RowReader {
 public:
  explicit ResultReader(StmtResult result) : result_(std::move(result)) {}
  ResultReader() = default;
  [[nodiscard]] int column_count() const override {
    return static_cast<int>(result_.columns.size());
  }
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] ValueType column_type(int index) const override;
  [[nodiscard]] std::int64_t column_int64(int index) const override;
  [[nodiscard]] double column_double(int index) const override;
  [[nodiscard]] std::string_view column_text(int index) const override;
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override;
  [[nodiscard]] std::int64_t changes() const override { return result_.affected; }
  [[nodiscard]] std::int64_t last_insert_rowid() const override {
    return result_.last_insert_rowid.value_or(0);
  }
  [[nodiscard]] const StmtResult& result() const noexcept { return result_; }
  void rewind() noexcept { next_ = 0; }

 private:
  [[nodiscard]] const Value& cell(int index) const;
  StmtResult result_;
  std::size_t next_ = 0;  // the row step() reads next
};

class RemoteConnection final : public Connection {
 public:
  explicit RemoteConnection(const ConnectOptions& options);
  ~RemoteConnection() override;

  [[nodiscard]] Mode mode() const noexcept override { return Mode::Remote; }
  [[nodiscard]] bool is_open() const noexcept override { return open_; }
  void close() noexcept override;
  void ping() override;
  std::shared_ptr<Statement> prepare(std::string_view sql) override;
  StatementLease acquire(std::string_view sql, const ExecBudget* budget) override;
  void batch(std::span<const BatchStep> steps, bool transactional,
             const std::function<void(std::size_t, RowReader&)>& on_result) override;
  [[nodiscard]] bool always_blocking() const noexcept override { return true; }
  std::uint64_t begin(TransactionBehaviour behaviour, const ExecBudget* budget) override;
  void commit() override;
  void rollback() override;
  [[nodiscard]] bool autocommit() const override { return !in_transaction_; }
  [[nodiscard]] std::uint64_t transaction_serial() const noexcept override {
    return in_transaction_ ? serial_ : 0;
  }
  [[nodiscard]] std::int64_t last_insert_rowid() const override { return last_insert_rowid_; }
  [[nodiscard]] std::int64_t changes() const override { return changes_; }
  [[nodiscard]] std::int64_t total_changes() const override { return total_changes_; }
  void set_busy_timeout(int milliseconds) override { busy_timeout_ms_ = milliseconds; }
  // Aborts the HTTP request in flight (WebSocket requests run to their end).
  void interrupt() noexcept override { interrupter_.interrupt(); }
  void reset() override;

  // --- used by RemoteStatement ---------------------------------------------------------------
  StmtResult execute(const std::string& sql, const sql::Classification& cls, bool readonly,
                     const std::vector<Value>& args);
  // Column names and declared types of `sql` without running it (needs `describe`).
  std::vector<ColumnInfo> describe(const std::string& sql);
  void require_open() const;
  [[nodiscard]] Protocol protocol() const noexcept { return protocol_; }

 private:
  // Sends `requests` on the current stream and answers the per-request results. `idempotent`
  // allows one retry on a fresh connection when the connection was lost outside a transaction;
  // `end_stream` closes the stream after the requests (when the server knows `close`).
  json::array pipeline(json::array requests, bool idempotent, bool end_stream);
  HttpResponse send(std::string_view body, bool idempotent);
  // The same over a WebSocket (Hrana 3): one stream per connection, opened at connect.
  json::array ws_pipeline(const json::array& requests, bool idempotent);
  json::array ws_exchange(const json::array& requests);
  void ws_open();
  void lose_transaction() noexcept;
  // ": child.col (foreign key: name)" for a statement that failed with a foreign key
  // violation, found by running it again in a savepoint; empty when it cannot be found.
  std::string broken_foreign_key(const std::string& sql, const std::vector<Value>& args) noexcept;
  void note_counts(const StmtResult& result, bool write);
  void update_transaction_state(const sql::Classification& cls, std::string_view sql,
                                const json::value* autocommit_response, bool succeeded);

  Interrupter interrupter_;  // declared before the clients that point at it
  std::string auth_token_;
  std::string ca_file_;  // ConnectOptions::tls_ca_file
  std::chrono::milliseconds connect_timeout_{};
  std::chrono::milliseconds request_timeout_{};
  std::string pipeline_path_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<WsClient> ws_;
  std::int32_t next_request_id_ = 1;
  // The client for a stream the server moved to another address (`base_url`).
  std::unique_ptr<HttpClient> stream_http_;
  std::string stream_pipeline_path_;
  Protocol protocol_ = Protocol::Minimal;
  std::optional<std::string> baton_;
  bool open_ = true;
  bool in_transaction_ = false;
  int savepoint_depth_ = 0;  // savepoints that opened the transaction (no BEGIN)
  std::uint64_t serial_ = 0;
  std::uint64_t next_serial_ = 1;
  std::int64_t last_insert_rowid_ = 0;
  std::int64_t changes_ = 0;
  std::int64_t total_changes_ = 0;
  int busy_timeout_ms_ = 5000;
  std::vector<std::weak_ptr<RemoteStatement>> user_statements_;
};

class RemoteStatement final : public Statement {
 public:
  RemoteStatement(RemoteConnection& conn, std::string sql);
  [[nodiscard]] std::string_view sql() const override { return sql_; }
  [[nodiscard]] const sql::Classification& classification() const override { return cls_; }
  [[nodiscard]] bool readonly() const override { return readonly_; }
  [[nodiscard]] int parameter_count() const override { return static_cast<int>(names_.size()); }
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override;
  [[nodiscard]] std::vector<ColumnInfo> columns() const override;
  void bind(const Params& params) override;
  void reset() noexcept override;
  [[nodiscard]] bool closed() const noexcept override { return conn_ == nullptr; }
  void close() noexcept override;
  [[nodiscard]] bool blocking() const noexcept override { return true; }

  [[nodiscard]] int column_count() const override;
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] ValueType column_type(int index) const override;
  [[nodiscard]] std::int64_t column_int64(int index) const override;
  [[nodiscard]] double column_double(int index) const override;
  [[nodiscard]] std::string_view column_text(int index) const override;
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override;
  [[nodiscard]] std::int64_t changes() const override;
  [[nodiscard]] std::int64_t last_insert_rowid() const override;

 private:
  void require_open() const;
  // Runs the statement with its bindings unless it has run since the last bind or reset.
  void run() const;

  RemoteConnection* conn_;
  std::string sql_;
  sql::Classification cls_;
  bool readonly_;
  std::vector<std::string> names_;
  std::vector<Value> args_;
  bool bound_ = false;
  mutable std::optional<ResultReader> result_;
  mutable std::optional<std::vector<ColumnInfo>> described_;
};

}  // namespace ecto_libsql::remote
