// Vector indexes on local connections: maintenance on every kind of write, transactions,
// persistence, DDL, errors, and the rules the NIF relies on (blocking writes, yields).
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

using Ids = std::vector<std::string>;

Ids ids(Connection& conn, const std::string& sql, std::vector<ParamValue> params = {}) {
  Ids out;
  for (auto& r : rows(conn, sql, std::move(params)))
    out.push_back(r[0]);
  return out;
}

std::string error_of(Connection& conn, const std::string& sql) {
  try {
    rows(conn, sql);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

// Six points on a line: the nearest neighbours of x are known exactly.
void make_points(Connection& conn, const std::string& options = "") {
  run(conn, "CREATE TABLE p(id INTEGER PRIMARY KEY, label TEXT, v F32_BLOB(2))");
  run(conn,
      "INSERT INTO p VALUES (1,'a','[1,0]'), (2,'b','[2,0]'), (3,'c','[3,0]'), (4,'d','[4,0]'), "
      "(5,'e','[5,0]'), (6,'f','[6,0]')");
  run(conn, "CREATE INDEX pi ON p(libsql_vector_idx(v, 'metric=l2'" + options + "))");
}

std::string top(Connection& conn, const std::string& vec, int k, const std::string& index = "pi") {
  std::string out;
  for (auto& r : rows(conn, "SELECT id FROM vector_top_k('" + index + "', vector32('" + vec +
                                "'), " + std::to_string(k) + ")")) {
    out += r[0] + " ";
  }
  return out;
}

TEST(VectorIndex, SearchOrdersByDistanceAndHonoursK) {
  auto conn = open_local(":memory:");
  make_points(*conn);
  EXPECT_EQ(top(*conn, "[3.1,0]", 3), "3 4 2 ");
  EXPECT_EQ(top(*conn, "[100,0]", 10), "6 5 4 3 2 1 ");
  EXPECT_EQ(top(*conn, "[0,0]", 0), "");
  // k as an integral REAL, and arguments bound as parameters.
  EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('pi', '[5.9,0]', 2.0)"), (Ids{"6", "5"}));
  EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k(?, vector32(?), ?)",
                {std::string_view("pi"), std::string_view("[0.9,0]"), std::int64_t{1}}),
            (Ids{"1"}));
  // Joined back to the table, as libSQL's documentation does it.
  EXPECT_EQ(ids(*conn,
                "SELECT p.label FROM vector_top_k('pi', '[2.2,0]', 2) AS k "
                "JOIN p ON p.rowid = k.id"),
            (Ids{"b", "c"}));
}

TEST(VectorIndex, InsertsUpdatesAndDeletesAreIndexed) {
  auto conn = open_local(":memory:");
  make_points(*conn);
  run(*conn, "INSERT INTO p VALUES (7, 'g', vector32('[3.2,0]'))");
  EXPECT_EQ(top(*conn, "[3.3,0]", 2), "7 3 ");
  run(*conn, "UPDATE p SET v = '[10,0]' WHERE id = 7");
  EXPECT_EQ(top(*conn, "[9,0]", 1), "7 ");
  run(*conn, "UPDATE p SET id = 70 WHERE id = 7");  // the key changes, the vector does not
  EXPECT_EQ(top(*conn, "[9,0]", 1), "70 ");
  run(*conn, "UPDATE p SET label = 'x' WHERE id = 70");  // not the vector: nothing to do
  run(*conn, "DELETE FROM p WHERE id IN (70, 3)");
  EXPECT_EQ(top(*conn, "[3,0]", 2), "2 4 ");
  run(*conn, "UPDATE p SET v = NULL WHERE id = 4");
  EXPECT_EQ(top(*conn, "[4,0]", 2), "5 2 ");
  run(*conn, "INSERT OR REPLACE INTO p VALUES (5, 'e2', vector32('[0,9]'))");
  EXPECT_EQ(top(*conn, "[0,9]", 1), "5 ");
  run(*conn,
      "INSERT INTO p VALUES (5, 'e3', '[20,0]') ON CONFLICT (id) DO UPDATE SET v = excluded.v");
  EXPECT_EQ(top(*conn, "[19,0]", 1), "5 ");
  run(*conn, "INSERT OR REPLACE INTO p VALUES (5, 'e4', NULL)");
  EXPECT_EQ(top(*conn, "[19,0]", 1), "6 ");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM pi_shadow")[0][0], "3");  // rows 1, 2 and 6
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, BadVectorsFailTheWholeStatement) {
  auto conn = open_local(":memory:");
  make_points(*conn);
  EXPECT_EQ(error_of(*conn, "INSERT INTO p VALUES (10,'x','[1,1]'), (11,'y','[1,1,1]')"),
            "vector index(insert): dimensions are different: 3 != 2");
  EXPECT_EQ(error_of(*conn, "INSERT INTO p VALUES (12,'x','hello')"),
            "vector: must start with '['");
  EXPECT_EQ(error_of(*conn, "INSERT INTO p VALUES (12,'x',42)"),
            "vector: unexpected value type: got INTEGER, expected TEXT or BLOB");
  EXPECT_EQ(error_of(*conn, "INSERT INTO p VALUES (12,'x',vector64('[1,1]'))"),
            "vector index(insert): vector type differs from column type: 2 != 1");
  EXPECT_EQ(error_of(*conn, "UPDATE p SET v = '[1,2,3]' WHERE id <= 2"),
            "vector index(insert): dimensions are different: 3 != 2");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM p")[0][0], "6");
  EXPECT_EQ(ids(*conn, "SELECT vector_extract(v) FROM p WHERE id = 1"), (Ids{"[1,0]"}));
  EXPECT_EQ(top(*conn, "[1,1]", 1), "1 ");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, TransactionsAndSavepointsRollIndexChangesBack) {
  TempDir dir;
  auto conn = open_local(dir.file("tx.db"));
  make_points(*conn);
  run(*conn, "BEGIN");
  run(*conn, "INSERT INTO p VALUES (7, 'g', '[7,0]')");
  EXPECT_EQ(top(*conn, "[7,0]", 1), "7 ");
  run(*conn, "ROLLBACK");
  EXPECT_EQ(top(*conn, "[7,0]", 1), "6 ");

  run(*conn, "BEGIN");
  run(*conn, "DELETE FROM p WHERE id = 6");
  run(*conn, "SAVEPOINT s");
  run(*conn, "INSERT INTO p VALUES (8, 'h', '[8,0]')");
  EXPECT_EQ(top(*conn, "[9,0]", 1), "8 ");
  run(*conn, "ROLLBACK TO s");
  EXPECT_EQ(top(*conn, "[9,0]", 1), "5 ");
  // A statement that fails half-way inside the transaction leaves the earlier ones in place.
  EXPECT_NE(error_of(*conn, "INSERT INTO p VALUES (9,'i','[0,9]'), (10,'j','[0]')"), "");
  EXPECT_EQ(top(*conn, "[0,9]", 1), "1 ");
  run(*conn, "COMMIT");
  EXPECT_EQ(top(*conn, "[9,0]", 2), "5 4 ");
  auto other = open_local(dir.file("tx.db"));
  EXPECT_EQ(top(*other, "[9,0]", 2), "5 4 ");
  EXPECT_EQ(rows(*other, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, PersistsAndIsSharedBetweenConnections) {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  {
    auto conn = open_local(path);
    make_points(*conn);
  }
  auto a = open_local(path);
  auto b = open_local(path);
  EXPECT_EQ(top(*a, "[2.9,0]", 2), "3 2 ");  // loads a's copy of the graph
  run(*b, "INSERT INTO p VALUES (7, 'g', '[2.95,0]')");
  run(*b, "DELETE FROM p WHERE id = 3");
  EXPECT_EQ(top(*a, "[2.9,0]", 2), "7 2 ");  // a notices b's commit
  run(*a, "INSERT INTO p VALUES (8, 'h', '[2.91,0]')");
  EXPECT_EQ(top(*b, "[2.9,0]", 2), "8 7 ");
  EXPECT_EQ(rows(*a, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, IndexCreatedElsewhereIsMaintainedByCachedStatements) {
  TempDir dir;
  const std::string path = dir.file("late.db");
  auto a = open_local(path);
  auto b = open_local(path);
  run(*a, "CREATE TABLE p(id INTEGER PRIMARY KEY, label TEXT, v F32_BLOB(2))");
  const std::string insert = "INSERT INTO p VALUES (?, 'x', ?)";
  rows(*b, insert, {std::int64_t{1}, std::string_view("[1,0]")});  // cached in b, no index yet
  run(*a, "CREATE INDEX pi ON p(libsql_vector_idx(v, 'metric=l2'))");
  rows(*b, insert, {std::int64_t{2}, std::string_view("[2,0]")});
  {
    Connection::Guard guard(*b);
    b->run("BEGIN");
    StatementLease stmt = b->acquire(insert);
    Params params;
    params.positional = {std::int64_t{3}, std::string_view("[3,0]")};
    stmt->bind(params);
    EXPECT_TRUE(stmt->blocking());
    EXPECT_EQ(stmt->step(nullptr), Step::Done);
  }
  run(*b, "COMMIT");
  EXPECT_EQ(top(*a, "[2.9,0]", 3), "3 2 1 ");
  EXPECT_EQ(top(*b, "[0,0]", 3), "1 2 3 ");
  EXPECT_EQ(rows(*a, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, DropIndexAndDropTableRemoveShadowTables) {
  auto conn = open_local(":memory:");
  make_points(*conn);
  run(*conn, "CREATE TABLE q(id INTEGER PRIMARY KEY, v F32_BLOB(2))");
  run(*conn, "CREATE INDEX qi ON q(libsql_vector_idx(v))");
  run(*conn, "BEGIN");
  run(*conn, "DROP INDEX pi");
  EXPECT_EQ(ids(*conn, "SELECT name FROM sqlite_master WHERE name LIKE 'pi%'"), Ids{});
  run(*conn, "ROLLBACK");
  EXPECT_EQ(ids(*conn, "SELECT name FROM sqlite_master WHERE name LIKE 'pi%' ORDER BY 1"),
            (Ids{"pi", "pi_shadow", "pi_shadow_idx"}));
  EXPECT_EQ(top(*conn, "[1,0]", 1), "1 ");
  run(*conn, "DROP INDEX pi");
  EXPECT_EQ(ids(*conn, "SELECT name FROM libsql_vector_meta_shadow"), (Ids{"qi"}));
  EXPECT_EQ(error_of(*conn, "SELECT * FROM vector_top_k('pi', '[1,0]', 1)"),
            "vector index(search): failed to parse vector index parameters");
  run(*conn, "INSERT INTO p VALUES (7, 'g', '[1,1]')");  // no index to maintain any more
  run(*conn, "DROP TABLE q");
  EXPECT_EQ(ids(*conn, "SELECT name FROM sqlite_master WHERE name LIKE 'q%'"), Ids{});
  EXPECT_EQ(ids(*conn, "SELECT name FROM libsql_vector_meta_shadow"), Ids{});
  EXPECT_EQ(ids(*conn, "SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger'"), Ids{"0"});
  // The same names can be used again.
  run(*conn, "CREATE INDEX pi ON p(libsql_vector_idx(v))");
  EXPECT_EQ(top(*conn, "[1,1]", 1), "7 ");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, CreateIndexErrorsAreLibsqls) {
  auto conn = open_local(":memory:");
  run(*conn,
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v F32_BLOB(3), w BLOB, "
      "z F32_BLOB(0), y FLOAT32(3,4))");
  run(*conn, "INSERT INTO t(id, v) VALUES (1, '[1,2,3]')");
  const std::pair<const char*, const char*> cases[] = {
      {"CREATE INDEX e ON t(libsql_vector_idx(name))",
       "vector index: unexpected vector column type: TEXT"},
      {"CREATE INDEX e ON t(libsql_vector_idx(w))",
       "vector index: unexpected vector column type: BLOB"},
      {"CREATE INDEX e ON t(libsql_vector_idx(z))",
       "vector index: vector column must have non-zero dimension for index: F32_BLOB(0)"},
      {"CREATE INDEX e ON t(libsql_vector_idx(y))",
       "vector index: non digit symbol in vector column parameter: FLOAT32(3,4)"},
      {"CREATE INDEX e ON t(libsql_vector_idx(id))",
       "vector index: libsql_vector_idx first argument must be column with vector type"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v || 'x'))",
       "vector index: libsql_vector_idx first argument must be a column token"},
      {"CREATE INDEX e ON t(libsql_vector_idx())",
       "vector idnex: libsql_vector_idx must contain at least one argument"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 3))",
       "vector index: all arguments after first must be strings"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 'bogus=1'))",
       "vector index: invalid vector index parameter 'bogus=1': invalid parameter"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 'metric'))",
       "vector index: invalid vector index parameter 'metric': unexpected parameter format"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 'max_neighbors=x'))",
       "vector index: invalid vector index parameter 'max_neighbors=x': invalid representation of "
       "integer vector index parameter"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 'search_l=-4'))",
       "vector index: invalid vector index parameter 'search_l=-4': integer vector index parameter "
       "must be positive"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 'alpha=fast'))",
       "vector index: invalid vector index parameter 'alpha=fast': invalid representation of "
       "floating point vector index parameter"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v, 'metric=l2', 'compress_neighbors=float1bit'))",
       "vector index: unable to initialize diskann: 1-bit compression available only for cosine "
       "metric"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v) COLLATE nocase)",
       "vector index: collation in expression is forbidden"},
      {"CREATE INDEX e ON t(libsql_vector_idx(v), name)",
       "vector index: must contain exactly one column wrapped into the libsql_vector_idx function"},
  };
  for (const auto& [sql, message] : cases) {
    EXPECT_EQ(error_of(*conn, sql), message) << sql;
  }
  // SQLite's own errors come first, as in libSQL.
  EXPECT_EQ(error_of(*conn, "CREATE INDEX e ON t(libsql_vector_idx(nosuch))"),
            "no such column: nosuch");
  EXPECT_EQ(error_of(*conn, "CREATE INDEX e ON t(libsql_vector_idx(rowid))"),
            "no such column: rowid");
  // Nothing of the failed attempts is left behind.
  EXPECT_EQ(ids(*conn, "SELECT name FROM sqlite_master WHERE type <> 'table' OR name <> 't'"),
            Ids{});
  // A rowid table is fine; a WITHOUT ROWID table needs a single-column key.
  run(*conn, "CREATE TABLE c(a INT, b INT, v F32_BLOB(2), PRIMARY KEY (a, b)) WITHOUT ROWID");
  EXPECT_EQ(error_of(*conn, "CREATE INDEX ce ON c(libsql_vector_idx(v))"),
            "vector index: unsupported for tables without ROWID and composite primary key");
  // An existing index and IF NOT EXISTS: nothing happens, whatever the options say.
  run(*conn, "CREATE INDEX e ON t(libsql_vector_idx(v))");
  run(*conn, "CREATE INDEX IF NOT EXISTS e ON t(libsql_vector_idx(v, 'bogus=1'))");
  EXPECT_EQ(error_of(*conn, "CREATE INDEX e ON t(libsql_vector_idx(v))"), "index e already exists");
  // Other expression indexes are ordinary indexes.
  run(*conn, "CREATE INDEX plain ON t(length(name))");
  EXPECT_EQ(ids(*conn, "SELECT name FROM libsql_vector_meta_shadow"), (Ids{"e"}));
}

TEST(VectorIndex, SearchErrorsAreLibsqls) {
  auto conn = open_local(":memory:");
  make_points(*conn);
  run(*conn, "CREATE INDEX plain ON p(label)");
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT * FROM vector_top_k('pi', '[1,0]', -1)",
       "vector index(search): third parameter (k) must be a non-negative integer, but negative "
       "value were provided"},
      {"SELECT * FROM vector_top_k('pi', '[1,0]', 1.5)",
       "vector index(search): third parameter (k) must be an integer, but float value were "
       "provided"},
      {"SELECT * FROM vector_top_k('pi', '[1,0]', '3')",
       "vector index(search): third parameter (k) must be an integer, but unexpected type of value "
       "were provided"},
      {"SELECT * FROM vector_top_k(1, '[1,0]', 3)",
       "vector index(search): first parameter (index) must be a string"},
      {"SELECT * FROM vector_top_k('nowhere.pi', '[1,0]', 3)",
       "vector index(search): unknown schema 'nowhere'"},
      {"SELECT * FROM vector_top_k('pi', '[1,0]')",
       "vector index(search): got 2 parameters, expected 3"},
      {"SELECT * FROM vector_top_k('plain', '[1,0]', 3)",
       "vector index(search): failed to parse vector index parameters"},
      {"SELECT * FROM vector_top_k('pi', '[1,0,0]', 3)",
       "vector index(search): dimensions are different: 3 != 2"},
      {"SELECT * FROM vector_top_k('pi', vector64('[1,0]'), 3)",
       "vector index(search): vector type differs from column type: 2 != 1"},
      {"SELECT * FROM vector_top_k('pi', '[1,x]', 3)", "vector: invalid float at position 1: 'x'"},
      {"SELECT * FROM vector_top_k('pi', NULL, 3)",
       "vector: unexpected value type: got NULL, expected TEXT or BLOB"},
  };
  for (const auto& [sql, message] : cases) {
    EXPECT_EQ(error_of(*conn, sql), message) << sql;
  }
  // The maintenance function is the triggers' alone.
  EXPECT_EQ(error_of(*conn,
                     "SELECT __ecto_libsql_vector_update(1, 'main', 'pi', 'p', 'v', 0, "
                     "NULL, 9, '[9,9]')"),
            "vector index: internal function");
  EXPECT_EQ(top(*conn, "[9,9]", 1), "6 ");
}

TEST(VectorIndex, WithoutRowidTablesUseTheirKey) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE w(k TEXT PRIMARY KEY COLLATE NOCASE, v F32_BLOB(2)) WITHOUT ROWID");
  run(*conn, "INSERT INTO w VALUES ('one', '[1,0]'), ('two', '[2,0]'), ('three', '[3,0]')");
  run(*conn, "CREATE INDEX wi ON w(libsql_vector_idx(v, 'metric=l2'))");
  EXPECT_EQ(ids(*conn, "SELECT sql FROM sqlite_master WHERE name = 'wi_shadow'"),
            (Ids{"CREATE TABLE wi_shadow (rowid INTEGER PRIMARY KEY, index_key  TEXT NOCASE, data "
                 "BLOB, UNIQUE (index_key))"}));
  EXPECT_EQ(top(*conn, "[2.2,0]", 2, "wi"), "two three ");
  run(*conn, "UPDATE w SET k = 'TWO!' WHERE k = 'two'");
  run(*conn, "DELETE FROM w WHERE k = 'THREE'");
  run(*conn, "INSERT INTO w VALUES ('four', '[2.3,0]')");
  EXPECT_EQ(top(*conn, "[2.2,0]", 3, "wi"), "four TWO! one ");
  EXPECT_EQ(ids(*conn, "SELECT typeof(id) FROM vector_top_k('wi', '[0,0]', 1)"), (Ids{"text"}));
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM wi_shadow")[0][0], "3");
  run(*conn, "CREATE TABLE n(k INTEGER PRIMARY KEY, v F32_BLOB(2)) WITHOUT ROWID");
  run(*conn, "INSERT INTO n VALUES (10, '[1,0]'), (20, '[0,1]')");
  run(*conn, "CREATE INDEX ni ON n(libsql_vector_idx(v))");
  EXPECT_EQ(
      ids(*conn, "SELECT sql FROM sqlite_master WHERE name = 'ni_shadow'"),
      (Ids{"CREATE TABLE ni_shadow (index_key  INTEGER , data BLOB, PRIMARY KEY (index_key))"}));
  EXPECT_EQ(top(*conn, "[0,1]", 1, "ni"), "20 ");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(VectorIndex, EveryVectorTypeCanBeIndexed) {
  auto conn = open_local(":memory:");
  const std::pair<const char*, const char*> types[] = {
      {"F64_BLOB(3)", "vector64"}, {"F16_BLOB(3)", "vector16"},     {"FB16_BLOB(3)", "vectorb16"},
      {"F8_BLOB(3)", "vector8"},   {"F1BIT_BLOB(3)", "vector1bit"}, {"FLOAT32(3)", "vector32"},
  };
  for (const auto& [type, fn] : types) {
    SCOPED_TRACE(type);
    run(*conn, "DROP TABLE IF EXISTS x");
    run(*conn, std::string("CREATE TABLE x(id INTEGER PRIMARY KEY, v ") + type + ")");
    const std::string f = fn;
    run(*conn, "INSERT INTO x VALUES (1, " + f + "('[1,2,3]')), (2, " + f +
                   "('[-1,-2,-3]')), (3, " + f + "('[3,-2,1]'))");
    run(*conn, "CREATE INDEX xi ON x(libsql_vector_idx(v))");
    run(*conn, "INSERT INTO x VALUES (4, " + f + "('[-3,2,-1]'))");
    EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('xi', " + f + "('[1,2,2]'), 1)"), (Ids{"1"}));
    EXPECT_EQ(ids(*conn, "SELECT id FROM vector_top_k('xi', " + f + "('[-3,2,-1]'), 1)"),
              (Ids{"4"}));
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  }
}

TEST(VectorIndex, WritesToIndexedTablesReportThemselvesBlocking) {
  auto conn = open_local(":memory:");
  make_points(*conn);
  run(*conn, "CREATE TABLE other(x)");
  Connection::Guard guard(*conn);
  EXPECT_TRUE(conn->acquire("INSERT INTO p VALUES (9, 'x', '[9,9]')")->blocking());
  EXPECT_TRUE(conn->acquire("DELETE FROM \"P\" WHERE id = 9")->blocking());
  EXPECT_FALSE(conn->acquire("SELECT * FROM p")->blocking());
  EXPECT_FALSE(conn->acquire("INSERT INTO other VALUES (1)")->blocking());
  EXPECT_TRUE(conn->acquire("CREATE INDEX pi2 ON p(libsql_vector_idx(v))")->blocking());
}

TEST(VectorIndex, LoadingAGraphYieldsUnderANonBlockingBudget) {
  TempDir dir;
  const std::string path = dir.file("big.db");
  {
    auto conn = open_local(path);
    run(*conn, "CREATE TABLE big(id INTEGER PRIMARY KEY, v F32_BLOB(4))");
    run(*conn,
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) "
        "INSERT INTO big SELECT i, vector32('[' || (i % 17) || ',' || (i % 13) || ',' || "
        "(i % 11) || ',' || (i % 7) || ']') FROM c");
    run(*conn, "CREATE INDEX bi ON big(libsql_vector_idx(v))");
  }
  auto conn = open_local(path);
  Connection::Guard guard(*conn);
  const std::string sql = "SELECT id FROM vector_top_k('bi', '[1,1,1,1]', 3)";
  StatementLease stmt = conn->acquire(sql);
  stmt->bind(Params{});
  ExecBudget expired{true, std::chrono::steady_clock::now()};
  EXPECT_EQ(stmt->step(&expired), Step::Yield);
  stmt->bind(Params{});
  EXPECT_EQ(stmt->step(nullptr), Step::Row);
}

TEST(VectorIndex, PartialIndexesHoldTheRowsTheirConditionSelects) {
  TempDir dir;
  const std::string path = dir.file("partial.db");
  {
    auto conn = open_local(path);
    run(*conn, "CREATE TABLE p(id INTEGER PRIMARY KEY, label TEXT, v F32_BLOB(2))");
    run(*conn, "INSERT INTO p VALUES (1,'keep','[1,0]'), (2,'skip','[2,0]'), (3,'keep','[3,0]')");
    run(*conn, "CREATE INDEX pk ON p(libsql_vector_idx(v, 'metric=l2')) WHERE label = 'keep'");
    EXPECT_EQ(top(*conn, "[2,0]", 5, "pk"), "1 3 ");
    run(*conn, "INSERT INTO p VALUES (4,'skip','[2.1,0]'), (5,'keep','[2.2,0]')");
    EXPECT_EQ(top(*conn, "[2,0]", 5, "pk"), "5 1 3 ");
    run(*conn, "UPDATE p SET label = 'keep' WHERE id = 2");
    run(*conn, "UPDATE p SET label = 'skip' WHERE id = 5");
    EXPECT_EQ(top(*conn, "[2,0]", 5, "pk"), "2 1 3 ");
    run(*conn, "UPDATE p SET v = '[9,0]' WHERE id = 4");  // not selected: stays out
    EXPECT_EQ(top(*conn, "[9,0]", 1, "pk"), "3 ");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  }
  auto again = open_local(path);
  EXPECT_EQ(top(*again, "[2,0]", 5, "pk"), "2 1 3 ");
  EXPECT_EQ(rows(*again, "SELECT count(*) FROM pk_shadow")[0][0], "3");
}

TEST(VectorIndex, VacuumKeepsTheIndex) {
  TempDir dir;
  auto conn = open_local(dir.file("vacuum.db"));
  make_points(*conn);
  run(*conn, "DELETE FROM p WHERE id > 3");
  run(*conn, "VACUUM");
  EXPECT_EQ(top(*conn, "[9,0]", 2), "3 2 ");
  run(*conn, "INSERT INTO p VALUES (9, 'x', '[9,0]')");
  EXPECT_EQ(top(*conn, "[9,0]", 1), "9 ");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

}  // namespace
