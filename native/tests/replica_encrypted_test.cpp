// Encrypted embedded replicas against a real tursodb --sync-server: the local file is encrypted
// as a local encrypted database is (bootstrap, pulled pages, the hot journal), a wrong key is
// refused as in local mode, interrupted pulls leave a file that opens with the key, and a
// frozen replica is an encrypted local database.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "crypto_support.hpp"
#include "ecto_libsql/replica/replica_connection.hpp"
#include "replica/page_apply.hpp"
#include "replica/sync_state.hpp"
#include "test_support.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql {
namespace {

using testing::contains;
using testing::error_of;
using testing::kKey;
using testing::read_bytes;
using testing::rows;
using testing::TempDir;
using testing::TursoServer;

// A value that is easy to find in a file that holds it in plaintext.
constexpr const char* kMarker = "plaintext-marker-7f3a9c";

class EncryptedReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bin = testing::tursodb_path();
    if (bin.empty()) {
      GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt to install the npm peers "
                      "(turso) into _build/peers, or set ECTO_LIBSQL_TURSODB";
    }
    server_ = std::make_unique<TursoServer>(bin, dir_.file("server.db"));
    server_->exec_all(
        {"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
         "INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée'), ('" + std::string(kMarker) + "')"});
  }

  [[nodiscard]] ConnectOptions options(const std::string& name = "replica.db",
                                       std::optional<std::string> key = std::string(kKey)) const {
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file(name);
    o.uri = server_->url();
    o.auth_token = "token";
    o.encryption_key = std::move(key);
    return o;
  }

  static std::string count(Connection& conn, const std::string& table = "t") {
    return rows(conn, "SELECT count(*) FROM " + table)[0][0];
  }

  static void sync(Connection& conn) {
    Connection::Guard guard(conn);
    conn.sync();
  }

  // A journal SQLite would play back: present, its first byte not 0 (a committed pull leaves
  // its journal with a zeroed header, as journal_mode=PERSIST does).
  [[nodiscard]] bool hot_journal(const std::string& name) const {
    const std::string path = dir_.file(name + "-journal");
    if (!std::filesystem::exists(path)) return false;
    const auto bytes = read_bytes(path);
    return !bytes.empty() && bytes[0] != 0;
  }

  // The marker in plaintext anywhere in the replica's files.
  [[nodiscard]] bool plaintext_on_disk(const std::string& name) const {
    for (const char* suffix :
         {"", "-journal", "-journal-spare", "-integrity", ".bootstrap", "-sync"}) {
      const std::string path = dir_.file(name + suffix);
      if (std::filesystem::exists(path) && contains(read_bytes(path), kMarker)) return true;
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<TursoServer> server_;
};

TEST_F(EncryptedReplicaTest, BootstrapAndPullWriteOnlyCiphertext) {
  // Control: a plain replica of the same server holds the marker in plaintext.
  { auto plain = open_connection(options("plain.db", std::nullopt)); }
  EXPECT_TRUE(plaintext_on_disk("plain.db"));

  auto conn = open_connection(options());
  EXPECT_EQ(conn->mode(), Mode::Replica);
  EXPECT_EQ(count(*conn), "4");
  EXPECT_EQ(rows(*conn, "SELECT v FROM t WHERE id = 4")[0][0], kMarker);
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode")[0][0], "delete");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db.bootstrap")));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("replica.db-integrity")));
  const auto bytes = read_bytes(dir_.file("replica.db"));
  ASSERT_GE(bytes.size(), 4096U);
  EXPECT_NE(std::string(bytes.begin(), bytes.begin() + 15), "SQLite format 3");
  EXPECT_FALSE(plaintext_on_disk("replica.db"));

  // Pulled pages are encrypted too, and reach every encrypted reader of the file.
  auto reader = testing::open_encrypted_local(dir_.file("replica.db"));
  EXPECT_EQ(count(*reader), "4");
  std::string sql = "INSERT INTO t(v) VALUES ";
  for (int i = 0; i < 200; ++i)
    sql += (i ? ",('" : "('") + std::string(kMarker) + "-" + std::to_string(i) + "')";
  server_->exec(sql);
  sync(*conn);
  EXPECT_EQ(count(*conn), "204");
  EXPECT_EQ(count(*reader), "204");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_FALSE(plaintext_on_disk("replica.db"));
  // Readers without the key are refused, as for local encrypted databases.
  const Error no_key = error_of([&] { testing::open_local(dir_.file("replica.db")); });
  EXPECT_NE(no_key.message().find("give its encryption_key"), std::string::npos)
      << no_key.message();
}

TEST_F(EncryptedReplicaTest, ReadYourWrites) {
  auto conn = open_connection(options());
  try {
    testing::run(*conn, "INSERT INTO t(v) VALUES ('written')");
  } catch (const Error& e) {
    if (e.message().find("not available in this build") != std::string::npos) {
      GTEST_SKIP() << "remote mode is not in this build: forwarded writes are not testable";
    }
    throw;
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v = 'written'")[0][0], "1");
  EXPECT_GT(conn->max_write_replication_index(), 0);
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_FALSE(plaintext_on_disk("replica.db"));
}

TEST_F(EncryptedReplicaTest, WrongOrMissingKeyIsRefusedAsInLocalMode) {
  { auto conn = open_connection(options()); }
  server_->exec("INSERT INTO t(v) VALUES ('five')");
  const std::string local_message =
      error_of([&] {
        testing::open_encrypted_local(dir_.file("replica.db"), std::string(40, 'w'));
      }).message();
  auto wrong = options();
  wrong.encryption_key = std::string(40, 'w');
  wrong.sync_on_connect = true;
  const Error e = error_of([&] { open_connection(wrong); });
  EXPECT_EQ(e.code() & 0xff, kCodeNotADb);
  EXPECT_EQ(e.message(), local_message);
  EXPECT_NE(e.message().find("the encryption key is wrong"), std::string::npos) << e.message();
  auto none = options("replica.db", std::nullopt);
  EXPECT_NE(error_of([&] { open_connection(none); }).message().find("give its encryption_key"),
            std::string::npos);
  auto short_key = options();
  short_key.encryption_key = "short";
  EXPECT_NE(error_of([&] { open_connection(short_key); }).message().find("at least 32"),
            std::string::npos);
  // Nothing was pulled into the file by the refused connections; the right key still works.
  auto o = options();
  auto conn = open_connection(o);
  EXPECT_EQ(count(*conn), "4");
  sync(*conn);
  EXPECT_EQ(count(*conn), "5");
  conn->close();
  // A plain replica opened with a key is refused too.
  { auto plain = open_connection(options("plain.db", std::nullopt)); }
  EXPECT_NE(error_of([&] { open_connection(options("plain.db")); })
                .message()
                .find("not an encrypted database"),
            std::string::npos);
}

TEST_F(EncryptedReplicaTest, FreezeLeavesAnEncryptedLocalDatabase) {
  auto conn = open_connection(options());
  {
    Connection::Guard guard(*conn);
    conn->freeze();
  }
  EXPECT_EQ(conn->mode(), Mode::Local);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db-sync")));
  testing::run(*conn, "INSERT INTO t(v) VALUES ('local')");
  conn->close();
  auto local = testing::open_encrypted_local(dir_.file("replica.db"));
  EXPECT_EQ(count(*local), "5");
  EXPECT_EQ(rows(*local, "PRAGMA integrity_check")[0][0], "ok");
  testing::run(*local, "INSERT INTO t(v) VALUES ('later')");
  local->close();
  EXPECT_FALSE(plaintext_on_disk("replica.db"));
  EXPECT_THROW(testing::open_local(dir_.file("replica.db")), Error);
  EXPECT_THROW(testing::open_encrypted_local(dir_.file("replica.db"), std::string(40, 'w')), Error);
}

TEST_F(EncryptedReplicaTest, BackgroundSync) {
  auto o = options();
  o.sync_interval = std::chrono::milliseconds(50);
  auto conn = open_connection(o);
  server_->exec("INSERT INTO t(v) VALUES ('five')");
  for (int i = 0; i < 1200 && count(*conn) != "5"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(count(*conn), "5");
  conn->close();
  EXPECT_FALSE(plaintext_on_disk("replica.db"));
}

constexpr replica::ApplyStep kSteps[] = {
    replica::ApplyStep::Locked,        replica::ApplyStep::JournalWritten,
    replica::ApplyStep::JournalSynced, replica::ApplyStep::HalfWritten,
    replica::ApplyStep::PagesWritten,  replica::ApplyStep::DatabaseSynced,
    replica::ApplyStep::Committed};

// Interrupts a pull into an encrypted replica after each step, by ending the process or by
// throwing: the file then opens with the key (the hot journal is played back through the
// encryption), passes integrity_check, holds the old or the new content, and no plaintext.
class EncryptedReplicaFaultTest : public EncryptedReplicaTest,
                                  public ::testing::WithParamInterface<bool> {};

TEST_P(EncryptedReplicaFaultTest, InterruptedPullLeavesOldOrNewState) {
  const bool crash = GetParam();
  int step_no = 0;
  for (const replica::ApplyStep step : kSteps) {
    SCOPED_TRACE("step " + std::to_string(step_no));
    const std::string name = "fault" + std::to_string(step_no++) + ".db";
    { auto conn = open_connection(options(name)); }
    const auto old_state = replica::load_sync_state(dir_.file(name));
    ASSERT_TRUE(old_state);
    std::string sql = "INSERT INTO t(v) VALUES ";
    for (int i = 0; i < 300; ++i)
      sql += (i ? ",('" : "('") + std::string(100, 'x') + "')";
    // Page 2 changes: its original image, with the marker, goes to the journal.
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
      const bool journal_expected =
          step >= replica::ApplyStep::JournalWritten && step <= replica::ApplyStep::DatabaseSynced;
      EXPECT_EQ(hot_journal(name), journal_expected);
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
      EXPECT_FALSE(hot_journal(name));
    }
    // The hot journal, like the file, holds ciphertext only.
    EXPECT_FALSE(plaintext_on_disk(name));

    auto local = testing::open_encrypted_local(dir_.file(name));
    EXPECT_EQ(rows(*local, "PRAGMA integrity_check")[0][0], "ok");
    const std::string n = count(*local);
    const std::string first = rows(*local, "SELECT v FROM t WHERE id = 1")[0][0];
    const bool is_old = n == "4" && first == "one";
    const bool is_new = n == "304" && first == "changed";
    EXPECT_TRUE(is_old || is_new) << n << " rows, first " << first;
    const auto state = replica::load_sync_state(dir_.file(name));
    ASSERT_TRUE(state);
    if (is_old) {
      EXPECT_EQ(state->revision, old_state->revision);
    }
    if (step == replica::ApplyStep::Committed) {
      EXPECT_TRUE(is_new);
    }
    if (step <= replica::ApplyStep::DatabaseSynced) {
      EXPECT_TRUE(is_old);
    }
    local->close();
    EXPECT_FALSE(hot_journal(name));

    auto conn = open_connection(options(name));
    sync(*conn);
    EXPECT_EQ(count(*conn), "304");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
    conn->close();
    EXPECT_FALSE(plaintext_on_disk(name));
    server_->exec("DELETE FROM t WHERE id > 4");
    server_->exec("UPDATE t SET v = 'one' WHERE id = 1");
  }
}

INSTANTIATE_TEST_SUITE_P(CrashAndThrow, EncryptedReplicaFaultTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "crash" : "thrown"; });

// A crash while bootstrapping leaves no replica (the next connect starts again) or a whole one,
// and never a plaintext page.
TEST_F(EncryptedReplicaTest, InterruptedBootstrapLeavesNothingOrEverything) {
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
    if (step != replica::ApplyStep::Committed) {
      EXPECT_TRUE(std::filesystem::exists(dir_.file(name + ".bootstrap")));
    }
    EXPECT_FALSE(plaintext_on_disk(name));
    auto conn = open_connection(options(name));
    EXPECT_EQ(count(*conn), "4");
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
    EXPECT_FALSE(std::filesystem::exists(dir_.file(name + ".bootstrap")));
  }
}

}  // namespace
}  // namespace ecto_libsql
