// A statement of a replica whose place is chosen when it runs (ReplicaConnection::place_of):
// the local file, or the server for writes and for everything in a transaction that moved
// there. The place holds from the first step until the statement is reset, so a prepared
// statement (or a cursor) follows its transaction. Metadata (parameters, columns) comes from
// the local statement, or from the server's when the local file could not prepare it (a table
// created in the transaction, or by another replica and not pulled yet).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/replica/replica_connection.hpp"

namespace ecto_libsql::replica {

class RoutedStatement final : public Statement {
 public:
  // `local` or `server` (prepared on the server connection) may be null, not both.
  RoutedStatement(std::weak_ptr<ReplicaConnection> owner, std::string sql,
                  std::shared_ptr<Statement> local, std::shared_ptr<Statement> server);

  [[nodiscard]] std::string_view sql() const override { return sql_; }
  [[nodiscard]] const sql::Classification& classification() const override { return cls_; }
  [[nodiscard]] bool readonly() const override;
  [[nodiscard]] int parameter_count() const override { return described().parameter_count(); }
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override {
    return described().parameter_name(index);
  }
  [[nodiscard]] std::vector<ColumnInfo> columns() const override;
  void bind(const Params& params) override;
  void reset() noexcept override;
  [[nodiscard]] bool closed() const noexcept override;
  void close() noexcept override;
  [[nodiscard]] bool blocking() const noexcept override;

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
  // The statement that describes this one before it runs.
  [[nodiscard]] const Statement& described() const;
  [[nodiscard]] bool goes_to_server() const noexcept;
  // Chooses the place and readies the statement there, bound with the parameters.
  Statement& start();
  [[nodiscard]] const RowReader& rows() const;
  // Runs `f`, the first use of the statement where it runs; a failure on the server is reported
  // to the connection (the server or the connection may have ended the transaction).
  template <class F>
  auto on_server_failure(F&& f) -> decltype(f()) {
    if (running_ != server_.get()) return f();
    try {
      return f();
    } catch (...) {
      if (!finished_) {
        finished_ = true;
        if (auto owner = owner_.lock()) owner->after_server_statement(cls_, false);
      }
      throw;
    }
  }
  void require_open() const;

  std::weak_ptr<ReplicaConnection> owner_;
  std::string sql_;
  sql::Classification cls_;
  bool begins_writing_;  // BEGIN IMMEDIATE / EXCLUSIVE
  std::shared_ptr<Statement> local_;
  std::shared_ptr<Statement> server_;
  Statement* running_ = nullptr;  // local_ or server_ from the first step until reset
  bool was_in_transaction_ = false;
  bool finished_ = false;
  bool closed_ = false;
  // Owned copies of the bound parameters in parameter order (the caller's bytes may not outlive
  // bind()), for the place that was not bound by bind().
  std::vector<Value> values_;
  bool bound_ = false;
  const Statement* bound_to_ = nullptr;
};

// True when a statement the local file could not prepare (`local_error`) is a write the server
// may run: an INSERT, UPDATE, DELETE, CREATE, DROP or ALTER naming what the local file does not
// have yet (SQLITE_ERROR). Reads keep the local error.
bool may_run_on_server(const sql::Classification& cls, const Error& local_error) noexcept;

// True for `BEGIN IMMEDIATE` and `BEGIN EXCLUSIVE`: a transaction that will write.
bool begins_writing(std::string_view sql) noexcept;

}  // namespace ecto_libsql::replica
