// Vector index against exact search, through the engine, in one run:
//
//   vector_bench [rows] [queries] [runs] [clustered|uniform] [index options]
//     (defaults: 100,000 rows, 200 queries, 3 runs, clustered, libSQL's default options)
//
//   cmake -S native -B _build/native/bench -DECTO_LIBSQL_BENCH=ON -DECTO_LIBSQL_NIF=OFF
//     -DECTO_LIBSQL_TESTS=OFF -DCMAKE_BUILD_TYPE=Release && cmake --build _build/native/bench
//   _build/native/bench/vector_bench
//
// The data: deterministic 128-dimensional vectors around 1,000 random centres (normal noise),
// the shape of real embeddings, or (uniform) independent uniform values in [-1, 1), the hardest
// case for a graph index; queries are drawn the same way. For each metric (cosine, l2) it
// inserts the rows into an in-memory table, builds a DiskANN index with libSQL's default options
// (CREATE INDEX ... libsql_vector_idx), then times top-10 queries through vector_top_k and the
// exact scan a user would write without an index (ORDER BY vector_distance_... LIMIT 10), and
// measures recall@10 of the index against that scan. Times are CPU time of this thread (the
// machine may be shared); query times are medians over every query of every run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ecto_libsql/open.hpp"

namespace {

using namespace ecto_libsql;
constexpr int kDims = 128;
constexpr int kK = 10;
constexpr int kCentres = 1000;

struct CpuClock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<CpuClock>;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(duration(std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec));
  }
};

double seconds_since(CpuClock::time_point start) {
  return std::chrono::duration<double>(CpuClock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// `n` vectors near the same `kCentres` fixed centres, noise seeded by `seed`; or uniform ones.
std::vector<float> make_vectors(int n, std::uint64_t seed, bool uniform_data) {
  if (uniform_data) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
    std::vector<float> out(static_cast<std::size_t>(n) * kDims);
    for (float& x : out)
      x = uniform(rng);
    return out;
  }
  std::mt19937_64 centre_rng(20240601);
  std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
  std::vector<float> centres(static_cast<std::size_t>(kCentres) * kDims);
  for (float& x : centres)
    x = uniform(centre_rng);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, kCentres - 1);
  std::normal_distribution<float> noise(0.0F, 0.25F);
  std::vector<float> out(static_cast<std::size_t>(n) * kDims);
  for (int i = 0; i < n; ++i) {
    const float* c = &centres[static_cast<std::size_t>(pick(rng)) * kDims];
    for (int d = 0; d < kDims; ++d)
      out[static_cast<std::size_t>(i) * kDims + d] = c[d] + noise(rng);
  }
  return out;
}

BlobView blob_of(const float* v) {
  return BlobView{std::as_bytes(std::span<const float>(v, kDims))};
}

void run(Connection& conn, std::string_view sql) {
  Connection::Guard guard(conn);
  conn.run(sql);
}

std::vector<std::int64_t> ids(Connection& conn, const std::string& sql, const float* query) {
  Connection::Guard guard(conn);
  StatementLease stmt = conn.acquire(sql);
  Params params;
  params.positional = {blob_of(query)};
  stmt->bind(params);
  std::vector<std::int64_t> out;
  while (stmt->step(nullptr) == Step::Row)
    out.push_back(stmt->column_int64(0));
  return out;
}

struct Figures {
  std::vector<double> insert;
  std::vector<double> build;
  std::vector<double> top_k;
  std::vector<double> exact;
  int hits = 0;
  int expected = 0;
};

void measure(const std::string& metric, const std::string& index_options,
             const std::vector<float>& data, const std::vector<float>& queries, Figures& f) {
  const int rows = static_cast<int>(data.size() / kDims);
  const int n_queries = static_cast<int>(queries.size() / kDims);
  ConnectOptions options;
  options.database = ":memory:";
  auto conn = open_connection(options);
  run(*conn, "CREATE TABLE items(id INTEGER PRIMARY KEY, embedding F32_BLOB(128))");
  auto start = CpuClock::now();
  run(*conn, "BEGIN");
  {
    Connection::Guard guard(*conn);
    StatementLease stmt = conn->acquire("INSERT INTO items VALUES (?, ?)");
    Params params;
    for (int i = 0; i < rows; ++i) {
      params.positional = {std::int64_t{i + 1},
                           blob_of(&data[static_cast<std::size_t>(i) * kDims])};
      stmt->bind(params);
      stmt->step(nullptr);
      stmt->reset();
    }
  }
  run(*conn, "COMMIT");
  f.insert.push_back(seconds_since(start));
  start = CpuClock::now();
  run(*conn, "CREATE INDEX items_idx ON items(libsql_vector_idx(embedding, 'metric=" + metric +
                 "'" + index_options + "))");
  f.build.push_back(seconds_since(start));

  const std::string fn = metric == "cosine" ? "vector_distance_cos" : "vector_distance_l2";
  const std::string exact_sql = "SELECT id FROM items ORDER BY " + fn + "(embedding, ?) LIMIT 10";
  const std::string top_k_sql = "SELECT id FROM vector_top_k('items_idx', ?, 10)";
  for (int q = 0; q < n_queries; ++q) {
    const float* query = &queries[static_cast<std::size_t>(q) * kDims];
    start = CpuClock::now();
    const std::vector<std::int64_t> approx = ids(*conn, top_k_sql, query);
    f.top_k.push_back(seconds_since(start));
    start = CpuClock::now();
    const std::vector<std::int64_t> exact = ids(*conn, exact_sql, query);
    f.exact.push_back(seconds_since(start));
    for (const std::int64_t id : approx)
      f.hits += std::count(exact.begin(), exact.end(), id) > 0 ? 1 : 0;
    f.expected += static_cast<int>(exact.size());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::max(kK, std::atoi(argv[1])) : 100'000;
  const int n_queries = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const bool uniform = argc > 4 && std::string(argv[4]) == "uniform";
  // More index options, as SQL string literals: "'max_neighbors=64', 'search_l=400'".
  const std::string index_options = argc > 5 ? std::string(", ") + argv[5] : std::string();
  const std::vector<float> data = make_vectors(rows, 1, uniform);
  std::printf("%d %s vectors of %d dims, %d top-%d queries per run, %d runs, index options: %s\n\n",
              rows, uniform ? "uniform" : "clustered", kDims, n_queries, kK, runs,
              argc > 5 ? argv[5] : "libSQL's defaults");
  std::printf(
      "| metric | insert (s) | index build (s) | top-10 vector_top_k (ms) | top-10 exact "
      "scan (ms) | speed-up | recall@10 |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const std::string metric : {"cosine", "l2"}) {
    Figures f;
    for (int r = 0; r < runs; ++r) {
      const std::vector<float> queries =
          make_vectors(n_queries, 1000 + static_cast<std::uint64_t>(r), uniform);
      measure(metric, index_options, data, queries, f);
    }
    const double top_k = median(f.top_k) * 1e3;
    const double exact = median(f.exact) * 1e3;
    std::printf("| %s | %.2f | %.2f | %.3f | %.2f | %.1fx | %.4f |\n", metric.c_str(),
                median(f.insert), median(f.build), top_k, exact, exact / top_k,
                static_cast<double>(f.hits) / f.expected);
    std::fflush(stdout);
  }
  return 0;
}
