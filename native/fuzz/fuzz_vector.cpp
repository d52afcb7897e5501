// libFuzzer target for the vector parsers: text vectors, vector blobs, vector column types, index
// options and metadata, DiskANN node blocks. Self-contained: needs only the engine library.
//
// Input: one selector byte, then the data. Every parser must either succeed or throw
// ecto_libsql::Error; whatever it accepts must survive a round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "vector/index_params.hpp"
#include "vector/node_block.hpp"
#include "vector/vector_value.hpp"

namespace {

using namespace ecto_libsql;
using namespace ecto_libsql::vector;

void check(bool ok) {
  if (!ok) std::abort();
}

void exercise(const Vector& v) {
  const std::vector<std::uint8_t> blob = to_blob(v);
  const Vector back = parse_blob(blob);
  check(back.type == v.type && back.dims == v.dims && back.data == v.data);
  (void)to_text(v);
  std::vector<float> floats(static_cast<std::size_t>(v.dims));
  to_floats(v, floats.data());
  (void)distance_cos(v, v);
  (void)distance_l2(v, v);
  for (int t = 1; t <= 6; ++t) {
    const Vector c = convert(v, static_cast<Type>(t));
    check(c.dims == v.dims && c.data.size() == data_size(c.type, c.dims));
    check(parse_blob(to_blob(c)).data == c.data);
  }
}

void text(std::string_view input, Type type) {
  try {
    const Vector v = parse_text(input, type);
    check(v.dims <= kMaxDims);
    exercise(v);
    // The printed form reads back (as FLOAT64, where %g's six digits lose nothing of a float
    // that came from text... not guaranteed, so only its shape is checked).
    const Vector again = parse_text(to_text(v), Type::F64);
    check(again.dims == v.dims);
  } catch (const Error&) {
  }
}

void blob(std::span<const std::uint8_t> input) {
  try {
    exercise(parse_blob(input));
  } catch (const Error&) {
  }
}

void index_options(std::string_view input) {
  // Column type, then NUL-separated options.
  const std::size_t nul = input.find('\0');
  const std::string_view type = input.substr(0, nul);
  std::vector<std::string> options;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (!rest.empty()) {
      const std::size_t next = rest.find('\0');
      options.emplace_back(rest.substr(0, next));
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
  }
  try {
    const ColumnType column = parse_column_type(type);
    const std::vector<std::uint8_t> meta = build_metadata(column, options);
    check(meta.size() <= 128 && meta.size() % 9 == 0);
    const IndexParams params = decode_metadata(meta);
    check(params.type == column.type && params.dims == column.dims && params.max_edges() > 0);
  } catch (const Error&) {
  }
}

void metadata_and_block(std::span<const std::uint8_t> input) {
  // The first up-to-128 bytes (length in the first byte) are metadata, the rest a node block.
  if (input.empty()) return;
  const std::size_t n = std::min<std::size_t>(input[0], input.size() - 1);
  try {
    const IndexParams params = decode_metadata(input.subspan(1, n));
    if (params.block_size > 1 << 20) return;
    const auto block = input.subspan(1 + n);
    const DecodedNode node = decode_block(params, block);
    check(node.vector.size() == params.node_vector_size());
    std::vector<EncodedEdge> edges;
    const std::vector<std::uint8_t> edge_vector(params.edge_vector_size(), 0);
    for (const std::uint64_t e : node.edges)
      edges.push_back({e, 0.0F, edge_vector});
    std::vector<std::uint8_t> out;
    encode_block(params, node.rowid, node.vector, edges, out);
    const DecodedNode again = decode_block(params, out);
    check(again.rowid == node.rowid && again.edges == node.edges);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  const std::string_view as_text(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % 5) {
    case 0:
      text(as_text, Type::F32);
      break;
    case 1:
      text(as_text, Type::F64);
      break;
    case 2:
      blob(rest);
      break;
    case 3:
      index_options(as_text);
      break;
    default:
      metadata_and_block(rest);
      break;
  }
  return 0;
}
