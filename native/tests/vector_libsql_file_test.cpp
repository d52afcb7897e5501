// A database written by libSQL itself (tests/data/libsql/vidx_by_libsql.db, the state left by
// vector_index_oracle.txt) opens, reads, writes and searches here, and stays valid for libSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "test_support.hpp"
#include "vector/index_params.hpp"
#include "vector/node_block.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

std::string copy_of_libsql_db(const TempDir& dir) {
  const std::string path = dir.file("vidx.db");
  std::filesystem::copy_file(std::string(ECTO_LIBSQL_TESTDATA) + "/libsql/vidx_by_libsql.db", path);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  return path;
}

std::vector<std::string> ids(Connection& conn, const std::string& sql) {
  std::vector<std::string> out;
  for (auto& r : rows(conn, sql))
    out.push_back(r[0]);
  return out;
}

using Ids = std::vector<std::string>;

// Every block of an index's shadow table decodes with libSQL's layout, names its own row, and
// links only to rows that exist.
void expect_valid_shadow(Connection& conn, const std::string& index) {
  auto meta =
      rows(conn, "SELECT metadata FROM libsql_vector_meta_shadow WHERE name = '" + index + "'");
  ASSERT_EQ(meta.size(), 1u);
  const std::string& blob = meta[0][0];
  const vector::IndexParams params =
      vector::decode_metadata({reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()});
  auto blocks = rows(conn, "SELECT index_key, data FROM " + index + "_shadow");
  std::set<std::string> keys;
  for (auto& b : blocks)
    keys.insert(b[0]);
  for (auto& b : blocks) {
    const auto node = vector::decode_block(
        params, {reinterpret_cast<const std::uint8_t*>(b[1].data()), b[1].size()});
    EXPECT_EQ(std::to_string(node.rowid), b[0]);
    for (const std::uint64_t edge : node.edges)
      EXPECT_TRUE(keys.contains(std::to_string(edge))) << "dangling edge " << edge;
  }
}

TEST(LibsqlFile, OpensAndSearchesLibsqlIndexes) {
  TempDir dir;
  auto conn = open_local(copy_of_libsql_db(dir));
  // i2: metric=l2 over t (rows 2, 3, 4 have vectors; row 1 was deleted, row 8 is NULL).
  EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('i2', vector32('[1,2,3]'), 10)"),
            (Ids{"3", "2", "4"}));
  EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('ui', vector64('[1,0.1]'), 2)"),
            (Ids{"1", "2"}));
  EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('main.ui', vector64('[0.1,1]'), 1)"),
            (Ids{"2"}));
  // SQLite's own view of the index b-trees agrees with the tables (libSQL leaves them empty).
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "4");
  EXPECT_EQ(ids(*conn, "SELECT id FROM t ORDER BY 1"), (Ids{"2", "3", "4", "8"}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(LibsqlFile, WritesKeepLibsqlIndexesCurrentAndValid) {
  TempDir dir;
  const std::string path = copy_of_libsql_db(dir);
  {
    auto conn = open_local(path);
    run(*conn, "INSERT INTO t VALUES (9, 'i', vector32('[1,2,3.1]'))");
    run(*conn, "DELETE FROM t WHERE id = 3");
    run(*conn, "UPDATE t SET v = vector32('[-4,-5,-6]') WHERE id = 2");
    run(*conn, "INSERT INTO u VALUES (3, vector64('[1,1]'))");
    EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('i2', vector32('[1,2,3]'), 10)"),
              (Ids{"9", "4", "2"}));
    EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('ui', vector64('[2,2]'), 1)"), (Ids{"3"}));
    expect_valid_shadow(*conn, "i2");
    expect_valid_shadow(*conn, "ui");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  }
  auto again = open_local(path);
  EXPECT_EQ(ids(*again, "SELECT id FROM vector_top_k('i2', vector32('[1,2,3]'), 10)"),
            (Ids{"9", "4", "2"}));
  EXPECT_EQ(rows(*again, "SELECT count(*) FROM i2_shadow")[0][0], "3");
}

TEST(LibsqlFile, DropIndexRemovesLibsqlShadowTables) {
  TempDir dir;
  auto conn = open_local(copy_of_libsql_db(dir));
  run(*conn, "DROP INDEX i2");
  EXPECT_EQ(ids(*conn, "SELECT name FROM sqlite_master WHERE name LIKE 'i2%' ORDER BY name"),
            Ids{});
  EXPECT_EQ(ids(*conn, "SELECT name FROM libsql_vector_meta_shadow ORDER BY name"), (Ids{"ui"}));
  run(*conn, "DROP TABLE u");
  EXPECT_EQ(ids(*conn, "SELECT name FROM libsql_vector_meta_shadow"), Ids{});
  EXPECT_EQ(ids(*conn, "SELECT name FROM sqlite_master WHERE name LIKE 'ui%'"), Ids{});
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  // The table itself still works without its index.
  run(*conn, "INSERT INTO t VALUES (10, 'j', vector32('[0,0,1]'))");
}

}  // namespace
