// Rows whose cells are decoded values (what remote statements answer): the typed accessors of
// RowReader over them, and a statement's whole result read from memory.
#pragma once

#include "ecto_libsql/connection.hpp"
#include "hrana_json.hpp"

namespace ecto_libsql::remote {

class ValueRowReader : public RowReader {
 public:
  [[nodiscard]] ValueType column_type(int index) const override;
  [[nodiscard]] std::int64_t column_int64(int index) const override;
  [[nodiscard]] double column_double(int index) const override;
  [[nodiscard]] std::string_view column_text(int index) const override;
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override;

 protected:
  // The cell `index` of the current row; throws when there is none.
  [[nodiscard]] virtual const Value& cell(int index) const = 0;
};

// Rows of one statement result, read from memory.
class ResultReader : public ValueRowReader {
 public:
  explicit ResultReader(StmtResult result) : result_(std::move(result)) {}
  ResultReader() = default;
  [[nodiscard]] int column_count() const override {
    return static_cast<int>(result_.columns.size());
  }
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] std::int64_t changes() const override { return result_.affected; }
  [[nodiscard]] std::int64_t last_insert_rowid() const override {
    return result_.last_insert_rowid.value_or(0);
  }
  [[nodiscard]] const StmtResult& result() const noexcept { return result_; }

 private:
  [[nodiscard]] const Value& cell(int index) const override;
  StmtResult result_;
  std::size_t next_ = 0;  // the row step() reads next
};

}  // namespace ecto_libsql::remote
