// Recall of the vector index against exact search: 10,000 deterministic random 64-dimensional
// vectors, libSQL's default index options, recall@10 over 100 queries must reach 0.95 for both
// metrics. Under AddressSanitizer (ten times slower) the same test runs on 2,000 vectors and 20
// queries, to keep the sanitizer run short.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

#if defined(__SANITIZE_ADDRESS__)
#define ECTO_LIBSQL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ECTO_LIBSQL_ASAN 1
#endif
#endif

#ifdef ECTO_LIBSQL_ASAN
constexpr int kRows = 2000;
constexpr int kQueries = 20;
#else
constexpr int kRows = 10000;
constexpr int kQueries = 100;
#endif
constexpr int kDims = 64;
constexpr int kK = 10;

// Uniform in [-1, 1): the hardest case for a graph index (no clusters to exploit).
std::vector<float> random_vectors(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0F, 1.0F);
  std::vector<float> out(static_cast<std::size_t>(n) * kDims);
  for (float& x : out)
    x = u(rng);
  return out;
}

double exact_distance(const float* a, const float* b, bool cosine) {
  double dot = 0;
  double na = 0;
  double nb = 0;
  double l2 = 0;
  for (int i = 0; i < kDims; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
    l2 += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  }
  return cosine ? 1.0 - dot / std::sqrt(na * nb) : l2;
}

double recall_at_10(const std::string& metric) {
  const bool cosine = metric == "cosine";
  auto conn = open_local(":memory:");
  const std::vector<float> data = random_vectors(kRows, 20240601);
  const std::vector<float> queries = random_vectors(kQueries, 777);
  run(*conn, "CREATE TABLE v(id INTEGER PRIMARY KEY, e F32_BLOB(64))");
  run(*conn, "BEGIN");
  for (int i = 0; i < kRows; ++i) {
    const auto* bytes =
        reinterpret_cast<const std::byte*>(&data[static_cast<std::size_t>(i) * kDims]);
    rows(*conn, "INSERT INTO v VALUES (?, ?)",
         {std::int64_t{i + 1}, BlobView{std::span<const std::byte>(bytes, kDims * sizeof(float))}});
  }
  run(*conn, "COMMIT");
  run(*conn, "CREATE INDEX vi ON v(libsql_vector_idx(e, 'metric=" + metric + "'))");
  int hits = 0;
  for (int q = 0; q < kQueries; ++q) {
    const float* query = &queries[static_cast<std::size_t>(q) * kDims];
    std::vector<std::pair<double, int>> exact;
    exact.reserve(kRows);
    for (int i = 0; i < kRows; ++i)
      exact.emplace_back(exact_distance(query, &data[static_cast<std::size_t>(i) * kDims], cosine),
                         i + 1);
    std::partial_sort(exact.begin(), exact.begin() + kK, exact.end());
    const auto* bytes = reinterpret_cast<const std::byte*>(query);
    const auto found = rows(*conn, "SELECT id FROM vector_top_k('vi', ?, 10)",
                            {BlobView{std::span<const std::byte>(bytes, kDims * sizeof(float))}});
    EXPECT_EQ(found.size(), static_cast<std::size_t>(kK));
    for (const auto& row : found) {
      const int id = std::stoi(row[0]);
      for (int k = 0; k < kK; ++k)
        hits += exact[static_cast<std::size_t>(k)].second == id ? 1 : 0;
    }
  }
  return static_cast<double>(hits) / (kQueries * kK);
}

TEST(VectorRecall, CosineRecallAt10IsAtLeast95Percent) {
  const double recall = recall_at_10("cosine");
  RecordProperty("recall_at_10", std::to_string(recall));
  std::printf("recall@10 = %.4f\n", recall);
  EXPECT_GE(recall, 0.95);
}

TEST(VectorRecall, L2RecallAt10IsAtLeast95Percent) {
  const double recall = recall_at_10("l2");
  RecordProperty("recall_at_10", std::to_string(recall));
  std::printf("recall@10 = %.4f\n", recall);
  EXPECT_GE(recall, 0.95);
}

}  // namespace
