#include "ecto_libsql/local/local_connection.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "ecto_libsql/lock_wait.hpp"
#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

TEST(LocalConnection, OpensQueriesAndCloses) {
  TempDir dir;
  auto conn = open_local(dir.file("a.db"));
  run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)");
  rows(*conn, "INSERT INTO t(name, score, data) VALUES (?, ?, ?)",
       {std::string_view("alpha"), 1.5, BlobView{}});
  auto r = rows(*conn, "SELECT id, name, score, data, NULL FROM t");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0], "1");
  EXPECT_EQ(r[0][1], "alpha");
  EXPECT_EQ(r[0][3], "");  // empty blob, not NULL
  EXPECT_EQ(r[0][4], "NULL");
  {
    Connection::Guard guard(*conn);
    EXPECT_EQ(conn->last_insert_rowid(), 1);
    EXPECT_EQ(conn->total_changes(), 1);
    EXPECT_TRUE(conn->autocommit());
  }
  conn->close();
  conn->close();  // idempotent
  EXPECT_FALSE(conn->is_open());
  Connection::Guard guard(*conn);
  EXPECT_THROW(conn->acquire("SELECT 1"), Error);
}

TEST(LocalConnection, OpenFailureNamesThePath) {
  ConnectOptions options;
  options.database = "/nonexistent/dir/x.db";
  try {
    open_connection(options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code() & 0xff, 14);
    EXPECT_NE(e.message().find("/nonexistent/dir/x.db"), std::string::npos);
  }
}

TEST(LocalConnection, StatementCacheReusesStatements) {
  auto conn = open_local(":memory:");
  auto& local = dynamic_cast<local::LocalConnection&>(*conn);
  for (int i = 0; i < 3; ++i)
    rows(*conn, "SELECT 1");
  EXPECT_EQ(local.cached_statements(), 1u);
}

TEST(LocalConnection, NamedParametersResolvedThroughSqlite) {
  auto conn = open_local(":memory:");
  Connection::Guard guard(*conn);
  StatementLease stmt = conn->acquire("SELECT :a || ':b', @b, $c, :a");
  Params p;
  p.is_named = true;
  p.named = {{"a", std::string_view("x")}, {"@b", std::int64_t{2}}, {"$c", Null{}}};
  stmt->bind(p);
  ASSERT_EQ(stmt->step(nullptr), Step::Row);
  EXPECT_EQ(stmt->column_text(0), "x:b");
  EXPECT_EQ(stmt->column_int64(1), 2);
  EXPECT_EQ(stmt->column_type(2), ValueType::Null);
  EXPECT_EQ(stmt->column_text(3), "x");
}

TEST(LocalConnection, MissingNamedParameterIsAnError) {
  auto conn = open_local(":memory:");
  Connection::Guard guard(*conn);
  StatementLease stmt = conn->acquire("SELECT :a, :b");
  Params p;
  p.is_named = true;
  p.named = {{"a", std::int64_t{1}}};
  try {
    stmt->bind(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "Missing required parameters: :b. SQL requires: :a, :b");
  }
  StatementLease pos = conn->acquire("SELECT ?");
  EXPECT_THROW(pos->bind(p), Error);
}

TEST(LocalConnection, WrongParameterCountIsAnError) {
  auto conn = open_local(":memory:");
  Connection::Guard guard(*conn);
  StatementLease stmt = conn->acquire("SELECT ?, ?");
  Params p;
  p.positional = {std::int64_t{1}};
  EXPECT_THROW(stmt->bind(p), Error);
  p.positional = {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}};
  EXPECT_THROW(stmt->bind(p), Error);
}

TEST(LocalConnection, MultipleStatementsRejectedInSingleStatementPath) {
  auto conn = open_local(":memory:");
  Connection::Guard guard(*conn);
  EXPECT_THROW(conn->acquire("SELECT 1; SELECT 2"), Error);
  EXPECT_NO_THROW(conn->acquire("SELECT 1; -- trailing comment"));
}

TEST(LocalConnection, UniqueViolationNamesTheIndex) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, a INT, b INT)");
  run(*conn, "CREATE UNIQUE INDEX users_email_custom ON users(email)");
  run(*conn, "CREATE UNIQUE INDEX users_a_b ON users(a, b)");
  run(*conn, "INSERT INTO users(email, a, b) VALUES ('x', 1, 2)");
  try {
    run(*conn, "INSERT INTO users(email) VALUES ('x')");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_UNIQUE);
    EXPECT_EQ(e.message(), "UNIQUE constraint failed: users.email (index: users_email_custom)");
  }
  try {
    run(*conn, "INSERT INTO users(email, a, b) VALUES ('y', 1, 2)");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "UNIQUE constraint failed: users.a, users.b (index: users_a_b)");
  }
  try {
    run(*conn, "INSERT INTO users(id) VALUES (1)");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_PRIMARYKEY);
    EXPECT_EQ(e.message(), "UNIQUE constraint failed: users.id");
  }
}

TEST(LocalConnection, TransactionsAndSerials) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE t(x)");
  Connection::Guard guard(*conn);
  const auto serial = conn->begin(TransactionBehaviour::Immediate);
  EXPECT_NE(serial, 0u);
  EXPECT_EQ(conn->transaction_serial(), serial);
  EXPECT_THROW(conn->begin(TransactionBehaviour::Deferred), Error);
  conn->run("INSERT INTO t VALUES (1)");
  conn->rollback();
  EXPECT_EQ(conn->transaction_serial(), 0u);
  EXPECT_TRUE(conn->autocommit());
  const auto second = conn->begin(TransactionBehaviour::Deferred);
  EXPECT_GT(second, serial);
  conn->run("INSERT INTO t VALUES (2)");
  conn->commit();
  EXPECT_THROW(conn->commit(), Error);
  EXPECT_NO_THROW(conn->rollback());
}

TEST(LocalConnection, ReadOnlyTransactionRefusesWritesThenClears) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE t(x)");
  Connection::Guard guard(*conn);
  conn->begin(TransactionBehaviour::ReadOnly);
  EXPECT_THROW(conn->run("INSERT INTO t VALUES (1)"), Error);
  conn->commit();
  EXPECT_NO_THROW(conn->run("INSERT INTO t VALUES (1)"));
}

TEST(LocalConnection, BusyYieldsWhenNonBlockingAndWaitsOtherwise) {
  TempDir dir;
  auto writer = open_local(dir.file("busy.db"));
  auto other = open_local(dir.file("busy.db"), 200);
  run(*writer, "CREATE TABLE t(x)");
  {
    Connection::Guard guard(*writer);
    writer->begin(TransactionBehaviour::Exclusive);
  }
  Connection::Guard guard(*other);
  ExecBudget budget{true, std::chrono::steady_clock::now() + std::chrono::seconds(10)};
  StatementLease stmt = other->acquire("INSERT INTO t VALUES (1)", &budget);
  if (stmt) {
    stmt->bind(Params{});
    EXPECT_EQ(stmt->step(&budget), Step::Yield);
  }
  // Blocking: waits for the 200 ms busy timeout, then fails with SQLITE_BUSY.
  const auto start = std::chrono::steady_clock::now();
  try {
    other->run("INSERT INTO t VALUES (1)");
    ADD_FAILURE() << "expected SQLITE_BUSY";
  } catch (const Error& e) {
    EXPECT_EQ(e.code() & 0xff, SQLITE_BUSY);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  {
    Connection::Guard wg(*writer);
    writer->rollback();
  }
}

TEST(LocalConnection, DeadlineInterruptsOnlyReadOnlyStatements) {
  auto conn = open_local(":memory:");
  Connection::Guard guard(*conn);
  ExecBudget budget{true, std::chrono::steady_clock::now()};
  StatementLease stmt = conn->acquire(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
      "SELECT sum(x) FROM c");
  stmt->bind(Params{});
  EXPECT_EQ(stmt->step(&budget), Step::Yield);
  // Without a budget the same statement runs to the end.
  stmt->bind(Params{});
  ASSERT_EQ(stmt->step(nullptr), Step::Row);
  EXPECT_EQ(stmt->column_int64(0), 500000500000);
}

TEST(LocalConnection, InterruptFromAnotherThread) {
  auto conn = open_local(":memory:");
  std::atomic<bool> done = false;
  // An interrupt before the statement starts is a no-op: interrupt until it has ended.
  std::thread stopper([&] {
    while (!done) {
      conn->interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  try {
    rows(*conn,
         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
    ADD_FAILURE() << "the endless statement ended by itself";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_INTERRUPT);
  }
  done = true;
  stopper.join();
  EXPECT_EQ(rows(*conn, "SELECT 1")[0][0], "1");
}

TEST(LocalConnection, UpdateHookReportsChanges) {
  auto conn = open_local(":memory:");
  std::vector<std::string> seen;
  {
    Connection::Guard guard(*conn);
    conn->set_update_hook(
        [&](UpdateKind kind, std::string_view db, std::string_view table, std::int64_t rowid) {
          seen.push_back(std::to_string(static_cast<int>(kind)) + std::string(db) + "." +
                         std::string(table) + ":" + std::to_string(rowid));
        });
  }
  run(*conn, "CREATE TABLE t(x)");
  run(*conn, "INSERT INTO t VALUES (1)");
  run(*conn, "UPDATE t SET x = 2");
  run(*conn, "DELETE FROM t WHERE x = 2");
  // SQLite's truncate optimisation: DELETE without WHERE reports nothing (documented).
  run(*conn, "INSERT INTO t VALUES (3)");
  run(*conn, "DELETE FROM t");
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], "0main.t:1");
  EXPECT_EQ(seen[1], "1main.t:1");
  EXPECT_EQ(seen[2], "2main.t:1");
}

TEST(LocalConnection, AuthorizerCanDeny) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE secret(x)");
  {
    Connection::Guard guard(*conn);
    conn->set_authorizer([](int action, const char* a1, const char*, const char*, const char*) {
      return (action == SQLITE_READ && a1 != nullptr && std::string_view(a1) == "secret")
                 ? SQLITE_DENY
                 : SQLITE_OK;
    });
  }
  EXPECT_THROW(rows(*conn, "SELECT x FROM secret"), Error);
  EXPECT_NO_THROW(rows(*conn, "SELECT 1"));
}

TEST(LocalConnection, TransactionalBatchIsAllOrNothing) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE t(x UNIQUE)");
  std::vector<BatchStep> steps(3);
  steps[0].sql = "INSERT INTO t VALUES (1)";
  steps[1].sql = "INSERT INTO t VALUES (2)";
  steps[2].sql = "INSERT INTO t VALUES (1)";
  auto drain = [](std::size_t, RowReader& r) {
    while (r.step(nullptr) == Step::Row) {
    }
  };
  {
    Connection::Guard guard(*conn);
    EXPECT_THROW(conn->batch(steps, true, drain), Error);
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "0");
  {
    Connection::Guard guard(*conn);
    EXPECT_THROW(conn->batch(steps, false, drain), Error);
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "2");
}

TEST(LocalConnection, TransactionalBatchIsOneTransactionOrASavepointInsideOne) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE t(x UNIQUE)");
  std::vector<BatchStep> steps(2);
  steps[0].sql = "INSERT INTO t VALUES (1)";
  steps[1].sql = "SELECT count(*) FROM t";
  std::vector<std::string> seen;
  auto read = [&](std::size_t, RowReader& r) {
    while (r.step(nullptr) == Step::Row)
      seen.emplace_back(r.column_text(0));
  };
  {
    Connection::Guard guard(*conn);
    conn->batch(steps, true, read);
    // Later steps see earlier ones; the batch's own transaction is over.
    EXPECT_EQ(seen, std::vector<std::string>{"1"});
    EXPECT_TRUE(conn->autocommit());
    EXPECT_EQ(conn->transaction_serial(), 0u);
  }
  // Inside a transaction a failing batch is undone and the transaction goes on.
  {
    Connection::Guard guard(*conn);
    const std::uint64_t serial = conn->begin(TransactionBehaviour::Deferred);
    std::vector<BatchStep> failing(2);
    failing[0].sql = "INSERT INTO t VALUES (2)";
    failing[1].sql = "INSERT INTO t VALUES (1)";
    EXPECT_THROW(conn->batch(failing, true, read), Error);
    EXPECT_FALSE(conn->autocommit());
    EXPECT_EQ(conn->transaction_serial(), serial);
    conn->commit();
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "1");
}

TEST(LocalConnection, AcquireRefusesSeveralStatementsAsSuch) {
  auto conn = open_local(":memory:");
  run(*conn, "CREATE TABLE t(x)");
  Connection::Guard guard(*conn);
  EXPECT_THROW(conn->acquire("SELECT 1; SELECT 2"), SeveralStatements);
  EXPECT_THROW(conn->acquire("CREATE TABLE a(x); -- one\n CREATE TABLE b(x)"), SeveralStatements);
  // A trailing semicolon or comment, or a trigger body's semicolons, make no second statement.
  EXPECT_NO_THROW(conn->acquire("SELECT 1; -- done"));
  EXPECT_NO_THROW(
      conn->acquire("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;"));
  try {
    conn->acquire("SELECT 1; SELECT 2");
  } catch (const SeveralStatements& e) {
    EXPECT_EQ(e.code(), kCodeMisuse);
    EXPECT_EQ(e.message(), "the SQL holds more than one statement");
  }
}

TEST(LocalConnection, ClosingConnectionClosesUserStatements) {
  auto conn = open_local(":memory:");
  std::shared_ptr<Statement> stmt;
  {
    Connection::Guard guard(*conn);
    stmt = conn->prepare("SELECT 1");
  }
  conn->close();
  EXPECT_TRUE(stmt->closed());
  EXPECT_THROW(stmt->bind(Params{}), Error);
}

namespace {

// Two connections to one memdb database: `reader` has read its schema, then `writer` created
// table t and holds an EXCLUSIVE lock (memdb's locks are a rollback journal's: it keeps
// readers out).
struct TableCreatedUnderLock {
  std::string db = "file:/table_under_lock_" +
                   std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                   std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "?vfs=memdb";
  std::shared_ptr<Connection> writer = open_local(db);
  std::shared_ptr<Connection> reader = open_local(db, 5000);
  TableCreatedUnderLock() {
    run(*writer, "CREATE TABLE first(x)");
    EXPECT_EQ(rows(*reader, "SELECT count(*) FROM first").size(), 1U);  // schema read
    run(*writer, "CREATE TABLE t(x)");
    run(*writer, "BEGIN EXCLUSIVE");
  }
};

}  // namespace

// A table another connection created must not look missing because that connection (or a
// third) holds the lock when this one compiles a statement: SQLite then cannot check its cached
// schema, and answers "no such table" unless the schema is read again, waiting for the lock.
TEST(LocalConnection, PrepareSeesATableCreatedWhileAnotherConnectionHoldsTheLock) {
  TableCreatedUnderLock db;
  auto& writer = db.writer;
  auto& reader = db.reader;
  run(*writer, "INSERT INTO first VALUES (1)");
  std::thread commit([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    run(*writer, "COMMIT");
  });
  EXPECT_NO_THROW(run(*reader, "INSERT INTO t VALUES (1)"));
  commit.join();
  EXPECT_EQ(rows(*reader, "SELECT count(*) FROM t")[0][0], "1");
  // A statement that is wrong stays an error, with SQLite's message.
  try {
    run(*reader, "INSERT INTO missing VALUES (1)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "no such table: missing");
  }
}

// A call that waits for the lock elsewhere (it yields instead of waiting in place) must yield
// there too, not answer "no such table" from the schema it could not read; run again once the
// lock is free, it finds the table.
TEST(LocalConnection, PrepareYieldsForATableCreatedWhileAnotherConnectionHoldsTheLock) {
  TableCreatedUnderLock db;
  auto& writer = db.writer;
  auto& reader = db.reader;
  {
    // The NIF's way: a LockWait that may yield.
    LockWait wait;
    LockWaitScope scope(wait);
    try {
      run(*reader, "INSERT INTO t VALUES (1)");
      ADD_FAILURE() << "expected SQLITE_BUSY";
    } catch (const Error& e) {
      EXPECT_EQ(e.code() & 0xff, kCodeBusy) << e.message();
      EXPECT_TRUE(wait.should_retry(e));
    }
  }
  {
    // The budget's way: acquire answers no statement for the caller to try again.
    Connection::Guard guard(*reader);
    ExecBudget budget{true, std::chrono::steady_clock::now() + std::chrono::seconds(10)};
    EXPECT_FALSE(reader->acquire("INSERT INTO t VALUES (2)", &budget));
  }
  run(*writer, "COMMIT");
  EXPECT_NO_THROW(run(*reader, "INSERT INTO t VALUES (1)"));
  EXPECT_EQ(rows(*reader, "SELECT count(*) FROM t")[0][0], "1");
}

// EXPLAIN is compiled against the schema the connection last read: it must see an index that
// another connection created since, and a cached EXPLAIN must not keep the older plan.
TEST(LocalConnection, ExplainSeesAnIndexAnotherConnectionCreated) {
  TempDir dir;
  auto reader = open_local(dir.file("a.db"));
  auto writer = open_local(dir.file("a.db"));
  run(*writer, "CREATE TABLE t(id INTEGER PRIMARY KEY, age INTEGER)");
  const std::string explain = "EXPLAIN QUERY PLAN SELECT * FROM t WHERE age > 25";
  auto plan = [&] {
    std::string details;
    for (const auto& row : rows(*reader, explain))
      details += row.back() + "\n";
    return details;
  };
  EXPECT_EQ(plan().find("t_age"), std::string::npos);  // the reader has read the schema
  run(*writer, "CREATE INDEX t_age ON t(age)");
  EXPECT_NE(plan().find("INDEX t_age"), std::string::npos) << plan();
  run(*writer, "DROP INDEX t_age");
  EXPECT_EQ(plan().find("t_age"), std::string::npos) << plan();
}
