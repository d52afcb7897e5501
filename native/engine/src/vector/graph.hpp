// An in-memory DiskANN (Vamana) graph over float vectors: greedy beam search, insertion with
// robust pruning, deletion with local repair. Nodes are identified by 64-bit ids (shadow-table
// rowids); each node may carry a fixed-size payload (its vector in the column's own type).
// Not thread-safe: one graph belongs to one connection.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vector/index_params.hpp"

namespace ecto_libsql::vector {

class Graph {
 public:
  using Id = std::int64_t;

  struct Options {
    int dims = 0;
    Metric metric = Metric::Cosine;
    int max_degree = 0;
    double alpha = 1.2;
    std::size_t payload_size = 0;
  };

  explicit Graph(const Options& options);

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
  [[nodiscard]] bool contains(Id id) const noexcept { return index_.contains(id); }
  [[nodiscard]] const Options& options() const noexcept { return opt_; }

  // Loading a stored graph: add every node with its stored neighbours, then link() once.
  void add_loaded(Id id, const float* vec, std::span<const std::uint8_t> payload,
                  std::span<const std::uint64_t> neighbours);
  void link();

  // Inserts `id` (replacing it if present). `changed` receives every id whose neighbour list
  // changed, `id` included.
  void insert(Id id, const float* vec, std::span<const std::uint8_t> payload, int insert_l,
              std::vector<Id>& changed);
  // Removes `id` if present; `changed` receives the ids whose neighbour lists changed.
  void remove(Id id, std::vector<Id>& changed);

  // The k nearest nodes as (distance, id), nearest first, ties by id. Distances are cosine
  // distances or Euclidean distances.
  std::vector<std::pair<float, Id>> search(const float* query, int k, int search_l);

  // For writing node blocks.
  [[nodiscard]] const float* vector_of(Id id) const;
  [[nodiscard]] std::span<const std::uint8_t> payload_of(Id id) const;
  // Neighbours of `id` as (id, distance), distances as search() reports them.
  void neighbours(Id id, std::vector<std::pair<Id, float>>& out) const;

 private:
  using Slot = std::uint32_t;
  static constexpr Slot kNone = 0xffffffffU;

  struct Candidate {
    float dist;
    Slot slot;
    bool expanded;
  };

  [[nodiscard]] const float* vec(Slot s) const noexcept {
    return vectors_.data() + static_cast<std::size_t>(s) * static_cast<std::size_t>(opt_.dims);
  }
  [[nodiscard]] float distance(const float* q, float q_inv, Slot s) const noexcept;
  [[nodiscard]] float distance(Slot a, Slot b) const noexcept;
  [[nodiscard]] float to_metric(float d) const noexcept;
  // Nearer first; equal distances by rowid, so results do not depend on insertion order.
  [[nodiscard]] bool before(float da, Slot a, float db, Slot b) const noexcept {
    return da < db || (da == db && ids_[a] < ids_[b]);
  }
  [[nodiscard]] float inv_norm(const float* v) const noexcept;
  Slot allocate(Id id, const float* v, std::span<const std::uint8_t> payload);
  void release(Slot s);
  Slot entry();
  // Beam search from the entry point; `expanded` (optional) receives the expanded nodes.
  void beam(const float* q, float q_inv, std::size_t width, std::vector<Candidate>& pool,
            std::vector<Candidate>* expanded);
  void robust_prune(Slot p, std::vector<Candidate>& candidates);
  bool add_edge(Slot n, Slot p, float d_np);
  void drop_dead_edges(Slot n);
  void remove_edge_at(Slot n, std::size_t i);

  Options opt_;
  float alpha_;  // in the units of distance(): squared for L2
  std::size_t degree_cap_;
  std::vector<float> vectors_;
  std::vector<float> inv_norms_;
  std::vector<std::uint8_t> payloads_;
  std::vector<Id> ids_;
  std::vector<std::uint8_t> alive_;
  std::vector<std::uint16_t> degree_;
  std::vector<Slot> adj_;
  std::vector<float> adj_dist_;
  std::vector<std::uint32_t> visited_;
  std::uint32_t epoch_ = 0;
  std::vector<Slot> free_;
  std::vector<float> scratch_;
  std::vector<Slot> fresh_;
  std::unordered_map<Id, Slot> index_;
  Slot entry_ = kNone;
  // Neighbour rowids of loaded nodes until link().
  std::vector<std::pair<Slot, std::vector<std::uint64_t>>> pending_;
};

// Distance kernels (exposed for tests and benchmarks).
float dot_product(const float* a, const float* b, int n) noexcept;
float squared_l2(const float* a, const float* b, int n) noexcept;

}  // namespace ecto_libsql::vector
