// Parameters of a libSQL vector index: the column type, the `'key=value'` options of
// libsql_vector_idx(), and the metadata blob libSQL stores in libsql_vector_meta_shadow
// (9-byte records `[tag][u64 LE]`, the last record of a tag wins).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vector/vector_value.hpp"

namespace ecto_libsql::vector {

enum class Metric : std::uint8_t { Cosine = 1, L2 = 2 };

// Parsed metadata with libSQL's defaults applied; the layout of the node blocks follows from it.
struct IndexParams {
  int format = 3;
  Type type = Type::F32;
  int dims = 0;
  Metric metric = Metric::Cosine;
  std::uint64_t block_size = 0;  // bytes
  double alpha = 1.2;
  int insert_l = 70;
  int search_l = 200;
  int max_neighbors = 0;  // 0: not given
  Type edge_type = Type::F32;

  [[nodiscard]] std::size_t node_meta_size() const noexcept { return format <= 2 ? 10 : 16; }
  [[nodiscard]] std::size_t node_vector_size() const noexcept { return data_size(type, dims); }
  [[nodiscard]] std::size_t edge_vector_size() const noexcept { return data_size(edge_type, dims); }
  // How many edges a node block holds.
  [[nodiscard]] int max_edges() const noexcept;
  // Offset of the edge metadata (after the node vector and the edge vectors).
  [[nodiscard]] std::size_t edge_meta_offset() const noexcept;
};

// The vector type of a column declared `F32_BLOB(3)`, `FLOAT64 ( 8 )`, ... Throws Error with
// libSQL's message, `vector index: <reason>: <declared type>`.
struct ColumnType {
  Type type;
  int dims;
};
ColumnType parse_column_type(std::string_view declared);

// Builds the metadata blob for CREATE INDEX from the column type and the option strings (already
// unquoted), in libSQL's order, with its defaults. Throws Error with libSQL's messages.
std::vector<std::uint8_t> build_metadata(ColumnType column, std::span<const std::string> options);

// Reads a metadata blob. Throws Error when it lacks what a DiskANN index needs.
IndexParams decode_metadata(std::span<const std::uint8_t> blob);

}  // namespace ecto_libsql::vector
