// Vector functions and indexes on encrypted connections: the same module as on plain ones, with
// the shadow tables encrypted like every other page.
#include <gtest/gtest.h>

#include "crypto_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

std::vector<std::string> ids(Connection& conn, const std::string& sql) {
  std::vector<std::string> out;
  for (auto& r : rows(conn, sql))
    out.push_back(r[0]);
  return out;
}

TEST(VectorEncrypted, FunctionsIndexesAndReopen) {
  TempDir dir;
  const std::string path = dir.file("v.db");
  {
    auto conn = open_encrypted_local(path);
    EXPECT_EQ(rows(*conn, "SELECT hex(vector('[1,2,3]'))")[0][0], "0000803F0000004000004040");
    EXPECT_EQ(rows(*conn, "SELECT vector_extract(vector64('[1,2.5]'))")[0][0], "[1,2.5]");
    run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, v F32_BLOB(2))");
    run(*conn, "INSERT INTO t VALUES (1, vector('[1,0]')), (2, vector('[0,1]')), (3, '[1,1]')");
    run(*conn, "CREATE INDEX ti ON t(libsql_vector_idx(v, 'metric=l2'))");
    EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('ti', vector('[0.9,0.1]'), 2)"),
              (std::vector<std::string>{"1", "3"}));
  }
  EXPECT_FALSE(contains(read_bytes(path), "ti_shadow"));
  auto conn = open_encrypted_local(path);
  run(*conn, "DELETE FROM t WHERE id = 1");
  EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('ti', vector('[0.9,0.1]'), 1)"),
            std::vector<std::string>{"3"});
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  run(*conn, "DROP INDEX ti");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'ti%'")[0][0], "0");
}

}  // namespace
