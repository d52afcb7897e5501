// The vector module's index store, reading databases that engine connections wrote: a second,
// plain SQLite connection looks at the same file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "plain_sqlite.hpp"
#include "test_support.hpp"
#include "vector/index_store.hpp"
#include "vector/nested_sql.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using ecto_libsql::vector::GraphCache;
using ecto_libsql::vector::IndexStore;
using ecto_libsql::vector::NestedSql;
using ecto_libsql::vector::Query;
using ecto_libsql::vector::VectorIndex;

namespace {

void exec(sqlite3* db, const std::string& sql) {
  vector::exec_sql(db, sql);
}

using Values = std::vector<std::string>;

class VectorIndexStore : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("store.db");
    conn_ = open_local(path_);
    run(*conn_, "CREATE TABLE p(id INTEGER PRIMARY KEY, label TEXT, v F32_BLOB(2))");
    run(*conn_,
        "INSERT INTO p VALUES (1,'a','[1,0]'), (2,'b','[2,0]'), (3,'c',NULL), (4,'d','[4,0]')");
    run(*conn_, "CREATE INDEX pi ON p(libsql_vector_idx(v, 'metric=l2'))");
    db_ = open_plain(path_);
    sql_ = std::make_unique<NestedSql>(db_.get());
    store_ = std::make_unique<IndexStore>(*sql_);
  }
  void TearDown() override {
    store_.reset();
    sql_.reset();
    db_.reset();
    conn_.reset();
  }

  Connection& conn() { return *conn_; }
  IndexStore& store() { return *store_; }
  sqlite3* db() { return db_.get(); }

 private:
  TempDir dir_;
  std::string path_;
  std::shared_ptr<Connection> conn_;
  PlainDb db_;
  std::unique_ptr<NestedSql> sql_;
  std::unique_ptr<IndexStore> store_;
};

TEST_F(VectorIndexStore, RefreshReadsTheCatalogue) {
  EXPECT_FALSE(store().in_sync());
  EXPECT_EQ(store().find("main", "pi"), nullptr);
  store().refresh();
  EXPECT_TRUE(store().in_sync());
  ASSERT_EQ(store().all().size(), 1U);
  // Names are found case-insensitively.
  VectorIndex* ix = store().find("MAIN", "PI");
  ASSERT_NE(ix, nullptr);
  EXPECT_EQ(ix->schema, "main");
  EXPECT_EQ(ix->name, "pi");
  EXPECT_EQ(ix->table, "p");
  EXPECT_EQ(ix->column, "v");
  EXPECT_EQ(ix->where, "");
  ASSERT_TRUE(ix->marker_expr.has_value());
  EXPECT_EQ(*ix->marker_expr, "libsql_vector_idx(\"v\", 'metric=l2')");
  EXPECT_FALSE(ix->key.without_rowid);
  EXPECT_TRUE(ix->key.rowid_like);
  EXPECT_EQ(ix->key.expression(), "rowid");
  EXPECT_EQ(IndexStore::shadow(*ix), "\"main\".\"pi_shadow\"");
  EXPECT_EQ(IndexStore::key("Main", "PI"), std::string("main\x1fpi"));
  EXPECT_EQ(store().find("main", "missing"), nullptr);
  EXPECT_EQ(store().find("temp", "pi"), nullptr);
}

TEST_F(VectorIndexStore, SchemaChangesAndInvalidationEndTheSync) {
  store().refresh();
  ASSERT_TRUE(store().in_sync());
  store().invalidate();
  EXPECT_FALSE(store().in_sync());
  store().refresh();
  ASSERT_TRUE(store().in_sync());

  // Another connection changes the schema.
  run(conn(), "CREATE TABLE q(id INTEGER PRIMARY KEY, v F32_BLOB(2))");
  EXPECT_FALSE(store().in_sync());
  run(conn(), "CREATE INDEX qi ON q(libsql_vector_idx(v)) WHERE id > 1");
  store().refresh();
  EXPECT_TRUE(store().in_sync());
  ASSERT_NE(store().find("main", "qi"), nullptr);
  EXPECT_EQ(store().find("main", "qi")->where, "id > 1");

  // This connection changes a schema on purpose and adopts the cookies.
  exec(db(), "CREATE TEMP TABLE scratch(x)");
  EXPECT_FALSE(store().in_sync());
  store().adopt_schema_cookies();
  EXPECT_TRUE(store().in_sync());

  // Attaching a database changes the list of schemas.
  exec(db(), "ATTACH ':memory:' AS aux");
  EXPECT_FALSE(store().in_sync());
  store().refresh();
  EXPECT_TRUE(store().in_sync());

  // Dropped indexes leave the catalogue.
  run(conn(), "DROP INDEX qi");
  store().refresh();
  EXPECT_EQ(store().find("main", "qi"), nullptr);
  EXPECT_NE(store().find("main", "pi"), nullptr);
}

TEST_F(VectorIndexStore, KnowsWhichStatementsMayWriteAnIndexedTable) {
  EXPECT_FALSE(store().may_write_indexed_table("INSERT INTO p VALUES (9, 'x', NULL)"));
  store().refresh();
  EXPECT_TRUE(store().may_write_indexed_table("INSERT INTO p VALUES (9, 'x', NULL)"));
  EXPECT_TRUE(store().may_write_indexed_table("update \"P\" SET label = 'y'"));
  EXPECT_TRUE(store().may_write_indexed_table("DELETE FROM main.[p]"));
  EXPECT_TRUE(store().may_write_indexed_table("DELETE FROM main.`P` WHERE id = 1"));
  EXPECT_FALSE(store().may_write_indexed_table("INSERT INTO other VALUES (1)"));
  EXPECT_FALSE(store().may_write_indexed_table("INSERT INTO pp VALUES (1)"));
  // Words in string literals and comments are not names.
  EXPECT_FALSE(store().may_write_indexed_table("INSERT INTO other VALUES ('p') -- p"));
  EXPECT_FALSE(store().may_write_indexed_table(""));
}

TEST_F(VectorIndexStore, LoadsTheGraphAndReloadsItWhenTheFileChanges) {
  store().refresh();
  VectorIndex* ix = store().find("main", "pi");
  ASSERT_NE(ix, nullptr);
  EXPECT_EQ(ix->cache, nullptr);
  GraphCache& cache = store().graph(*ix);
  ASSERT_TRUE(cache.graph.has_value());
  EXPECT_TRUE(cache.valid);
  EXPECT_EQ(cache.params.dims, 2);
  EXPECT_EQ(cache.params.metric, vector::Metric::L2);
  // The row without a vector is not in the graph.
  EXPECT_EQ(cache.graph->size(), 3U);
  EXPECT_TRUE(cache.graph->contains(4));
  EXPECT_FALSE(cache.graph->contains(3));
  const float query[2] = {3.9F, 0.0F};
  auto nearest = cache.graph->search(query, 1, cache.params.search_l);
  ASSERT_EQ(nearest.size(), 1U);
  EXPECT_EQ(nearest[0].second, 4);

  // Unchanged: the same graph.
  const vector::Graph* before = &*store().graph(*ix).graph;
  EXPECT_EQ(&*store().graph(*ix).graph, before);

  // Another connection writes: the graph is read again.
  run(conn(), "INSERT INTO p VALUES (5, 'e', '[5,0]')");
  GraphCache& reloaded = store().graph(*ix);
  EXPECT_EQ(reloaded.graph->size(), 4U);
  EXPECT_TRUE(reloaded.graph->contains(5));

  // The cache survives a refresh that finds the same index, and not invalidate_all().
  store().refresh();
  ix = store().find("main", "pi");
  ASSERT_NE(ix, nullptr);
  EXPECT_NE(ix->cache, nullptr);
  store().invalidate_all();
  EXPECT_EQ(ix->cache, nullptr);
  EXPECT_FALSE(store().in_sync());
  store().clear();
  EXPECT_TRUE(store().all().empty());
  EXPECT_EQ(store().find("main", "pi"), nullptr);
}

TEST_F(VectorIndexStore, ReadsMetadataAndKeys) {
  const vector::IndexParams params = store().read_params("main", "pi");
  EXPECT_EQ(params.dims, 2);
  EXPECT_EQ(params.type, vector::Type::F32);
  try {
    store().read_params("main", "missing");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "no vector index metadata");
  }
  try {
    store().read_params("temp", "pi");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "no vector index metadata");
  }

  run(conn(), "CREATE TABLE w(k TEXT PRIMARY KEY COLLATE NOCASE, v F32_BLOB(2)) WITHOUT ROWID");
  run(conn(), "CREATE TABLE n(k INTEGER PRIMARY KEY, v F32_BLOB(2)) WITHOUT ROWID");
  run(conn(), "CREATE TABLE c(a INT, b INT, PRIMARY KEY (a, b)) WITHOUT ROWID");
  const vector::KeyInfo text_key = store().key_info("main", "w");
  EXPECT_TRUE(text_key.without_rowid);
  EXPECT_FALSE(text_key.rowid_like);
  EXPECT_EQ(text_key.column, "k");
  EXPECT_EQ(text_key.affinity, " TEXT");
  EXPECT_EQ(text_key.collation, "NOCASE");
  EXPECT_EQ(text_key.expression(), "\"k\"");
  const vector::KeyInfo integer_key = store().key_info("main", "n");
  EXPECT_TRUE(integer_key.without_rowid);
  EXPECT_TRUE(integer_key.rowid_like);
  EXPECT_EQ(integer_key.affinity, " INTEGER");
  const vector::KeyInfo rowid = store().key_info("main", "p");
  EXPECT_FALSE(rowid.without_rowid);
  EXPECT_TRUE(rowid.rowid_like);
  try {
    store().key_info("main", "c");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "vector index: unsupported for tables without ROWID and composite primary key");
  }
  try {
    store().key_info("main", "nope");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "vector index: no such table: nope");
  }
}

TEST_F(VectorIndexStore, NonIntegerKeysGoThroughShadowRows) {
  run(conn(), "CREATE TABLE w(k TEXT PRIMARY KEY, v F32_BLOB(2)) WITHOUT ROWID");
  run(conn(), "INSERT INTO w VALUES ('one', '[1,0]'), ('two', NULL)");
  run(conn(), "CREATE INDEX wi ON w(libsql_vector_idx(v))");
  store().refresh();
  VectorIndex* ix = store().find("main", "wi");
  ASSERT_NE(ix, nullptr);
  EXPECT_FALSE(ix->key.rowid_like);
  GraphCache& cache = store().graph(*ix);
  ASSERT_EQ(cache.graph->size(), 1U);

  NestedSql keys(db());
  Query one = keys("SELECT 'one', 'two'");
  ASSERT_TRUE(one.step());
  sqlite3_value* key_one = sqlite3_column_value(one.get(), 0);
  sqlite3_value* key_two = sqlite3_column_value(one.get(), 1);
  const std::int64_t id = store().shadow_rowid(*ix, key_one, false);
  EXPECT_NE(id, 0);
  EXPECT_TRUE(cache.graph->contains(id));
  const auto base = store().base_key(*ix, id);
  ASSERT_NE(base, nullptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_value_text(base.get())), "one");
  // A key without a vector has no shadow row unless asked for one.
  EXPECT_EQ(store().shadow_rowid(*ix, key_two, false), 0);
  EXPECT_EQ(store().base_key(*ix, id + 1000), nullptr);
}

TEST_F(VectorIndexStore, TokensAndMetadataTables) {
  store().refresh();
  // Without this connection's TEMP table there is no token.
  EXPECT_EQ(store().stored_token("main", "pi"), 0);
  store().ensure_state_table();
  store().ensure_state_table();  // asked again: no error
  EXPECT_EQ(store().stored_token("main", "pi"), 0);
  store().add_state_row(*store().find("main", "pi"));
  EXPECT_EQ(column(db(), "SELECT token FROM temp.__ecto_libsql_vector_state"), Values{"0"});
  exec(db(), "UPDATE temp.__ecto_libsql_vector_state SET token = 17");
  store().add_state_row(*store().find("main", "pi"));  // keeps the row it has
  EXPECT_EQ(store().stored_token("MAIN", "Pi"), 17);

  EXPECT_EQ(store().schemas_with_metadata(), Values{"main"});
  exec(db(), "ATTACH ':memory:' AS aux");
  EXPECT_EQ(store().schemas_with_metadata(), Values{"main"});
  store().create_metadata_table("aux");
  EXPECT_EQ(store().schemas_with_metadata(), (Values{"main", "aux"}));
  const std::vector<std::uint8_t> metadata = {1, 2, 3};
  EXPECT_TRUE(store().add_metadata("aux", "gone", metadata));
  EXPECT_FALSE(store().add_metadata("aux", "gone", metadata));
  // An index the schema does not have: its metadata and shadow table are orphans.
  exec(db(), "CREATE TABLE aux.gone_shadow(index_key INTEGER, data BLOB)");
  store().drop_orphans("aux");
  EXPECT_EQ(column(db(), "SELECT count(*) FROM aux.libsql_vector_meta_shadow"), Values{"0"});
  EXPECT_EQ(column(db(), "SELECT count(*) FROM aux.sqlite_schema WHERE name = 'gone_shadow'"),
            Values{"0"});
  // main's index is not an orphan.
  store().drop_orphans("main");
  EXPECT_EQ(column(db(), "SELECT name FROM main.libsql_vector_meta_shadow"), Values{"pi"});
}

}  // namespace
