// The engine's own cost over plain SQLite calls, for the hot operations of the driver: a
// prepared INSERT inside a transaction and a point SELECT through the statement cache.
//   cmake -S native -B _build/native/bench -DECTO_LIBSQL_BENCH=ON -DECTO_LIBSQL_NIF=OFF
//     -DECTO_LIBSQL_TESTS=OFF -DCMAKE_BUILD_TYPE=Release && cmake --build _build/native/bench
//   _build/native/bench/engine_overhead --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>

#include "ecto_libsql/open.hpp"

namespace {

using ecto_libsql::BlobView;
using ecto_libsql::Connection;
using ecto_libsql::ExecBudget;
using ecto_libsql::Params;
using ecto_libsql::Step;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, i INTEGER, s TEXT, f REAL, b BLOB, n "
    "TEXT)";
constexpr const char* kInsert = "INSERT INTO t(i, s, f, b, n) VALUES (?, ?, ?, ?, NULL)";
constexpr const char* kPoint = "SELECT id, i, s, f, b, n FROM t WHERE id = ?";

std::string temp_db(const char* name) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove(path);
  return path.string();
}

void RawInsert(benchmark::State& state) {
  const std::string path = temp_db("engine_overhead_raw.db");
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db,
                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v3(db, kInsert, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  unsigned char blob[16] = {};
  char text[64];
  long i = 0;
  for (auto _ : state) {
    ++i;
    const int len = std::snprintf(text, sizeof text, "text-value-%ld-abcdefgh", i % 1000);
    sqlite3_bind_int64(stmt, 1, i);
    sqlite3_bind_text(stmt, 2, text, len, SQLITE_STATIC);
    sqlite3_bind_double(stmt, 3, static_cast<double>(i) * 0.5);
    sqlite3_bind_blob(stmt, 4, blob, 16, SQLITE_STATIC);
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::filesystem::remove(path);
}

void EngineInsert(benchmark::State& state) {
  const std::string path = temp_db("engine_overhead_engine.db");
  ecto_libsql::ConnectOptions options;
  options.database = path;
  auto conn = ecto_libsql::open_connection(options);
  Connection::Guard guard(*conn);
  conn->run(kSchema);
  conn->begin(ecto_libsql::TransactionBehaviour::Deferred);
  auto stmt = conn->prepare(kInsert);
  std::byte blob[16] = {};
  char text[64];
  long i = 0;
  for (auto _ : state) {
    ++i;
    const int len = std::snprintf(text, sizeof text, "text-value-%ld-abcdefgh", i % 1000);
    Params params;
    params.borrowed = true;
    params.positional = {std::int64_t{i}, std::string_view(text, static_cast<std::size_t>(len)),
                         static_cast<double>(i) * 0.5, BlobView{std::span<const std::byte>(blob)}};
    stmt->bind(params);
    const ExecBudget budget{true,
                            std::chrono::steady_clock::now() + std::chrono::microseconds(500)};
    while (stmt->step(&budget) == Step::Row) {
    }
    stmt->reset();
  }
  conn->commit();
  stmt.reset();
  conn->close();
  std::filesystem::remove(path);
}

void Populate(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr);
  sqlite3_exec(db,
               "INSERT INTO t(i, s, f, b, n) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + "
               "1 FROM c WHERE x < 100000) SELECT x, 'text-value-' || x, x * 0.5, randomblob(16), "
               "NULL FROM c",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

void RawPointSelect(benchmark::State& state) {
  const std::string path = temp_db("engine_overhead_point_raw.db");
  Populate(path);
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v3(db, kPoint, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  long i = 0;
  std::int64_t sink = 0;
  for (auto _ : state) {
    ++i;
    sqlite3_bind_int64(stmt, 1, (i * 7919) % 100000 + 1);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      sink += sqlite3_column_int64(stmt, 1) + sqlite3_column_bytes(stmt, 2);
    }
    sqlite3_reset(stmt);
  }
  benchmark::DoNotOptimize(sink);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  std::filesystem::remove(path);
}

void EnginePointSelect(benchmark::State& state) {
  const std::string path = temp_db("engine_overhead_point_engine.db");
  Populate(path);
  ecto_libsql::ConnectOptions options;
  options.database = path;
  auto conn = ecto_libsql::open_connection(options);
  long i = 0;
  std::int64_t sink = 0;
  for (auto _ : state) {
    ++i;
    Connection::Guard guard(*conn);
    const ExecBudget budget{true,
                            std::chrono::steady_clock::now() + std::chrono::microseconds(500)};
    auto stmt = conn->acquire(kPoint, &budget);
    Params params;
    params.borrowed = true;
    params.positional = {std::int64_t{(i * 7919) % 100000 + 1}};
    stmt->bind(params);
    while (stmt->step(&budget) == Step::Row) {
      sink += stmt->column_int64(1) + static_cast<std::int64_t>(stmt->column_text(2).size());
    }
  }
  benchmark::DoNotOptimize(sink);
  conn->close();
  std::filesystem::remove(path);
}

BENCHMARK(RawInsert);
BENCHMARK(EngineInsert);
BENCHMARK(RawPointSelect);
BENCHMARK(EnginePointSelect);

}  // namespace

BENCHMARK_MAIN();
