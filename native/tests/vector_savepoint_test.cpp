// The savepoint guard of the vector module's DDL, on a plain SQLite connection.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "plain_sqlite.hpp"
#include "vector/nested_sql.hpp"
#include "vector/savepoint.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using ecto_libsql::vector::Savepoint;

namespace {

void exec(sqlite3* db, const std::string& sql) {
  vector::exec_sql(db, sql);
}

bool in_transaction(sqlite3* db) {
  return sqlite3_get_autocommit(db) == 0;
}

using Values = std::vector<std::string>;

class VectorSavepoint : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = open_plain(":memory:");
    exec(db(), "CREATE TABLE t(x TEXT)");
  }
  sqlite3* db() const { return db_.get(); }
  Values rows() const { return column(db(), "SELECT x FROM t ORDER BY rowid"); }
  void insert(const std::string& x) const { exec(db(), "INSERT INTO t VALUES ('" + x + "')"); }

 private:
  PlainDb db_;
};

TEST_F(VectorSavepoint, ReleaseKeepsTheChangesAndEndsTheTransactionItOpened) {
  {
    Savepoint savepoint(db(), "sp");
    EXPECT_TRUE(in_transaction(db()));
    insert("a");
    savepoint.release();
    EXPECT_FALSE(in_transaction(db()));
  }
  EXPECT_EQ(rows(), Values{"a"});
  EXPECT_FALSE(in_transaction(db()));
}

TEST_F(VectorSavepoint, AnExceptionRollsBack) {
  insert("before");
  EXPECT_THROW(
      {
        Savepoint savepoint(db(), "sp");
        insert("a");
        throw std::runtime_error("fails part-way");
      },
      std::runtime_error);
  EXPECT_EQ(rows(), Values{"before"});
  EXPECT_FALSE(in_transaction(db()));
}

TEST_F(VectorSavepoint, AnEarlyReturnRollsBack) {
  const auto write = [&](bool give_up) {
    Savepoint savepoint(db(), "sp");
    insert("a");
    if (give_up) return;
    insert("b");
    savepoint.release();
  };
  write(true);
  EXPECT_EQ(rows(), Values{});
  EXPECT_FALSE(in_transaction(db()));
  write(false);
  EXPECT_EQ(rows(), (Values{"a", "b"}));
}

TEST_F(VectorSavepoint, NestedGuardsRollBackOnlyTheirOwnPart) {
  {
    Savepoint outer(db(), "outer");
    insert("a");
    {
      Savepoint inner(db(), "inner");
      insert("b");
    }  // rolled back
    {
      Savepoint inner(db(), "inner");
      insert("c");
      inner.release();
    }
    EXPECT_TRUE(in_transaction(db()));
    outer.release();
  }
  EXPECT_EQ(rows(), (Values{"a", "c"}));

  // An inner guard that was released is rolled back with the outer one.
  {
    Savepoint outer(db(), "outer");
    insert("d");
    Savepoint inner(db(), "inner");
    insert("e");
    inner.release();
  }
  EXPECT_EQ(rows(), (Values{"a", "c"}));
  EXPECT_FALSE(in_transaction(db()));
}

TEST_F(VectorSavepoint, GuardsOfTheSameNameNest) {
  {
    Savepoint outer(db(), "same");
    insert("a");
    {
      Savepoint inner(db(), "same");
      insert("b");
    }
    EXPECT_TRUE(in_transaction(db()));
    insert("c");
    outer.release();
  }
  EXPECT_EQ(rows(), (Values{"a", "c"}));
  EXPECT_FALSE(in_transaction(db()));
}

TEST_F(VectorSavepoint, InsideATransactionItLeavesTheTransactionOpen) {
  exec(db(), "BEGIN");
  insert("a");
  {
    Savepoint savepoint(db(), "sp");
    insert("b");
  }
  EXPECT_TRUE(in_transaction(db()));
  EXPECT_EQ(rows(), Values{"a"});
  {
    Savepoint savepoint(db(), "sp");
    insert("c");
    savepoint.release();
  }
  EXPECT_TRUE(in_transaction(db()));
  exec(db(), "ROLLBACK");
  EXPECT_EQ(rows(), Values{});
}

TEST_F(VectorSavepoint, AReleaseThatFailsThrowsAndTheGuardStillRollsBack) {
  // Releasing the outermost savepoint commits; a deferred foreign key violation refuses that.
  exec(db(), "PRAGMA foreign_keys = ON");
  exec(db(),
       "CREATE TABLE parent(id INTEGER PRIMARY KEY); CREATE TABLE child(p INTEGER REFERENCES "
       "parent(id) DEFERRABLE INITIALLY DEFERRED)");
  {
    Savepoint savepoint(db(), "sp");
    insert("a");
    exec(db(), "INSERT INTO child VALUES (42)");
    try {
      savepoint.release();
      ADD_FAILURE() << "release() succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_FOREIGNKEY);
    }
    EXPECT_TRUE(in_transaction(db()));
  }
  EXPECT_FALSE(in_transaction(db()));
  EXPECT_EQ(rows(), Values{});
  EXPECT_EQ(column(db(), "SELECT count(*) FROM child"), Values{"0"});
}

TEST_F(VectorSavepoint, OpeningThatFailsThrowsAndLeavesNothingOpen) {
  sqlite3_set_authorizer(
      db(),
      [](void*, int action, const char*, const char*, const char*, const char*) {
        return action == SQLITE_SAVEPOINT ? SQLITE_DENY : SQLITE_OK;
      },
      nullptr);
  try {
    Savepoint savepoint(db(), "sp");
    ADD_FAILURE() << "the savepoint opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_AUTH);
  }
  sqlite3_set_authorizer(db(), nullptr, nullptr);
  EXPECT_FALSE(in_transaction(db()));
}

TEST_F(VectorSavepoint, TheDestructorSwallowsARollbackThatFails) {
  exec(db(), "BEGIN");
  {
    Savepoint savepoint(db(), "sp");
    insert("a");
    // The transaction ends under the guard: ROLLBACK TO finds no savepoint.
    exec(db(), "ROLLBACK");
  }
  EXPECT_FALSE(in_transaction(db()));
  insert("b");
  EXPECT_EQ(rows(), Values{"b"});
}

TEST_F(VectorSavepoint, NamesAreQuoted) {
  {
    Savepoint savepoint(db(), "we\"ird 'name");
    insert("a");
  }
  EXPECT_EQ(rows(), Values{});
  {
    Savepoint savepoint(db(), "we\"ird 'name");
    insert("b");
    savepoint.release();
  }
  EXPECT_EQ(rows(), Values{"b"});
}

}  // namespace
