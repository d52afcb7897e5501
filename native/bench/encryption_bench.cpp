// Encrypted against plain local databases, through the engine, in one run:
//
//   encryption_bench [runs] [dir]    (defaults: 7 runs, the system temporary directory)
//
// Each run creates a fresh file per variant and inserts 100,000 rows with one prepared statement
// in one transaction. Then, on the last files, a new connection reads every row (every value
// fetched), 3 x runs times, and another runs 20,000 point queries by primary key, each in its own
// transaction, runs times. The variants alternate order. Prints the medians of the CPU time as a
// Markdown table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "ecto_libsql/open.hpp"

namespace {

using namespace ecto_libsql;
constexpr int kRows = 100'000;
constexpr const char* kKey = "benchmark-key-with-at-least-32-characters";

std::shared_ptr<Connection> open(const std::string& path, bool encrypted) {
  ConnectOptions options;
  options.database = path;
  if (encrypted) options.encryption_key = kKey;
  return open_connection(options);
}

void run(Connection& conn, std::string_view sql) {
  Connection::Guard guard(conn);
  conn.run(sql);
}

// CPU time of this thread: the machine may be shared, and waiting for the disk (the COMMIT's
// fsync) or for a core says nothing about the cipher.
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

double insert(const std::string& path, bool encrypted) {
  auto conn = open(path, encrypted);
  run(*conn,
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, body TEXT, "
      "created INTEGER)");
  const std::string body(48, 'b');
  const auto start = CpuClock::now();
  run(*conn, "BEGIN");
  {
    Connection::Guard guard(*conn);
    StatementLease stmt =
        conn->acquire("INSERT INTO t(id, name, score, body, created) VALUES (?, ?, ?, ?, ?)");
    Params params;
    std::string name;
    for (int i = 1; i <= kRows; ++i) {
      name = "name-" + std::to_string(i);
      params.positional = {std::int64_t{i}, std::string_view(name), i * 0.25,
                           std::string_view(body), std::int64_t{1'700'000'000} + i};
      stmt->bind(params);
      stmt->step(nullptr);
      stmt->reset();
    }
  }
  run(*conn, "COMMIT");
  return seconds_since(start);
}

double read_all(const std::string& path, bool encrypted) {
  auto conn = open(path, encrypted);
  const auto start = CpuClock::now();
  std::size_t rows = 0;
  std::size_t bytes = 0;
  {
    Connection::Guard guard(*conn);
    StatementLease stmt = conn->acquire("SELECT id, name, score, body, created FROM t");
    stmt->bind(Params{});
    while (stmt->step(nullptr) == Step::Row) {
      ++rows;
      bytes += static_cast<std::size_t>(stmt->column_int64(0)) + stmt->column_text(1).size() +
               static_cast<std::size_t>(stmt->column_double(2)) + stmt->column_text(3).size() +
               static_cast<std::size_t>(stmt->column_int64(4) & 1);
    }
  }
  const double elapsed = seconds_since(start);
  if (rows != kRows || bytes == 0) {
    std::fprintf(stderr, "read %zu rows, expected %d\n", rows, kRows);
    std::exit(1);
  }
  return elapsed;
}

// Point queries by primary key, each its own (autocommit) transaction; answers seconds per
// query.
double point_queries(const std::string& path, bool encrypted) {
  constexpr int kQueries = 20'000;
  auto conn = open(path, encrypted);
  Connection::Guard guard(*conn);
  const auto start = CpuClock::now();
  std::int64_t sum = 0;
  for (int i = 0; i < kQueries; ++i) {
    StatementLease stmt = conn->acquire("SELECT score FROM t WHERE id = ?");
    Params params;
    params.positional = {std::int64_t{(i * 7919) % kRows + 1}};
    stmt->bind(params);
    if (stmt->step(nullptr) == Step::Row) sum += static_cast<std::int64_t>(stmt->column_double(0));
  }
  const double elapsed = seconds_since(start);
  if (sum == 0) std::exit(1);
  return elapsed / kQueries;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const std::filesystem::path dir =
      argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path();
  std::vector<double> insert_times[2];
  std::vector<double> read_times[2];
  std::vector<double> point_times[2];
  auto path_of = [&](bool encrypted) {
    return (dir / (std::string("encryption_bench_") + (encrypted ? "enc" : "plain") + ".db"))
        .string();
  };
  auto remove_files = [&] {
    for (const bool encrypted : {false, true}) {
      std::filesystem::remove(path_of(encrypted));
      std::filesystem::remove(path_of(encrypted) + "-integrity");
    }
  };
  // Inserts into fresh files; the variants alternate which goes first.
  for (int r = 0; r < runs; ++r) {
    remove_files();
    for (int k = 0; k < 2; ++k) {
      const bool encrypted = (r + k) % 2 == 1;
      insert_times[encrypted].push_back(insert(path_of(encrypted), encrypted));
    }
  }
  // Reads (three times as many: they are short) and point queries of the last files.
  for (int r = 0; r < 3 * runs; ++r) {
    for (int k = 0; k < 2; ++k) {
      const bool encrypted = (r + k) % 2 == 1;
      read_times[encrypted].push_back(read_all(path_of(encrypted), encrypted));
      if (r < runs) point_times[encrypted].push_back(point_queries(path_of(encrypted), encrypted));
    }
  }
  remove_files();
  const double pi = median(insert_times[0]), ei = median(insert_times[1]);
  const double pr = median(read_times[0]), er = median(read_times[1]);
  std::printf("| %d rows, CPU time, medians | plain | encrypted | encrypted / plain |\n", kRows);
  std::printf("|---|---|---|---|\n");
  std::printf("| insert, one transaction | %.1f ms | %.1f ms | %.2fx |\n", pi * 1e3, ei * 1e3,
              ei / pi);
  std::printf("| read every row | %.1f ms | %.1f ms | %.2fx |\n", pr * 1e3, er * 1e3, er / pr);
  const double pp = median(point_times[0]), ep = median(point_times[1]);
  std::printf("| point query, autocommit | %.2f us | %.2f us | %.2fx |\n", pp * 1e6, ep * 1e6,
              ep / pp);
  return 0;
}
