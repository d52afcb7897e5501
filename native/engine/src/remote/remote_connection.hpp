// The remote connection: statements run on the server through the connection's Hrana stream
// (hrana_stream.hpp); results come back whole and are read from memory, except cursors on
// Hrana 3 servers over HTTP, which read their rows from a `v3/cursor` answer as they are
// stepped (remote_cursor.hpp). Batches are translated by hrana_batch.hpp, foreign key failures
// explained by foreign_key_probe.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/open.hpp"
#include "hrana_stream.hpp"
#include "remote_cursor.hpp"
#include "value_rows.hpp"

namespace ecto_libsql::remote {

class RemoteStatement;

class RemoteConnection final : public Connection {
 public:
  explicit RemoteConnection(const ConnectOptions& options);
  ~RemoteConnection() override;

  [[nodiscard]] Mode mode() const noexcept override { return Mode::Remote; }
  [[nodiscard]] bool is_open() const noexcept override { return open_; }
  void close() noexcept override;
  void ping() override;
  std::shared_ptr<Statement> prepare(std::string_view sql) override;
  std::shared_ptr<Statement> open_cursor(std::string_view sql, const Params& params) override;
  StatementLease acquire(std::string_view sql, const ExecBudget* budget) override;
  void batch(std::span<const BatchStep> steps, bool transactional,
             const std::function<void(std::size_t, RowReader&)>& on_result) override;
  [[nodiscard]] bool always_blocking() const noexcept override { return true; }
  std::uint64_t begin(TransactionBehaviour behaviour, const ExecBudget* budget) override;
  void commit() override;
  void rollback() override;
  [[nodiscard]] bool autocommit() const override { return !stream_.transaction().open(); }
  [[nodiscard]] std::uint64_t transaction_serial() const noexcept override {
    return stream_.transaction().serial();
  }
  [[nodiscard]] std::int64_t last_insert_rowid() const override { return last_insert_rowid_; }
  [[nodiscard]] std::int64_t changes() const override { return changes_; }
  [[nodiscard]] std::int64_t total_changes() const override { return total_changes_; }
  void set_busy_timeout(int milliseconds) override { busy_timeout_ms_ = milliseconds; }
  // Aborts the request in flight: its socket is shut down.
  void interrupt() noexcept override { stream_.interrupter().interrupt(); }
  [[nodiscard]] std::uint64_t interrupt_count() const noexcept override {
    return stream_.interrupter().count();
  }
  void reset() override;

  // --- used by RemoteStatement ---------------------------------------------------------------
  // `sql_id`: the SQL stored on the server for a prepared statement (HranaStream::store_sql),
  // sent in place of the text.
  StmtResult execute(const std::string& sql, const sql::Classification& cls, bool readonly,
                     const std::vector<Value>& args, std::optional<std::int32_t> sql_id = {});
  // Column names and declared types of `sql` without running it (needs `describe`).
  std::vector<ColumnInfo> describe(const std::string& sql);
  void require_open() const;
  [[nodiscard]] HranaStream& hrana() noexcept { return stream_; }

 private:
  // The transaction state after a request: from the server's answer to `get_autocommit` when
  // it was asked (`autocommit_result`), else from the statement that ran.
  void follow_transaction(const sql::Classification& cls, std::string_view sql,
                          const json::value* autocommit_result, bool succeeded);
  void note_counts(const StmtResult& result, bool write);

  HranaStream stream_;
  bool open_ = true;
  std::int64_t last_insert_rowid_ = 0;
  std::int64_t changes_ = 0;
  std::int64_t total_changes_ = 0;
  int busy_timeout_ms_ = 5000;
  std::vector<std::weak_ptr<RemoteStatement>> user_statements_;
};

class RemoteStatement final : public Statement {
 public:
  RemoteStatement(RemoteConnection& conn, std::string sql);
  ~RemoteStatement() override;
  RemoteStatement(const RemoteStatement&) = delete;
  RemoteStatement& operator=(const RemoteStatement&) = delete;
  RemoteStatement(RemoteStatement&&) = delete;
  RemoteStatement& operator=(RemoteStatement&&) = delete;
  [[nodiscard]] std::string_view sql() const override { return sql_; }
  [[nodiscard]] const sql::Classification& classification() const override { return cls_; }
  [[nodiscard]] bool readonly() const override { return readonly_; }
  [[nodiscard]] int parameter_count() const override { return static_cast<int>(names_.size()); }
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override;
  [[nodiscard]] std::vector<ColumnInfo> columns() const override;
  void bind(const Params& params) override;
  // Reads the rows from a `v3/cursor` answer as they are stepped, where the server offers it.
  void stream_rows() noexcept { streaming_ = true; }
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
  // The rows of the last run.
  [[nodiscard]] RowReader& reader() const;

  RemoteConnection* conn_;
  std::string sql_;
  sql::Classification cls_;
  bool readonly_;
  std::vector<std::string> names_;
  std::vector<Value> args_;
  bool bound_ = false;
  bool streaming_ = false;
  // Runs so far; a statement run again is stored on the server (store_sql, over WebSocket) and
  // sent by id from then on.
  mutable int runs_ = 0;
  mutable bool store_tried_ = false;
  mutable std::optional<std::int32_t> sql_id_;
  mutable std::optional<ResultReader> result_;
  mutable std::unique_ptr<CursorReader> streamed_;
  mutable std::optional<std::vector<ColumnInfo>> described_;
};

}  // namespace ecto_libsql::remote
