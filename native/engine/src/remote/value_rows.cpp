#include "value_rows.hpp"

namespace ecto_libsql::remote {

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

}  // namespace ecto_libsql::remote
