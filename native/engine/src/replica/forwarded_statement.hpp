// A statement of a replica that runs on the server: writes, and everything inside a
// transaction that has written. The local statement supplies the metadata (parameters,
// columns); the remote one runs when the statement is first stepped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ecto_libsql/connection.hpp"

namespace ecto_libsql::replica {

class ReplicaConnection;

class ForwardedStatement final : public Statement {
 public:
  ForwardedStatement(std::weak_ptr<ReplicaConnection> owner, std::string sql,
                     std::shared_ptr<Statement> local);

  [[nodiscard]] std::string_view sql() const override { return sql_; }
  [[nodiscard]] const sql::Classification& classification() const override {
    return local_->classification();
  }
  [[nodiscard]] bool readonly() const override { return false; }
  [[nodiscard]] int parameter_count() const override { return local_->parameter_count(); }
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override {
    return local_->parameter_name(index);
  }
  [[nodiscard]] std::vector<ColumnInfo> columns() const override { return local_->columns(); }
  void bind(const Params& params) override;
  void reset() noexcept override;
  [[nodiscard]] bool closed() const noexcept override { return local_->closed(); }
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
  const RowReader& rows() const;

  std::weak_ptr<ReplicaConnection> owner_;
  std::string sql_;
  std::shared_ptr<Statement> local_;
  std::shared_ptr<Statement> remote_;
  // Owned copies of the bound parameters (the caller's bytes may not outlive bind()).
  std::vector<Value> values_;
  std::vector<std::string> names_;
  bool named_ = false;
};

}  // namespace ecto_libsql::replica
