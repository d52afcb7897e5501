// libSQL's DiskANN node blocks (the `data` column of `<index>_shadow`), formats 1 to 3:
//   [u64 rowid][u16 edge count][6 zero bytes, format 3 only]
//   [node vector, data part]
//   [edge vector x max_edges, in the compress_neighbors type]
//   [edge meta x max_edges: u32 unused, f32 distance (format >= 2), u64 neighbour rowid]
// All integers little-endian; the block has exactly IndexParams::block_size bytes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vector/index_params.hpp"

namespace ecto_libsql::vector {

struct DecodedNode {
  std::uint64_t rowid = 0;
  std::span<const std::uint8_t> vector;  // node vector, data part
  std::vector<std::uint64_t> edges;      // neighbour rowids
};

// Reads a block. Throws Error when its size or edge count does not fit the parameters.
DecodedNode decode_block(const IndexParams& params, std::span<const std::uint8_t> block);

struct EncodedEdge {
  std::uint64_t rowid = 0;
  float distance = 0;
  std::span<const std::uint8_t> vector;  // edge vector, data part of the edge type
};

// Writes a block into `out` (resized to the block size). At most max_edges edges are stored.
void encode_block(const IndexParams& params, std::uint64_t rowid,
                  std::span<const std::uint8_t> node_vector, std::span<const EncodedEdge> edges,
                  std::vector<std::uint8_t>& out);

}  // namespace ecto_libsql::vector
