// A statement that runs vector-index DDL: a CREATE INDEX using libsql_vector_idx(), or a DROP
// INDEX / DROP TABLE that may remove such an index. It wraps the SQLite statement and lets the
// vector module do its part in the same savepoint.
#pragma once

#include <memory>
#include <optional>

#include "ecto_libsql/connection.hpp"
#include "vector/index_sql.hpp"

namespace ecto_libsql::vector {

class Extension;

class DdlStatement final : public Statement {
 public:
  DdlStatement(Extension& ext, std::shared_ptr<Statement> inner,
               std::optional<VectorIndexDefinition> create)
      : ext_(&ext), inner_(std::move(inner)), create_(std::move(create)) {}

  [[nodiscard]] int column_count() const override { return inner_->column_count(); }
  [[nodiscard]] std::string_view column_name(int index) const override {
    return inner_->column_name(index);
  }
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] ValueType column_type(int index) const override {
    return inner_->column_type(index);
  }
  [[nodiscard]] std::int64_t column_int64(int index) const override {
    return inner_->column_int64(index);
  }
  [[nodiscard]] double column_double(int index) const override {
    return inner_->column_double(index);
  }
  [[nodiscard]] std::string_view column_text(int index) const override {
    return inner_->column_text(index);
  }
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override {
    return inner_->column_blob(index);
  }
  [[nodiscard]] std::int64_t changes() const override { return inner_->changes(); }
  [[nodiscard]] std::int64_t last_insert_rowid() const override {
    return inner_->last_insert_rowid();
  }
  [[nodiscard]] std::string_view sql() const override { return inner_->sql(); }
  [[nodiscard]] const sql::Classification& classification() const override {
    return inner_->classification();
  }
  [[nodiscard]] bool readonly() const override { return false; }
  [[nodiscard]] int parameter_count() const override { return inner_->parameter_count(); }
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override {
    return inner_->parameter_name(index);
  }
  [[nodiscard]] std::vector<ColumnInfo> columns() const override { return inner_->columns(); }
  void bind(const Params& params) override {
    inner_->bind(params);
    done_ = false;
  }
  void reset() noexcept override {
    inner_->reset();
    done_ = false;
  }
  [[nodiscard]] bool closed() const noexcept override { return inner_->closed(); }
  void close() noexcept override { inner_->close(); }
  // Building an index may take long: never on a scheduler that must not block.
  [[nodiscard]] bool blocking() const noexcept override { return true; }

 private:
  Extension* ext_;
  std::shared_ptr<Statement> inner_;
  std::optional<VectorIndexDefinition> create_;
  bool done_ = false;
};

}  // namespace ecto_libsql::vector
