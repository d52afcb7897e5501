// Embedded replicas against a real tursodb --sync-server: bootstrap, pulls, schema changes,
// server failures, crash safety of applying a pull, concurrent readers, freezing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ecto_libsql/replica/replica_connection.hpp"
#include "replica/page_apply.hpp"
#include "replica/sync_protocol.hpp"
#include "replica/sync_state.hpp"
#include "test_support.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql {
namespace {

using testing::rows;
using testing::TempDir;
using testing::TursoServer;

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bin = testing::tursodb_path();
    if (bin.empty()) {
      GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt to install the npm peers "
                      "(turso) into _build/peers, or set ECTO_LIBSQL_TURSODB";
    }
    server_ = std::make_unique<TursoServer>(bin, dir_.file("server.db"));
    server_->exec_all({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                       "INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée')"});
  }

  [[nodiscard]] ConnectOptions options(const std::string& name = "replica.db") const {
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file(name);
    o.uri = server_->url();
    o.auth_token = "token";
    return o;
  }

  std::string count(Connection& conn, const std::string& table = "t") {
    return rows(conn, "SELECT count(*) FROM " + table)[0][0];
  }

  TempDir dir_;
  std::unique_ptr<TursoServer> server_;
};

TEST_F(ReplicaTest, BootstrapServesReadsLocally) {
  auto conn = open_connection(options());
  EXPECT_EQ(conn->mode(), Mode::Replica);
  EXPECT_EQ(rows(*conn, "SELECT v FROM t ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"one"}, {"two"}, {"thrée"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode")[0][0], "delete");
  EXPECT_GT(conn->replication_index(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir_.file("replica.db-sync")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db-journal")));
  // A plain SQLite connection reads the same file.
  auto plain = testing::open_local(dir_.file("replica.db"));
  EXPECT_EQ(count(*plain), "3");
}

TEST_F(ReplicaTest, PullBringsRemoteWritesToEveryLocalReader) {
  auto conn = open_connection(options());
  auto plain = testing::open_local(dir_.file("replica.db"));
  EXPECT_EQ(count(*plain), "3");
  const auto before = conn->replication_index();
  server_->exec("INSERT INTO t(v) VALUES ('four')");
  EXPECT_EQ(count(*conn), "3");  // not synced yet
  SyncStatus status;
  {
    Connection::Guard guard(*conn);
    status = conn->sync();
  }
  EXPECT_GT(status.frame_no, before);
  EXPECT_GT(status.frames_synced, 0);
  EXPECT_EQ(conn->replication_index(), status.frame_no);
  EXPECT_EQ(conn->flush_replicator(), status.frame_no);
  EXPECT_EQ(count(*conn), "4");
  EXPECT_EQ(count(*plain), "4");  // the other connection's cache was dropped
  // Nothing new: an empty pull keeps the position.
  Connection::Guard guard(*conn);
  EXPECT_EQ(conn->sync().frame_no, status.frame_no);
}

TEST_F(ReplicaTest, TenThousandRows) {
  auto conn = open_connection(options());
  server_->exec("CREATE TABLE big(id INTEGER PRIMARY KEY, v TEXT)");
  for (int batch = 0; batch < 10; ++batch) {
    std::string sql = "INSERT INTO big(v) VALUES ";
    for (int i = 0; i < 1000; ++i) {
      sql += (i ? ",('" : "('") + std::string(40, 'a' + static_cast<char>(batch)) + "')";
    }
    server_->exec(sql);
  }
  {
    Connection::Guard guard(*conn);
    conn->sync();
  }
  EXPECT_EQ(count(*conn, "big"), "10000");
  EXPECT_EQ(rows(*conn, "SELECT count(DISTINCT v) FROM big")[0][0], "10");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  // Deleting them shrinks the file to the server's size.
  server_->exec("DROP TABLE big");
  {
    Connection::Guard guard(*conn);
    conn->sync();
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM sqlite_schema WHERE name = 'big'")[0][0], "0");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST_F(ReplicaTest, SchemaChangesReachCachedStatements) {
  auto conn = open_connection(options());
  EXPECT_EQ(rows(*conn, "SELECT * FROM t WHERE id = 1")[0].size(), 2U);
  server_->exec_all({"ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7", "CREATE INDEX t_v ON t(v)",
                     "CREATE TABLE u(a)"});
  {
    Connection::Guard guard(*conn);
    conn->sync();
  }
  EXPECT_EQ(rows(*conn, "SELECT * FROM t WHERE id = 1"),
            (std::vector<std::vector<std::string>>{{"1", "one", "7"}}));
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM sqlite_schema WHERE name IN ('t_v', 'u')")[0][0],
            "2");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST_F(ReplicaTest, ServerDownKeepsReadsAndReportsSyncErrors) {
  auto conn = open_connection(options());
  server_->stop();
  {
    Connection::Guard guard(*conn);
    try {
      conn->sync();
      FAIL() << "sync succeeded with the server down";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("unreachable"), std::string::npos) << e.message();
    }
    EXPECT_THROW(conn->sync_until(conn->replication_index() + 1), Error);
    EXPECT_GT(conn->replication_index(), 0);
  }
  EXPECT_EQ(count(*conn), "3");
}

TEST_F(ReplicaTest, ReopenWithSyncOnConnectAndServerDown) {
  { auto conn = open_connection(options()); }
  server_->exec("INSERT INTO t(v) VALUES ('four')");
  {
    auto o = options();
    o.sync_on_connect = true;
    auto conn = open_connection(o);
    EXPECT_EQ(count(*conn), "4");
  }
  server_->stop();
  auto o = options();
  o.sync_on_connect = true;
  auto conn = open_connection(o);  // opens: the replica serves reads while the server is down
  EXPECT_EQ(count(*conn), "4");
}

TEST_F(ReplicaTest, OpenErrors) {
  auto o = options();
  o.encryption_key = std::string(16, 'k');  // too short, as in local mode
  EXPECT_THROW(open_connection(o), Error);
  o = options();
  o.uri = "ws://127.0.0.1:1";
  try {
    open_connection(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("must start with libsql://, https:// or http://"), std::string::npos)
        << e.message();
  }
  o = options();
  o.database = ":memory:";
  EXPECT_THROW(open_connection(o), Error);
  // A local database without sync state is not taken over.
  {
    auto local = testing::open_local(dir_.file("local.db"));
    testing::run(*local, "CREATE TABLE x(a)");
  }
  o = options("local.db");
  try {
    open_connection(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no replica sync state"), std::string::npos);
  }
  // Bootstrap against a dead server leaves nothing behind.
  o = options("fresh.db");
  o.uri = "http://127.0.0.1:" + std::to_string(testing::free_port());
  EXPECT_THROW(open_connection(o), Error);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("fresh.db-sync")));
}

TEST_F(ReplicaTest, PullWaitsForLocalReadersThenGivesUp) {
  auto o = options();
  o.busy_timeout_ms = 200;
  auto conn = open_connection(o);
  server_->exec("INSERT INTO t(v) VALUES ('four')");
  auto reader = testing::open_local(dir_.file("replica.db"));
  testing::run(*reader, "BEGIN");
  EXPECT_EQ(count(*reader), "3");  // holds a read lock
  {
    Connection::Guard guard(*conn);
    try {
      conn->sync();
      FAIL() << "sync applied pages under an open reader";
    } catch (const Error& e) {
      EXPECT_EQ(e.code() & 0xff, kCodeBusy);
      EXPECT_NE(e.message().find("cannot lock the replica"), std::string::npos) << e.message();
    }
  }
  EXPECT_EQ(count(*reader), "3");  // the reader's snapshot is intact
  testing::run(*reader, "COMMIT");
  {
    Connection::Guard guard(*conn);
    conn->sync();
  }
  EXPECT_EQ(count(*reader), "4");
  EXPECT_EQ(count(*conn), "4");
}

TEST_F(ReplicaTest, SyncUntilAnUnreachedPositionTimesOut) {
  auto o = options();
  // also bounds the bootstrap, which must succeed on a slow (sanitized) run
  o.request_timeout = std::chrono::milliseconds(1500);
  auto conn = open_connection(o);
  Connection::Guard guard(*conn);
  const auto now = conn->replication_index();
  conn->sync_until(now);  // already there: no wait
  try {
    conn->sync_until(now + 1000);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("sync_until timed out"), std::string::npos) << e.message();
  }
  EXPECT_EQ(conn->replication_index(), now);
}

TEST_F(ReplicaTest, TwoReplicasOfOneDatabase) {
  auto a = open_connection(options("a.db"));
  auto b = open_connection(options("b.db"));
  server_->exec("INSERT INTO t(v) VALUES ('four')");
  {
    Connection::Guard guard(*a);
    a->sync();
  }
  EXPECT_EQ(count(*a), "4");
  EXPECT_EQ(count(*b), "3");
  {
    Connection::Guard guard(*b);
    b->sync();
  }
  EXPECT_EQ(count(*b), "4");
  EXPECT_EQ(a->replication_index(), b->replication_index());
}

TEST_F(ReplicaTest, ReadersNeverSeeHalfAppliedPulls) {
  auto conn = open_connection(options());
  server_->exec("CREATE TABLE batch(id INTEGER PRIMARY KEY, v TEXT)");
  {
    Connection::Guard guard(*conn);
    conn->sync();
  }
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    auto plain = testing::open_local(dir_.file("replica.db"), 30000);
    while (!stop) {
      const auto r = rows(*plain, "SELECT count(*), count(DISTINCT v) FROM batch");
      // Every server transaction inserts 500 rows of one value.
      const int n = std::stoi(r[0][0]);
      if (n % 500 != 0 || std::stoi(r[0][1]) != n / 500) ++bad;
      ++reads;
    }
  });
  for (int round = 0; round < 8; ++round) {
    std::string sql = "INSERT INTO batch(v) VALUES ";
    for (int i = 0; i < 500; ++i)
      sql += (i ? ",('" : "('") + std::to_string(round) + "')";
    server_->exec(sql);
    Connection::Guard guard(*conn);
    conn->sync();
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(count(*conn, "batch"), "4000");
}

TEST_F(ReplicaTest, WritesAreForwardedOrRefusedClearly) {
  auto conn = open_connection(options());
  {
    Connection::Guard guard(*conn);
    StatementLease stmt = conn->acquire("INSERT INTO t(v) VALUES ('five')", nullptr);
    EXPECT_TRUE(stmt->blocking());
    EXPECT_FALSE(stmt->readonly());
    stmt->bind(Params{});
    const ExecBudget nonblocking{true, std::chrono::steady_clock::now()};
    EXPECT_EQ(stmt->step(&nonblocking), Step::Yield);
    try {
      while (stmt->step(nullptr) == Step::Row) {
      }
    } catch (const Error& e) {
      if (e.message().find("not available in this build") != std::string::npos) {
        EXPECT_NE(e.message().find("cannot forward the write to the primary"), std::string::npos);
        GTEST_SKIP() << "remote mode is not in this build: forwarded writes are not testable";
      }
      throw;
    }
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v = 'five'")[0][0], "1");
  EXPECT_GT(conn->max_write_replication_index(), 0);
  // Inside a transaction the write goes to the server at commit.
  {
    Connection::Guard guard(*conn);
    conn->begin(TransactionBehaviour::Deferred, nullptr);
    conn->run("INSERT INTO t(v) VALUES ('six')");
    conn->commit();
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v = 'six'")[0][0], "1");
}

TEST_F(ReplicaTest, LocalWritesNeverTouchTheReplicaFile) {
  auto conn = open_connection(options());
  // PRAGMAs stay local; query_only keeps the file as the server sent it.
  EXPECT_EQ(rows(*conn, "PRAGMA query_only")[0][0], "1");
  EXPECT_THROW(rows(*conn, "PRAGMA journal_mode = WAL"), Error);
  EXPECT_THROW(rows(*conn, "pragma main.JOURNAL_MODE('wal')"), Error);
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode")[0][0], "delete");
  EXPECT_EQ(count(*conn), "3");
}

TEST_F(ReplicaTest, FreezeTurnsTheReplicaIntoALocalDatabase) {
  auto conn = open_connection(options());
  {
    Connection::Guard guard(*conn);
    conn->freeze();
  }
  EXPECT_EQ(conn->mode(), Mode::Local);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db-sync")));
  testing::run(*conn, "INSERT INTO t(v) VALUES ('local')");
  EXPECT_EQ(count(*conn), "4");
  conn->close();
  auto local = testing::open_local(dir_.file("replica.db"));
  EXPECT_EQ(count(*local), "4");
  // A frozen file cannot be reopened as a replica by accident.
  EXPECT_THROW(open_connection(options()), Error);
}

TEST_F(ReplicaTest, BackgroundSync) {
  auto o = options();
  o.sync_interval = std::chrono::milliseconds(50);
  auto conn = open_connection(o);
  server_->exec("INSERT INTO t(v) VALUES ('four')");
  for (int i = 0; i < 1200 && count(*conn) != "4"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(count(*conn), "4");
  server_->stop();  // failures back off and never disturb reads
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(count(*conn), "4");
  conn->close();
}

constexpr replica::ApplyStep kSteps[] = {
    replica::ApplyStep::Locked,        replica::ApplyStep::JournalWritten,
    replica::ApplyStep::JournalSynced, replica::ApplyStep::HalfWritten,
    replica::ApplyStep::PagesWritten,  replica::ApplyStep::DatabaseSynced,
    replica::ApplyStep::Committed};

// Interrupts a pull after each step of applying it, by ending the process (a crash) or by
// throwing, and checks that the file then holds either the old or the new content.
class ReplicaFaultTest : public ReplicaTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ReplicaFaultTest, InterruptedPullLeavesOldOrNewState) {
  const bool crash = GetParam();
  int step_no = 0;
  for (const replica::ApplyStep step : kSteps) {
    SCOPED_TRACE("step " + std::to_string(step_no));
    const std::string name = "fault" + std::to_string(step_no++) + ".db";
    { auto conn = open_connection(options(name)); }
    const auto old_state = replica::load_sync_state(dir_.file(name));
    ASSERT_TRUE(old_state);
    // Enough rows to change many pages, including existing ones.
    std::string sql = "INSERT INTO t(v) VALUES ";
    for (int i = 0; i < 300; ++i)
      sql += (i ? ",('" : "('") + std::string(100, 'x') + "')";
    server_->exec_all({sql, "UPDATE t SET v = 'changed' WHERE id = 1"});

    if (crash) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        replica::set_apply_fault_hook([step](replica::ApplyStep s) {
          if (s == step) ::_exit(42);
        });
        try {
          auto conn = open_connection(options(name));
          Connection::Guard guard(*conn);
          conn->sync();
        } catch (...) {
          ::_exit(1);
        }
        ::_exit(0);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), 42);
    } else {
      replica::set_apply_fault_hook([step](replica::ApplyStep s) {
        if (s == step) throw Error(kCodeIoErr, "injected fault");
      });
      auto conn = open_connection(options(name));
      {
        Connection::Guard guard(*conn);
        EXPECT_THROW(conn->sync(), Error);
      }
      replica::set_apply_fault_hook({});
    }

    auto plain = testing::open_local(dir_.file(name));
    EXPECT_EQ(rows(*plain, "PRAGMA integrity_check")[0][0], "ok");
    const std::string n = count(*plain);
    const std::string first = rows(*plain, "SELECT v FROM t WHERE id = 1")[0][0];
    const bool is_old = n == "3" && first == "one";
    const bool is_new = n == "303" && first == "changed";
    EXPECT_TRUE(is_old || is_new) << n << " rows, first " << first;
    const auto state = replica::load_sync_state(dir_.file(name));
    ASSERT_TRUE(state);
    // The revision is saved only after the pages: old pages never carry a new revision.
    if (is_old) {
      EXPECT_EQ(state->revision, old_state->revision);
    }
    if (step == replica::ApplyStep::Committed) {
      EXPECT_TRUE(is_new);
    }
    if (step <= replica::ApplyStep::DatabaseSynced) {
      EXPECT_TRUE(is_old);
    }
    plain->close();

    // The next sync completes the pull either way.
    auto conn = open_connection(options(name));
    {
      Connection::Guard guard(*conn);
      conn->sync();
    }
    EXPECT_EQ(count(*conn), "303");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
    server_->exec("DELETE FROM t WHERE id > 3");
    server_->exec("UPDATE t SET v = 'one' WHERE id = 1");
  }
}

INSTANTIATE_TEST_SUITE_P(CrashAndThrow, ReplicaFaultTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "crash" : "thrown"; });

// A crash while bootstrapping leaves no replica (the next connect starts again) or a whole one.
TEST_F(ReplicaTest, InterruptedBootstrapLeavesNothingOrEverything) {
  for (const replica::ApplyStep step :
       {replica::ApplyStep::HalfWritten, replica::ApplyStep::DatabaseSynced,
        replica::ApplyStep::Committed}) {
    const std::string name = "boot" + std::to_string(static_cast<int>(step)) + ".db";
    const pid_t pid = ::fork();
    if (pid == 0) {
      replica::set_apply_fault_hook([step](replica::ApplyStep s) {
        if (s == step) ::_exit(42);
      });
      try {
        open_connection(options(name));
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 42);
    EXPECT_EQ(std::filesystem::exists(dir_.file(name)), step == replica::ApplyStep::Committed);
    EXPECT_EQ(std::filesystem::exists(dir_.file(name + "-sync")),
              step == replica::ApplyStep::Committed);
    auto conn = open_connection(options(name));
    EXPECT_EQ(count(*conn), "3");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  }
}

TEST(SyncProtocol, EncodesPullRequests) {
  EXPECT_EQ(replica::encode_pull_request(""), "");
  EXPECT_EQ(replica::encode_pull_request("9"), std::string("\x1a\x01\x39", 3));
}

TEST(SyncProtocol, RejectsMalformedReplies) {
  EXPECT_THROW(replica::decode_pull_reply(""), Error);
  EXPECT_THROW(replica::decode_pull_reply(std::string("\x05\x0a\x01", 3)), Error);  // truncated
  // Header without a revision.
  EXPECT_THROW(replica::decode_pull_reply(std::string("\x02\x10\x01", 3)), Error);
  // A page that is not 4096 bytes.
  const std::string header("\x05\x0a\x01\x33\x10\x01", 6);
  const std::string short_page("\x05\x08\x00\x12\x01\x00", 6);
  EXPECT_THROW(replica::decode_pull_reply(header + short_page), Error);
  const auto ok = replica::decode_pull_reply(header);
  EXPECT_EQ(ok.server_revision, "3");
  EXPECT_EQ(ok.pages.db_size(), 1U);
  EXPECT_TRUE(ok.pages.empty());
}

// The fixture counts tursodb as started only when tursodb itself listens: a port another
// process holds (a killed predecessor not yet gone) answers connections all the same.
TEST(TursoServerFixture, APortAnotherProcessHoldsIsNotTakenForStarted) {
  const std::string bin = testing::tursodb_path();
  if (bin.empty()) GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt";
  TempDir dir;
  // close-on-exec: a tursodb forked from here must not hold this socket itself
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  try {
    TursoServer server(bin, dir.file("x.db"), port);
    ADD_FAILURE() << "started on a port another process holds";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exited at start"), std::string::npos) << e.what();
  }
  ::close(holder);
  TursoServer server(bin, dir.file("x.db"), port);
  server.exec("CREATE TABLE t(x)");
  EXPECT_EQ(server.port(), port);
}

}  // namespace
}  // namespace ecto_libsql
