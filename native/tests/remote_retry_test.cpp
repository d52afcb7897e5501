// The one "connection lost" policy of remote connections (HranaStream): a lost connection is
// retried once outside a transaction, never inside one. Against a real tursodb, restarted on
// its port so that a retry would reach it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ecto_libsql/error.hpp"
#include "remote/hrana_stream.hpp"
#include "test_support.hpp"
#include "tursodb_server.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

TEST(RetryAfterLoss, OnlyOutsideATransactionForWhatCannotHaveRunOrIsARead) {
  using remote::retry_after_loss;
  // Outside a transaction: a request that was not sent, or a read.
  EXPECT_TRUE(retry_after_loss(false, false, false, false));
  EXPECT_TRUE(retry_after_loss(false, true, true, false));
  EXPECT_TRUE(retry_after_loss(false, false, true, false));
  // A write that may have run is not repeated.
  EXPECT_FALSE(retry_after_loss(false, true, false, false));
  // Inside a transaction (or a stream holding a baton): never.
  EXPECT_FALSE(retry_after_loss(true, false, false, false));
  EXPECT_FALSE(retry_after_loss(true, false, true, false));
  EXPECT_FALSE(retry_after_loss(true, true, true, false));
  // Not once request_timeout is spent.
  EXPECT_FALSE(retry_after_loss(false, false, true, true));
}

class RemoteRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = tursodb_path();
    if (binary_.empty()) {
      GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt to install the npm peers "
                      "(turso) into _build/peers, or set ECTO_LIBSQL_TURSODB";
    }
    server_ = std::make_unique<TursoServer>(binary_, dir_.file("server.db"));
    server_->exec("CREATE TABLE t(x INTEGER)");
    ConnectOptions options;
    options.mode = Mode::Remote;
    options.uri = server_->url();
    options.request_timeout = std::chrono::seconds(10);
    conn_ = open_connection(options);
    ASSERT_EQ(rows(*conn_, "SELECT 1"), (std::vector<std::vector<std::string>>{{"1"}}));
  }

  // The server killed and started again on its port and file: the connection's socket is
  // dead, a new one reaches the server.
  void restart_server() {
    const int port = server_->port();
    server_.reset();
    server_ = std::make_unique<TursoServer>(binary_, dir_.file("server.db"), port);
  }

  TempDir dir_;
  std::string binary_;
  std::unique_ptr<TursoServer> server_;
  std::shared_ptr<Connection> conn_;
};

TEST_F(RemoteRetryTest, ALostConnectionIsRetriedOutsideATransaction) {
  restart_server();
  EXPECT_EQ(rows(*conn_, "SELECT 2"), (std::vector<std::vector<std::string>>{{"2"}}));
  EXPECT_TRUE(conn_->autocommit());
}

TEST_F(RemoteRetryTest, ALostConnectionIsNeverRetriedInsideATransaction) {
  {
    Connection::Guard guard(*conn_);
    ASSERT_NE(conn_->begin(TransactionBehaviour::Deferred), 0u);
  }
  run(*conn_, "INSERT INTO t VALUES (1)");
  const int port = server_->port();
  server_.reset();
  try {
    run(*conn_, "INSERT INTO t VALUES (2)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kCodeIoErr);
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST");
    EXPECT_NE(e.message().find("inside a transaction"), std::string::npos) << e.message();
  }
  // The transaction is over and nothing of it was applied; the connection reaches the server
  // again.
  EXPECT_TRUE(conn_->autocommit());
  server_ = std::make_unique<TursoServer>(binary_, dir_.file("server.db"), port);
  EXPECT_EQ(rows(*conn_, "SELECT count(*) FROM t"), (std::vector<std::vector<std::string>>{{"0"}}));
}

TEST_F(RemoteRetryTest, OutsideATransactionTheFailureIsReportedAsSuch) {
  server_.reset();
  try {
    run(*conn_, "INSERT INTO t VALUES (1)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kCodeIoErr);
    EXPECT_EQ(e.remote_code(), "CONNECTION_LOST");
    EXPECT_EQ(e.message().find("inside a transaction"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("Failed to connect"), std::string::npos) << e.message();
  }
}
