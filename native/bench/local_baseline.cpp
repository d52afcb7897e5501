// Plain SQLite C calls for the operations bench/native_vs_c.exs measures through the NIF, on
// the same database file, so that the two can be compared in one run.
//
//   local_baseline insert <db> <rows>   100,000 single-row INSERTs, one prepared statement,
//                                       one transaction
//   local_baseline point  <db> <count>  point SELECTs by primary key (all six columns read)
//   local_baseline scan   <db>          read every row (5 columns), every value fetched
//
// Prints "<operation> <microseconds per operation>".
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, db != nullptr ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) die(db, sql);
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
    die(db, sql);
  return stmt;
}

double now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Reads every column of the current row, the way a driver must.
std::uint64_t read_row(sqlite3_stmt* stmt) {
  std::uint64_t sum = 0;
  const int n = sqlite3_column_count(stmt);
  for (int i = 0; i < n; ++i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        sum += static_cast<std::uint64_t>(sqlite3_column_int64(stmt, i));
        break;
      case SQLITE_FLOAT:
        sum += static_cast<std::uint64_t>(sqlite3_column_double(stmt, i));
        break;
      case SQLITE_TEXT: {
        const unsigned char* t = sqlite3_column_text(stmt, i);
        sum +=
            static_cast<std::uint64_t>(sqlite3_column_bytes(stmt, i)) + (t != nullptr ? t[0] : 0);
        break;
      }
      case SQLITE_BLOB: {
        const void* b = sqlite3_column_blob(stmt, i);
        sum += static_cast<std::uint64_t>(sqlite3_column_bytes(stmt, i)) + (b != nullptr ? 1 : 0);
        break;
      }
      default:
        break;
    }
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s insert|point|scan <db> [count]\n", argv[0]);
    return 2;
  }
  const std::string op = argv[1];
  const long count = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 0;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[2], &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    die(db, "open");
  std::uint64_t sink = 0;
  double per_op = 0;
  if (op == "insert") {
    exec(db,
         "DROP TABLE IF EXISTS c_bench; CREATE TABLE c_bench(id INTEGER PRIMARY KEY, i INTEGER, "
         "s TEXT, f REAL, b BLOB, n TEXT)");
    sqlite3_stmt* stmt =
        prepare(db, "INSERT INTO c_bench(i, s, f, b, n) VALUES (?, ?, ?, ?, NULL)");
    unsigned char blob[16];
    for (int j = 0; j < 16; ++j)
      blob[j] = static_cast<unsigned char>(j * 17);
    char text[64];
    const double start = now_us();
    exec(db, "BEGIN");
    for (long i = 1; i <= count; ++i) {
      const int len = std::snprintf(text, sizeof text, "text-value-%ld-abcdefgh", i % 1000);
      sqlite3_bind_int64(stmt, 1, i);
      sqlite3_bind_text(stmt, 2, text, len, SQLITE_STATIC);
      sqlite3_bind_double(stmt, 3, static_cast<double>(i) * 0.5);
      sqlite3_bind_blob(stmt, 4, blob, 16, SQLITE_STATIC);
      if (sqlite3_step(stmt) != SQLITE_DONE) die(db, "insert");
      sqlite3_reset(stmt);
    }
    exec(db, "COMMIT");
    per_op = (now_us() - start) / static_cast<double>(count);
    sqlite3_finalize(stmt);
  } else if (op == "point") {
    sqlite3_stmt* stmt = prepare(db, "SELECT id, i, s, f, b, n FROM t WHERE id = ?");
    long rows = 0;
    sqlite3_stmt* c = prepare(db, "SELECT count(*) FROM t");
    if (sqlite3_step(c) == SQLITE_ROW) rows = sqlite3_column_int64(c, 0);
    sqlite3_finalize(c);
    for (long i = 1; i <= 2000; ++i) {  // warm-up, as the NIF side does
      sqlite3_bind_int64(stmt, 1, (i * 7919) % rows + 1);
      while (sqlite3_step(stmt) == SQLITE_ROW)
        sink += read_row(stmt);
      sqlite3_reset(stmt);
    }
    const double start = now_us();
    for (long i = 1; i <= count; ++i) {
      sqlite3_bind_int64(stmt, 1, (i * 7919) % rows + 1);
      while (sqlite3_step(stmt) == SQLITE_ROW)
        sink += read_row(stmt);
      sqlite3_reset(stmt);
    }
    per_op = (now_us() - start) / static_cast<double>(count);
    sqlite3_finalize(stmt);
  } else if (op == "scan") {
    sqlite3_stmt* stmt = prepare(db, "SELECT i, s, f, b, n FROM t");
    long rows = 0;
    const double start = now_us();
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      sink += read_row(stmt);
      ++rows;
    }
    per_op = (now_us() - start) / static_cast<double>(rows);
    sqlite3_finalize(stmt);
  } else {
    std::fprintf(stderr, "unknown operation %s\n", op.c_str());
    return 2;
  }
  sqlite3_close(db);
  std::printf("%s %.4f %llu\n", op.c_str(), per_op, static_cast<unsigned long long>(sink % 10));
  return 0;
}
