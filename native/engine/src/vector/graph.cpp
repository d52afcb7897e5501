#include "vector/graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

namespace ecto_libsql::vector {
namespace {

// How many of the nearest former neighbours of a deleted node each of its neighbours tries to
// link to.
constexpr std::size_t kRepairLinks = 3;

// The distance kernels, over V: a GCC vector of float lanes (16 bytes: one SSE or NEON
// register; 32 bytes: one AVX register). Four accumulators keep the adder busy. Values of these
// types never cross a function boundary (that would tie the ABI to the instruction set).
// The helpers below are always inlined, so no Lanes8 value is ever passed in registers: GCC's
// note about the AVX calling convention does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
using Lanes4 = float __attribute__((vector_size(16)));
using Lanes8 = float __attribute__((vector_size(32)));

template <class V>
[[gnu::always_inline]] inline V load(const float* p) noexcept {
  V v;
  std::memcpy(&v, p, sizeof(V));  // unaligned
  return v;
}

template <class V>
[[gnu::always_inline]] inline float horizontal_sum(V v) noexcept {
  float sum = 0;
  for (std::size_t i = 0; i < sizeof(V) / sizeof(float); ++i)
    sum += v[i];
  return sum;
}

template <class V, bool kSquaredL2>
[[gnu::always_inline]] inline V term(V x, V y) noexcept {
  if constexpr (kSquaredL2) {
    const V d = x - y;
    return d * d;
  } else {
    return x * y;
  }
}

// kSquaredL2 selects sum((a - b)^2), else sum(a * b).
template <class V, bool kSquaredL2>
[[gnu::always_inline]] inline float kernel(const float* a, const float* b, int n) noexcept {
  constexpr std::ptrdiff_t kWidth = sizeof(V) / sizeof(float);
  const auto count = static_cast<std::ptrdiff_t>(n);
  V s0 = {};
  V s1 = {};
  V s2 = {};
  V s3 = {};
  std::ptrdiff_t i = 0;
  for (; i + 4 * kWidth <= count; i += 4 * kWidth) {
    s0 += term<V, kSquaredL2>(load<V>(a + i), load<V>(b + i));
    s1 += term<V, kSquaredL2>(load<V>(a + i + kWidth), load<V>(b + i + kWidth));
    s2 += term<V, kSquaredL2>(load<V>(a + i + 2 * kWidth), load<V>(b + i + 2 * kWidth));
    s3 += term<V, kSquaredL2>(load<V>(a + i + 3 * kWidth), load<V>(b + i + 3 * kWidth));
  }
  for (; i + kWidth <= count; i += kWidth)
    s0 += term<V, kSquaredL2>(load<V>(a + i), load<V>(b + i));
  float sum = horizontal_sum((s0 + s1) + (s2 + s3));
  for (; i < count; ++i) {
    if constexpr (kSquaredL2) {
      const float d = a[i] - b[i];
      sum += d * d;
    } else {
      sum += a[i] * b[i];
    }
  }
  return sum;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ECTO_LIBSQL_AVX2_KERNELS 1
// Built for AVX2 whatever the target of the rest of the build; used only where the CPU has it.
[[gnu::target("avx2")]] float dot_product_avx2(const float* a, const float* b, int n) noexcept {
  return kernel<Lanes8, false>(a, b, n);
}
[[gnu::target("avx2")]] float squared_l2_avx2(const float* a, const float* b, int n) noexcept {
  return kernel<Lanes8, true>(a, b, n);
}
const bool kHasAvx2 = __builtin_cpu_supports("avx2") != 0;
#endif

}  // namespace

float dot_product(const float* a, const float* b, int n) noexcept {
#ifdef ECTO_LIBSQL_AVX2_KERNELS
  if (kHasAvx2) return dot_product_avx2(a, b, n);
#endif
  return kernel<Lanes4, false>(a, b, n);
}

float squared_l2(const float* a, const float* b, int n) noexcept {
#ifdef ECTO_LIBSQL_AVX2_KERNELS
  if (kHasAvx2) return squared_l2_avx2(a, b, n);
#endif
  return kernel<Lanes4, true>(a, b, n);
}

Graph::Graph(const Options& options)
    : opt_(options),
      alpha_(static_cast<float>(options.metric == Metric::L2 ? options.alpha * options.alpha
                                                             : options.alpha)),
      degree_cap_(static_cast<std::size_t>(std::max(options.max_degree, 1))) {}

float Graph::inv_norm(const float* v) const noexcept {
  if (opt_.metric != Metric::Cosine) return 1.0F;
  const float n2 = dot_product(v, v, opt_.dims);
  return n2 > 0 ? 1.0F / std::sqrt(n2) : 0.0F;
}

float Graph::distance(const float* q, float q_inv, Slot s) const noexcept {
  if (opt_.metric == Metric::L2) return squared_l2(q, vec(s), opt_.dims);
  return 1.0F - dot_product(q, vec(s), opt_.dims) * q_inv * inv_norms_[s];
}

float Graph::distance(Slot a, Slot b) const noexcept {
  return distance(vec(a), inv_norms_[a], b);
}

float Graph::to_metric(float d) const noexcept {
  return opt_.metric == Metric::L2 ? std::sqrt(d) : d;
}

Graph::Slot Graph::allocate(Id id, const float* v, std::span<const std::uint8_t> payload) {
  Slot s = 0;
  const auto dims = static_cast<std::size_t>(opt_.dims);
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    s = static_cast<Slot>(ids_.size());
    const std::size_t n = ids_.size() + 1;
    vectors_.resize(n * dims);
    inv_norms_.resize(n);
    payloads_.resize(n * opt_.payload_size);
    ids_.resize(n);
    alive_.resize(n);
    degree_.resize(n);
    adj_.resize(n * degree_cap_);
    adj_dist_.resize(n * degree_cap_);
    visited_.resize(n);
  }
  std::memcpy(vectors_.data() + s * dims, v, dims * sizeof(float));
  inv_norms_[s] = inv_norm(v);
  if (opt_.payload_size > 0) {
    std::memcpy(payloads_.data() + s * opt_.payload_size, payload.data(),
                std::min(payload.size(), opt_.payload_size));
  }
  ids_[s] = id;
  alive_[s] = 1;
  degree_[s] = 0;
  visited_[s] = 0;
  index_[id] = s;
  return s;
}

void Graph::release(Slot s) {
  alive_[s] = 0;
  degree_[s] = 0;
  index_.erase(ids_[s]);
  free_.push_back(s);
}

Graph::Slot Graph::entry() {
  if (entry_ != kNone && alive_[entry_] != 0) return entry_;
  entry_ = kNone;
  for (Slot s = 0; s < alive_.size(); ++s) {
    if (alive_[s] != 0) {
      entry_ = s;
      break;
    }
  }
  return entry_;
}

void Graph::add_loaded(Id id, const float* v, std::span<const std::uint8_t> payload,
                       std::span<const std::uint64_t> neighbours) {
  if (index_.contains(id)) return;
  const Slot s = allocate(id, v, payload);
  if (entry_ == kNone) entry_ = s;
  pending_.emplace_back(s, std::vector<std::uint64_t>(neighbours.begin(), neighbours.end()));
}

void Graph::link() {
  // Nodes that lost edges to deleted rows (libSQL keeps such edges until the node is rewritten)
  // are repaired with the edges that point at them.
  std::vector<std::uint8_t> damaged(ids_.size(), 0);
  for (auto& [s, rowids] : pending_) {
    const std::size_t base = s * degree_cap_;
    std::size_t deg = 0;
    for (const std::uint64_t rowid : rowids) {
      if (deg >= degree_cap_) break;
      const auto it = index_.find(static_cast<Id>(rowid));
      if (it == index_.end() || it->second == s) {  // a deleted node: drop the edge
        damaged[s] = 1;
        continue;
      }
      const Slot n = it->second;
      if (std::find(adj_.begin() + static_cast<std::ptrdiff_t>(base),
                    adj_.begin() + static_cast<std::ptrdiff_t>(base + deg),
                    n) != adj_.begin() + static_cast<std::ptrdiff_t>(base + deg)) {
        continue;
      }
      adj_[base + deg] = n;
      adj_dist_[base + deg] = distance(s, n);
      ++deg;
    }
    degree_[s] = static_cast<std::uint16_t>(deg);
    if (deg == 0) damaged[s] = 1;
  }
  std::vector<std::pair<Slot, Slot>> reverse;
  for (const auto& [s, rowids] : pending_) {
    const std::size_t base = s * degree_cap_;
    for (std::size_t j = 0; j < degree_[s]; ++j) {
      if (damaged[adj_[base + j]] != 0) reverse.emplace_back(adj_[base + j], s);
    }
  }
  for (const auto& [n, p] : reverse)
    add_edge(n, p, distance(n, p));
  pending_.clear();
  pending_.shrink_to_fit();
}

void Graph::beam(const float* q, float q_inv, std::size_t width, std::vector<Candidate>& pool,
                 std::vector<Candidate>* expanded) {
  pool.clear();
  const Slot start = entry();
  if (start == kNone) return;
  if (++epoch_ == 0) {
    std::fill(visited_.begin(), visited_.end(), 0);
    epoch_ = 1;
  }
  visited_[start] = epoch_;
  pool.push_back({distance(q, q_inv, start), start, false});
  std::size_t cursor = 0;
  while (cursor < pool.size()) {
    if (pool[cursor].expanded) {
      ++cursor;
      continue;
    }
    pool[cursor].expanded = true;
    const Slot s = pool[cursor].slot;
    if (expanded != nullptr) expanded->push_back(pool[cursor]);
    std::size_t first_new = pool.size();
    const std::size_t base = s * degree_cap_;
    // The neighbours' vectors are scattered in memory: ask for all of them before using any.
    fresh_.clear();
    for (std::size_t j = 0; j < degree_[s]; ++j) {
      const Slot n = adj_[base + j];
      if (alive_[n] == 0 || visited_[n] == epoch_) continue;
      visited_[n] = epoch_;
      fresh_.push_back(n);
      const char* p = reinterpret_cast<const char*>(vec(n));
      for (std::size_t line = 0; line < static_cast<std::size_t>(opt_.dims) * sizeof(float);
           line += 64) {
        __builtin_prefetch(p + line);
      }
    }
    for (const Slot n : fresh_) {
      const float d = distance(q, q_inv, n);
      if (pool.size() >= width && !before(d, n, pool.back().dist, pool.back().slot)) continue;
      const auto pos = std::upper_bound(pool.begin(), pool.end(), Candidate{d, n, false},
                                        [this](const Candidate& a, const Candidate& b) {
                                          return before(a.dist, a.slot, b.dist, b.slot);
                                        });
      first_new = std::min(first_new, static_cast<std::size_t>(pos - pool.begin()));
      pool.insert(pos, Candidate{d, n, false});
      if (pool.size() > width) pool.pop_back();
    }
    cursor = std::min(cursor + 1, first_new);
  }
}

std::vector<std::pair<float, Graph::Id>> Graph::search(const float* query, int k, int search_l) {
  std::vector<std::pair<float, Id>> out;
  if (k <= 0 || index_.empty()) return out;
  std::vector<Candidate> pool;
  const auto width = static_cast<std::size_t>(std::max(search_l, k));
  beam(query, inv_norm(query), width, pool, nullptr);
  const std::size_t n = std::min(pool.size(), static_cast<std::size_t>(k));
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.emplace_back(to_metric(pool[i].dist), ids_[pool[i].slot]);
  return out;
}

// The new node's own edges follow the relative-neighbourhood rule (alpha 1): a candidate is
// dropped when a chosen neighbour is nearer to it than the node is. That keeps them diverse, which
// helps navigation most; alpha only decides which edges neighbours keep (add_edge()).
void Graph::robust_prune(Slot p, std::vector<Candidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.slot < b.slot; });
  candidates.erase(
      std::unique(candidates.begin(), candidates.end(),
                  [](const Candidate& a, const Candidate& b) { return a.slot == b.slot; }),
      candidates.end());
  std::erase_if(candidates, [&](const Candidate& c) { return c.slot == p || alive_[c.slot] == 0; });
  std::sort(candidates.begin(), candidates.end(), [this](const Candidate& a, const Candidate& b) {
    return before(a.dist, a.slot, b.dist, b.slot);
  });
  const std::size_t base = p * degree_cap_;
  std::size_t deg = 0;
  std::vector<std::uint8_t> pruned(candidates.size(), 0);
  for (std::size_t i = 0; i < candidates.size() && deg < degree_cap_; ++i) {
    if (pruned[i] != 0) continue;
    const Candidate& c = candidates[i];
    adj_[base + deg] = c.slot;
    adj_dist_[base + deg] = c.dist;
    ++deg;
    for (std::size_t j = i + 1; j < candidates.size(); ++j) {
      if (pruned[j] == 0 && distance(c.slot, candidates[j].slot) <= candidates[j].dist) {
        pruned[j] = 1;
      }
    }
  }
  degree_[p] = static_cast<std::uint16_t>(deg);
}

void Graph::remove_edge_at(Slot n, std::size_t i) {
  const std::size_t base = n * degree_cap_;
  const std::size_t last = degree_[n] - 1U;
  adj_[base + i] = adj_[base + last];
  adj_dist_[base + i] = adj_dist_[base + last];
  degree_[n] = static_cast<std::uint16_t>(last);
}

void Graph::drop_dead_edges(Slot n) {
  const std::size_t base = n * degree_cap_;
  for (std::size_t j = degree_[n]; j-- > 0;) {
    if (alive_[adj_[base + j]] == 0) remove_edge_at(n, j);
  }
}

// Adds the edge n -> p unless a closer neighbour of n already covers p, replacing the farthest
// neighbour when n is full and dropping the neighbours p now covers (robust pruning, one
// candidate at a time). Answers whether n's neighbours changed.
bool Graph::add_edge(Slot n, Slot p, float d_np) {
  drop_dead_edges(n);
  const std::size_t base = n * degree_cap_;
  std::size_t deg = degree_[n];
  std::vector<float>& d_ep = scratch_;
  d_ep.resize(degree_cap_ + 1);
  for (std::size_t j = 0; j < deg; ++j) {
    const Slot e = adj_[base + j];
    if (e == p) return false;
    d_ep[j] = distance(e, p);
    if (adj_dist_[base + j] < d_np && alpha_ * d_ep[j] <= d_np) return false;
  }
  std::size_t at = deg;
  if (deg < degree_cap_) {
    degree_[n] = static_cast<std::uint16_t>(++deg);
  } else {
    float worst = d_np;
    for (std::size_t j = 0; j < deg; ++j) {
      if (adj_dist_[base + j] > worst) {
        worst = adj_dist_[base + j];
        at = j;
      }
    }
    if (at == deg) return false;
  }
  adj_[base + at] = p;
  adj_dist_[base + at] = d_np;
  d_ep[at] = 0;
  for (std::size_t j = deg; j-- > 0;) {
    if (j == at) continue;
    const float d_ne = adj_dist_[base + j];
    if (d_ne > d_np && alpha_ * d_ep[j] <= d_ne) {
      const std::size_t last = degree_[n] - 1U;
      if (last == at) at = j;
      d_ep[j] = d_ep[last];
      remove_edge_at(n, j);
    }
  }
  return true;
}

void Graph::insert(Id id, const float* v, std::span<const std::uint8_t> payload, int insert_l,
                   std::vector<Id>& changed) {
  if (contains(id)) remove(id, changed);
  const Slot start = entry();
  const Slot s = allocate(id, v, payload);
  changed.push_back(id);
  if (start == kNone) {
    entry_ = s;
    return;
  }
  std::vector<Candidate> pool;
  std::vector<Candidate> candidates;
  beam(vec(s), inv_norms_[s], static_cast<std::size_t>(std::max(insert_l, 1)), pool, &candidates);
  candidates.insert(candidates.end(), pool.begin(), pool.end());
  robust_prune(s, candidates);
  const std::size_t base = s * degree_cap_;
  for (std::size_t j = 0; j < degree_[s]; ++j) {
    const Slot n = adj_[base + j];
    if (add_edge(n, s, adj_dist_[base + j])) changed.push_back(ids_[n]);
  }
}

void Graph::remove(Id id, std::vector<Id>& changed) {
  const auto it = index_.find(id);
  if (it == index_.end()) return;
  const Slot s = it->second;
  std::vector<Slot> former;
  const std::size_t base = s * degree_cap_;
  for (std::size_t j = 0; j < degree_[s]; ++j) {
    if (alive_[adj_[base + j]] != 0) former.push_back(adj_[base + j]);
  }
  release(s);
  if (entry_ == s) entry_ = former.empty() ? kNone : former.front();
  std::vector<std::pair<float, Slot>> near;
  for (const Slot n : former) {
    const std::size_t nb = n * degree_cap_;
    bool touched = false;
    for (std::size_t j = degree_[n]; j-- > 0;) {
      if (adj_[nb + j] == s) {
        remove_edge_at(n, j);
        touched = true;
      }
    }
    // Local repair: link n to the nearest of the deleted node's other neighbours.
    near.clear();
    for (const Slot m : former) {
      if (m != n) near.emplace_back(distance(n, m), m);
    }
    const std::size_t keep = std::min(near.size(), kRepairLinks);
    std::partial_sort(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(keep), near.end());
    for (std::size_t i = 0; i < keep; ++i) {
      if (add_edge(n, near[i].second, near[i].first)) touched = true;
    }
    if (touched) changed.push_back(ids_[n]);
  }
}

const float* Graph::vector_of(Id id) const {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : vec(it->second);
}

std::span<const std::uint8_t> Graph::payload_of(Id id) const {
  const auto it = index_.find(id);
  if (it == index_.end() || opt_.payload_size == 0) return {};
  return {payloads_.data() + it->second * opt_.payload_size, opt_.payload_size};
}

void Graph::neighbours(Id id, std::vector<std::pair<Id, float>>& out) const {
  out.clear();
  const auto it = index_.find(id);
  if (it == index_.end()) return;
  const Slot s = it->second;
  const std::size_t base = s * degree_cap_;
  for (std::size_t j = 0; j < degree_[s]; ++j) {
    const Slot n = adj_[base + j];
    if (alive_[n] != 0) out.emplace_back(ids_[n], to_metric(adj_dist_[base + j]));
  }
}

}  // namespace ecto_libsql::vector
