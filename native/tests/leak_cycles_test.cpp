// Open/query/close cycles through the engine: every cycle must give back all SQLite memory and
// every handle. Under the sanitizer build, LeakSanitizer also checks the C++ side at exit.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "test_support.hpp"

namespace {

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

TEST(LeakCycles, TenThousandOpenQueryCloseCyclesGiveBackAllSqliteMemory) {
  TempDir dir;
  const std::string path = dir.file("cycles.db");
  {
    auto conn = open_local(path);
    run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
  }
  const std::int64_t baseline = sqlite3_memory_used();
  for (int i = 1; i <= 10'000; ++i) {
    auto conn = open_local(path);
    run(*conn, "PRAGMA synchronous = OFF");  // the cycles test memory, not durability
    rows(*conn, "INSERT INTO t(v, b) VALUES (?, ?)", {std::string_view("row"), BlobView{}});
    ASSERT_EQ(rows(*conn, "SELECT v FROM t WHERE id = ?", {std::int64_t{i}}).size(), 1u);
    {
      Connection::Guard guard(*conn);
      (void)conn->begin(TransactionBehaviour::Immediate);
      auto stmt = conn->acquire("SELECT id FROM t LIMIT 3", nullptr);
      (void)stmt->step(nullptr);  // left mid-way: closing the connection must finalise it
      conn->commit();
    }
    EXPECT_THROW(rows(*conn, "SELECT * FROM missing"), Error);
    if (i % 2 == 0) conn->close();  // the others are closed by the destructor
  }
  EXPECT_EQ(sqlite3_memory_used(), baseline);
}

}  // namespace
