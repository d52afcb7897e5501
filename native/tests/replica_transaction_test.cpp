// Transactions of embedded replicas against a real tursodb --sync-server: where statements run
// (the local file, or the server once a transaction wrote), what waits for the network (never
// under a nonblocking budget), transaction serials across the move, and errors. The same
// behaviour over every protocol is checked in test/native/replica_transaction_test.exs.
#include <gtest/gtest.h>

#include "ecto_libsql/replica/replica_connection.hpp"
#include "test_support.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql {
namespace {

using testing::rows;
using testing::TempDir;
using testing::TursoServer;
using Rows = std::vector<std::vector<std::string>>;

class ReplicaTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bin = testing::tursodb_path();
    if (bin.empty()) {
      GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt to install the npm peers "
                      "(turso) into _build/peers, or set ECTO_LIBSQL_TURSODB";
    }
    server_ = std::make_unique<TursoServer>(bin, dir_.file("server.db"));
    server_->exec_all({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                       "INSERT INTO t(v) VALUES ('one'), ('two'), ('three')"});
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file("replica.db");
    o.uri = server_->url();
    o.auth_token = "token";
    conn_ = open_connection(o);
  }

  std::string count(const std::string& table = "t") {
    return rows(*conn_, "SELECT count(*) FROM " + table)[0][0];
  }

  TempDir dir_;
  std::unique_ptr<TursoServer> server_;
  std::shared_ptr<Connection> conn_;
};

const ExecBudget kNonblocking{true, std::chrono::steady_clock::time_point::max()};

TEST_F(ReplicaTransactionTest, DeferredTransactionMovesToTheServerAtItsFirstWrite) {
  const std::uint64_t serial = conn_->begin(TransactionBehaviour::Deferred, &kNonblocking);
  ASSERT_NE(serial, 0u);
  EXPECT_EQ(conn_->transaction_serial(), serial);
  {
    Connection::Guard guard(*conn_);
    // A read runs on the local file: nothing blocks.
    StatementLease read = conn_->acquire("SELECT count(*) FROM t", &kNonblocking);
    ASSERT_TRUE(read);
    EXPECT_FALSE(read->blocking());
    // A write goes to the server: it does not start under a nonblocking budget.
    StatementLease write = conn_->acquire("CREATE TABLE users(email TEXT)", &kNonblocking);
    ASSERT_TRUE(write);
    EXPECT_TRUE(write->blocking());
    write->bind(Params{});
    EXPECT_EQ(write->step(&kNonblocking), Step::Yield);
    write->reset();
    write->bind(Params{});
    EXPECT_EQ(write->step(nullptr), Step::Done);
  }
  // The transaction runs on the server now, under the same serial; reads run there too and
  // statements are never prepared against the local file, which has no users table.
  EXPECT_EQ(conn_->transaction_serial(), serial);
  EXPECT_FALSE(conn_->autocommit());
  rows(*conn_, "CREATE INDEX users_email ON users(email)");
  rows(*conn_, "INSERT INTO users VALUES ('a@x')");
  {
    Connection::Guard guard(*conn_);
    StatementLease read = conn_->acquire("SELECT email FROM users", &kNonblocking);
    ASSERT_TRUE(read);
    EXPECT_TRUE(read->blocking());
  }
  EXPECT_EQ(rows(*conn_, "SELECT email FROM users"), (Rows{{"a@x"}}));
  conn_->commit();
  EXPECT_EQ(conn_->transaction_serial(), 0u);
  EXPECT_TRUE(conn_->autocommit());
  // Pulled after the commit.
  EXPECT_EQ(count("users"), "1");
  EXPECT_GT(conn_->max_write_replication_index(), 0);
}

TEST_F(ReplicaTransactionTest, ImmediateTransactionStartsOnTheServer) {
  // BEGIN IMMEDIATE asks the server: not under a nonblocking budget.
  EXPECT_EQ(conn_->begin(TransactionBehaviour::Immediate, &kNonblocking), 0u);
  EXPECT_TRUE(conn_->autocommit());
  server_->exec("INSERT INTO t(v) VALUES ('elsewhere')");
  const std::uint64_t serial = conn_->begin(TransactionBehaviour::Immediate, nullptr);
  ASSERT_NE(serial, 0u);
  EXPECT_EQ(conn_->transaction_serial(), serial);
  EXPECT_THROW(conn_->begin(TransactionBehaviour::Deferred, nullptr), Error);
  // The server's state: the row the local file has not pulled.
  EXPECT_EQ(count(), "4");
  rows(*conn_, "DELETE FROM t WHERE v = 'elsewhere'");
  EXPECT_EQ(count(), "3");
  conn_->rollback();
  EXPECT_EQ(conn_->transaction_serial(), 0u);
  EXPECT_TRUE(conn_->sync().frame_no > 0);
  EXPECT_EQ(count(), "4");
}

TEST_F(ReplicaTransactionTest, PreparedStatementChoosesItsPlaceWhenItRuns) {
  std::shared_ptr<Statement> read;
  {
    Connection::Guard guard(*conn_);
    read = conn_->prepare("SELECT count(*) FROM t");
  }
  auto run = [&] {
    Connection::Guard guard(*conn_);
    read->bind(Params{});
    EXPECT_EQ(read->step(nullptr), Step::Row);
    std::string n = std::to_string(read->column_int64(0));
    read->reset();
    return n;
  };
  EXPECT_FALSE(read->blocking());
  EXPECT_EQ(run(), "3");
  conn_->begin(TransactionBehaviour::Deferred, nullptr);
  rows(*conn_, "INSERT INTO t(v) VALUES ('four')");
  EXPECT_TRUE(read->blocking());
  EXPECT_EQ(run(), "4");  // on the server, seeing the write
  conn_->rollback();
  EXPECT_FALSE(read->blocking());
  EXPECT_EQ(run(), "3");
}

TEST_F(ReplicaTransactionTest, ReadOnlyTransactionRefusesWrites) {
  conn_->begin(TransactionBehaviour::ReadOnly, nullptr);
  try {
    rows(*conn_, "INSERT INTO t(v) VALUES ('no')");
    FAIL() << "a write in a read-only transaction ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.code() & 0xff, kCodeReadOnly);
  }
  conn_->commit();
  EXPECT_EQ(count(), "3");
}

TEST_F(ReplicaTransactionTest, ServerDownWhenTheTransactionWouldMove) {
  conn_->begin(TransactionBehaviour::Deferred, nullptr);
  EXPECT_EQ(count(), "3");
  server_->stop();
  EXPECT_THROW(rows(*conn_, "INSERT INTO t(v) VALUES ('four')"), Error);
  // Still a local read transaction: it reads and rolls back.
  EXPECT_FALSE(conn_->autocommit());
  EXPECT_EQ(count(), "3");
  conn_->rollback();
  EXPECT_TRUE(conn_->autocommit());
  EXPECT_EQ(count(), "3");
}

}  // namespace
}  // namespace ecto_libsql
