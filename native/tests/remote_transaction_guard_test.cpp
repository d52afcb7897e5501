// Transactions on a server that keeps no stream per client (tursodb: one SQL connection for
// every client, batons not checked). A restart, or another client's COMMIT on that shared
// connection, ends the transaction without a word; a statement sent after it must fail and
// not run in autocommit, its transaction half applied (HranaStream's transaction guard).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "remote/transaction_guard.hpp"
#include "test_support.hpp"
#include "tursodb_test.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using namespace ecto_libsql::remote;

namespace {

using Rows = std::vector<std::vector<std::string>>;

void drain(std::size_t /*index*/, RowReader& reader) {
  while (reader.step(nullptr) == Step::Row) {
  }
}

class RemoteTransactionGuardTest : public TursodbTest {
 protected:
  void SetUp() override {
    TursodbTest::SetUp();
    if (IsSkipped()) return;
    server_->exec("CREATE TABLE t(x INTEGER UNIQUE)");
    conn_ = connect();
  }

  void begin() {
    Connection::Guard guard(*conn_);
    ASSERT_NE(conn_->begin(TransactionBehaviour::Deferred), 0u);
  }

  // Runs `sql` and answers the error it fails with.
  static Error failure(Connection& conn, std::string_view sql) {
    try {
      run(conn, sql);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error from " << sql;
    return {kCodeError, ""};
  }

  static void expect_lost(const Error& e) {
    EXPECT_EQ(e.remote_code(), "TRANSACTION_LOST") << e.message();
    EXPECT_NE(e.message().find("no longer holds this connection's transaction"), std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find("the statement was not run"), std::string::npos) << e.message();
  }

  [[nodiscard]] Rows values() const { return rows(*conn_, "SELECT x FROM t ORDER BY x"); }

  std::shared_ptr<Connection> conn_;
};

}  // namespace

TEST_F(RemoteTransactionGuardTest, TransactionsRunAsBefore) {
  begin();
  {
    Connection::Guard guard(*conn_);
    StatementLease stmt = conn_->acquire("INSERT INTO t VALUES (1), (2)");
    stmt->bind(Params{});
    EXPECT_EQ(stmt->step(nullptr), Step::Done);
  }
  EXPECT_EQ(conn_->changes(), 2);  // counts asked in the same batch still arrive
  EXPECT_EQ(rows(*conn_, "SELECT count(*) FROM t"), (Rows{{"2"}}));
  // A statement that fails inside the transaction fails with the server's error; the
  // transaction goes on.
  const Error dup = failure(*conn_, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(dup.code() & 0xff, kCodeConstraint) << dup.message();
  EXPECT_NE(dup.message().find("UNIQUE"), std::string::npos) << dup.message();
  EXPECT_FALSE(conn_->autocommit());
  // A batch inside the transaction, and a transactional one that fails: its savepoint is
  // rolled back, the transaction kept.
  std::vector<BatchStep> steps(2);
  steps[0].sql = "INSERT INTO t VALUES (3)";
  steps[1].sql = "INSERT INTO t VALUES (4)";
  {
    Connection::Guard guard(*conn_);
    conn_->batch(steps, false, drain);
  }
  steps[0].sql = "INSERT INTO t VALUES (5)";
  steps[1].sql = "INSERT INTO t VALUES (1)";
  {
    Connection::Guard guard(*conn_);
    EXPECT_THROW(conn_->batch(steps, true, drain), Error);
  }
  EXPECT_FALSE(conn_->autocommit());
  {
    Connection::Guard guard(*conn_);
    conn_->commit();
  }
  EXPECT_TRUE(conn_->autocommit());
  EXPECT_EQ(values(), (Rows{{"1"}, {"2"}, {"3"}, {"4"}}));
}

TEST_F(RemoteTransactionGuardTest, ARestartFailsTheTransactionInsteadOfRunningOutsideIt) {
  begin();
  run(*conn_, "INSERT INTO t VALUES (1)");
  restart_server();
  expect_lost(failure(*conn_, "INSERT INTO t VALUES (2)"));
  // The transaction is over: nothing of it was applied, the statement after the restart
  // included, and the connection goes on.
  EXPECT_TRUE(conn_->autocommit());
  EXPECT_EQ(values(), Rows{});
  run(*conn_, "INSERT INTO t VALUES (3)");
  EXPECT_EQ(values(), (Rows{{"3"}}));
}

TEST_F(RemoteTransactionGuardTest, ACommitAfterARestartFails) {
  begin();
  run(*conn_, "INSERT INTO t VALUES (1)");
  restart_server();
  try {
    Connection::Guard guard(*conn_);
    conn_->commit();
    ADD_FAILURE() << "the commit succeeded";
  } catch (const Error& e) {
    expect_lost(e);
  }
  EXPECT_TRUE(conn_->autocommit());
  {
    Connection::Guard guard(*conn_);
    EXPECT_NO_THROW(conn_->rollback());  // nothing left to roll back
  }
  EXPECT_EQ(values(), Rows{});
}

TEST_F(RemoteTransactionGuardTest, ABatchAfterARestartRunsNoStep) {
  std::vector<BatchStep> steps(2);
  steps[0].sql = "INSERT INTO t VALUES (1)";
  steps[1].sql = "INSERT INTO t VALUES (2)";
  // A plain batch, and one that is all-or-nothing (a savepoint inside the transaction).
  for (const bool transactional : {false, true}) {
    SCOPED_TRACE(transactional ? "transactional" : "plain");
    begin();
    restart_server();
    try {
      Connection::Guard guard(*conn_);
      conn_->batch(steps, transactional, drain);
      ADD_FAILURE() << "the batch succeeded";
    } catch (const Error& e) {
      expect_lost(e);
    }
    EXPECT_TRUE(conn_->autocommit());
    EXPECT_EQ(values(), Rows{});
  }
}

TEST_F(RemoteTransactionGuardTest, AnotherClientsCommitOnTheSharedConnectionEndsIt) {
  begin();
  run(*conn_, "INSERT INTO t VALUES (1)");
  // tursodb runs every client's statements on its one connection.
  auto other = connect();
  run(*other, "COMMIT");
  expect_lost(failure(*conn_, "INSERT INTO t VALUES (2)"));
  EXPECT_TRUE(conn_->autocommit());
  EXPECT_EQ(values(), (Rows{{"1"}}));  // committed by the other client, the second never ran
}

// The request shapes, and the answers read back (without a server).
TEST(TransactionGuard, AnExecuteRunsAfterTheGuard) {
  const json::value request = json::parse(R"({"type":"execute","stmt":{"sql":"SELECT 2"}})");
  ASSERT_TRUE(is_guardable(request));
  EXPECT_FALSE(is_guardable(json::parse(R"({"type":"close"})")));
  EXPECT_FALSE(is_guardable(json::parse("[]")));
  EXPECT_EQ(guarded(request), json::parse(R"({"type":"batch","batch":{"steps":[
      {"stmt":{"sql":"SELECT 1","args":[]},"condition":{"type":"not","cond":{"type":"is_autocommit"}}},
      {"stmt":{"sql":"SELECT 2"},"condition":{"type":"ok","step":0}}]}})"));
  // Its answer, read back as an execute's.
  const json::value ran = json::parse(R"({"type":"ok","response":{"type":"batch","result":{
      "step_results":[{"rows":[[1]]},{"rows":[[2]]}],"step_errors":[null,null]}}})");
  EXPECT_EQ(unguarded(request, ran),
            json::parse(R"({"type":"ok","response":{"type":"execute","result":{"rows":[[2]]}}})"));
  const json::value failed = json::parse(R"({"type":"ok","response":{"type":"batch","result":{
      "step_results":[{"rows":[[1]]},null],"step_errors":[null,{"message":"no such table: x"}]}}})");
  EXPECT_EQ(unguarded(request, failed),
            json::parse(R"({"type":"error","error":{"message":"no such table: x"}})"));
  // The guard itself failed: its error is the answer.
  const json::value guard_failed = json::parse(R"({"type":"ok","response":{"type":"batch","result":{
      "step_results":[null,null],"step_errors":[{"message":"disk I/O error"},null]}}})");
  EXPECT_EQ(unguarded(request, guard_failed),
            json::parse(R"({"type":"error","error":{"message":"disk I/O error"}})"));
  // The guard did not run: the transaction is gone.
  const json::value lost = json::parse(R"({"type":"ok","response":{"type":"batch","result":{
      "step_results":[null,null],"step_errors":[null,null]}}})");
  EXPECT_EQ(unguarded(request, lost), std::nullopt);
  // An error for the whole request is answered as it is.
  const json::value refused = json::parse(R"({"type":"error","error":{"message":"no"}})");
  EXPECT_EQ(unguarded(request, refused), refused);
}

TEST(TransactionGuard, ABatchsConditionsNameTheSameStepsAsBefore) {
  const json::value request = json::parse(R"({"type":"batch","batch":{"steps":[
      {"stmt":{"sql":"A"}},
      {"stmt":{"sql":"B"},"condition":{"type":"ok","step":0}},
      {"stmt":{"sql":"C"},"condition":{"type":"or","conds":[
          {"type":"not","cond":{"type":"ok","step":1}},{"type":"error","step":0}]}}]}})");
  EXPECT_EQ(guarded(request), json::parse(R"({"type":"batch","batch":{"steps":[
      {"stmt":{"sql":"SELECT 1","args":[]},"condition":{"type":"not","cond":{"type":"is_autocommit"}}},
      {"stmt":{"sql":"A"},"condition":{"type":"ok","step":0}},
      {"stmt":{"sql":"B"},"condition":{"type":"and","conds":[{"type":"ok","step":0},
          {"type":"ok","step":1}]}},
      {"stmt":{"sql":"C"},"condition":{"type":"and","conds":[{"type":"ok","step":0},
          {"type":"or","conds":[{"type":"not","cond":{"type":"ok","step":2}},
                                {"type":"error","step":1}]}]}}]}})"));
  // Its answer drops the guard's step.
  const json::value ran = json::parse(R"({"type":"ok","response":{"type":"batch","result":{
      "step_results":[{},{"a":1},null,{"c":3}],"step_errors":[null,null,{"message":"b"},null]}}})");
  EXPECT_EQ(unguarded(request, ran), json::parse(R"({"type":"ok","response":{"type":"batch",
      "result":{"step_results":[{"a":1},null,{"c":3}],"step_errors":[null,{"message":"b"},null]}}})"));
}

TEST(TransactionGuard, AMalformedAnswerIsAProtocolError) {
  const json::value request = json::parse(R"({"type":"execute","stmt":{"sql":"SELECT 2"}})");
  for (
      const char* answer : {
          R"({"type":"ok"})",
          R"({"type":"ok","response":{"type":"execute","result":{"rows":[]}}})",
          R"({"type":"ok","response":{"type":"batch","result":{"step_results":[],"step_errors":[]}}})",
          R"({"type":"ok","response":{"type":"batch","result":{"step_results":[{}],"step_errors":[]}}})",
          R"({"type":"ok","response":{"type":"batch","result":{"step_results":[{}],"step_errors":[null]}}})",
          R"({"type":"ok","response":{"type":"batch","result":{"step_results":7,"step_errors":[null]}}})",
      }) {
    SCOPED_TRACE(answer);
    try {
      (void)unguarded(request, json::parse(answer));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.remote_code(), "PROTOCOL");
      EXPECT_NE(e.message().find("malformed server reply"), std::string::npos) << e.message();
    }
  }
}
