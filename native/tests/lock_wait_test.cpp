// Lock waits that yield instead of waiting in place (ecto_libsql/lock_wait.hpp).
#include "ecto_libsql/lock_wait.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

struct Locked {
  TempDir dir;
  std::shared_ptr<Connection> writer = open_local(dir.file("lock.db"));
  std::shared_ptr<Connection> other = open_local(dir.file("lock.db"), 300);
  Locked() {
    run(*writer, "CREATE TABLE t(x)");
    Connection::Guard guard(*writer);
    writer->begin(TransactionBehaviour::Exclusive);
  }
  ~Locked() {
    Connection::Guard guard(*writer);
    writer->rollback();
  }
};

int busy_code(Connection& conn, LockWait& wait) {
  LockWaitScope scope(wait);
  try {
    conn.run("INSERT INTO t VALUES (1)");
  } catch (const Error& e) {
    return e.code() & 0xff;
  }
  return 0;
}

}  // namespace

TEST(LockWait, YieldsAtOnceAndRemembersWhenTheWaitBegan) {
  Locked db;
  LockWait wait;
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(busy_code(*db.other, wait), kCodeBusy);
  EXPECT_TRUE(wait.yielded);
  ASSERT_TRUE(wait.waiting_since.has_value());
  EXPECT_GE(*wait.waiting_since, before);
  EXPECT_TRUE(wait.should_retry(Error(kCodeBusy, "database is locked")));
  EXPECT_FALSE(wait.should_retry(Error(kCodeError, "other")));
}

TEST(LockWait, FailsForGoodOnceTheBusyTimeoutHasPassed) {
  Locked db;
  LockWait wait;
  wait.waiting_since = std::chrono::steady_clock::now() - std::chrono::milliseconds(301);
  EXPECT_EQ(busy_code(*db.other, wait), kCodeBusy);
  EXPECT_FALSE(wait.yielded);
}

TEST(LockWait, WaitsInPlaceWhenItMayNotYield) {
  Locked db;
  LockWait wait;
  wait.may_yield = false;
  EXPECT_EQ(busy_code(*db.other, wait), kCodeBusy);
  EXPECT_FALSE(wait.yielded);
  // it waited until the busy timeout counted from its first wait
  ASSERT_TRUE(wait.waiting_since.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - *wait.waiting_since, std::chrono::milliseconds(300));
}

TEST(LockWait, ScopesNestAndEnd) {
  EXPECT_EQ(LockWaitScope::current(), nullptr);
  LockWait outer;
  LockWait inner;
  {
    LockWaitScope a(outer);
    EXPECT_EQ(LockWaitScope::current(), &outer);
    {
      LockWaitScope b(inner);
      EXPECT_EQ(LockWaitScope::current(), &inner);
    }
    EXPECT_EQ(LockWaitScope::current(), &outer);
  }
  EXPECT_EQ(LockWaitScope::current(), nullptr);
}
