#include "vector/node_block.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::vector {
namespace {

std::uint64_t read_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}
void write_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void write_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

DecodedNode decode_block(const IndexParams& params, std::span<const std::uint8_t> block) {
  if (block.size() != params.block_size) {
    throw Error(kCodeError, "vector index: node block of " + std::to_string(block.size()) +
                                " bytes where " + std::to_string(params.block_size) +
                                " were expected");
  }
  const int max_edges = params.max_edges();
  DecodedNode node;
  node.rowid = read_u64(block.data());
  const int count = block[8] | block[9] << 8;
  if (count > max_edges) {
    throw Error(kCodeError, "vector index: node block holds " + std::to_string(count) +
                                " edges, more than " + std::to_string(max_edges));
  }
  node.vector = block.subspan(params.node_meta_size(), params.node_vector_size());
  const std::size_t meta = params.edge_meta_offset();
  node.edges.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    node.edges.push_back(read_u64(block.data() + meta + 16 * static_cast<std::size_t>(i) + 8));
  return node;
}

void encode_block(const IndexParams& params, std::uint64_t rowid,
                  std::span<const std::uint8_t> node_vector, std::span<const EncodedEdge> edges,
                  std::vector<std::uint8_t>& out) {
  out.assign(params.block_size, 0);
  const auto count = static_cast<std::size_t>(
      std::min<std::size_t>(edges.size(), static_cast<std::size_t>(params.max_edges())));
  write_u64(out.data(), rowid);
  out[8] = static_cast<std::uint8_t>(count);
  out[9] = static_cast<std::uint8_t>(count >> 8);
  std::uint8_t* p = out.data() + params.node_meta_size();
  std::memcpy(p, node_vector.data(), std::min(node_vector.size(), params.node_vector_size()));
  p += params.node_vector_size();
  const std::size_t edge_size = params.edge_vector_size();
  std::uint8_t* meta = out.data() + params.edge_meta_offset();
  for (std::size_t i = 0; i < count; ++i) {
    const EncodedEdge& e = edges[i];
    std::memcpy(p + i * edge_size, e.vector.data(), std::min(e.vector.size(), edge_size));
    if (params.format >= 2) write_u32(meta + 16 * i + 4, std::bit_cast<std::uint32_t>(e.distance));
    write_u64(meta + 16 * i + 8, e.rowid);
  }
}

}  // namespace ecto_libsql::vector
