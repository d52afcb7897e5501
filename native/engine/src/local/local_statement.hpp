// A prepared SQLite statement of a LocalConnection.
#pragma once

#include <sqlite3.h>

#include <string>

#include "ecto_libsql/connection.hpp"

namespace ecto_libsql::local {

class LocalConnection;

class LocalStatement final : public Statement {
 public:
  LocalStatement(LocalConnection& conn, sqlite3_stmt* stmt, std::string_view sql);
  ~LocalStatement() override;
  LocalStatement(const LocalStatement&) = delete;
  LocalStatement& operator=(const LocalStatement&) = delete;

  [[nodiscard]] int column_count() const override;
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] ValueType column_type(int index) const override {
    return static_cast<ValueType>(sqlite3_column_type(stmt_, index));
  }
  [[nodiscard]] std::int64_t column_int64(int index) const override {
    return sqlite3_column_int64(stmt_, index);
  }
  [[nodiscard]] double column_double(int index) const override {
    return sqlite3_column_double(stmt_, index);
  }
  [[nodiscard]] std::string_view column_text(int index) const override;
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override;
  [[nodiscard]] std::int64_t changes() const override { return changes_; }
  [[nodiscard]] std::int64_t last_insert_rowid() const override;

  [[nodiscard]] std::string_view sql() const override { return sql_; }
  [[nodiscard]] const sql::Classification& classification() const override {
    return classification_;
  }
  [[nodiscard]] bool readonly() const override { return readonly_; }
  [[nodiscard]] int parameter_count() const override;
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override;
  [[nodiscard]] std::vector<ColumnInfo> columns() const override;
  void bind(const Params& params) override;
  void reset() noexcept override;
  [[nodiscard]] bool closed() const noexcept override { return stmt_ == nullptr; }
  void close() noexcept override;
  // Writes that maintain a vector index may take long.
  [[nodiscard]] bool blocking() const noexcept override;

 private:
  void require_open() const;
  void bind_value(int index, const ParamValue& value, bool borrowed);

  LocalConnection* conn_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  sql::Classification classification_;
  bool readonly_;
  std::int64_t changes_ = 0;
  bool dirty_ = false;  // stepped or bound since the last reset
};

}  // namespace ecto_libsql::local
