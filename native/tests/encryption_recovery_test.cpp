// Crash recovery of encrypted databases: killed writers, hot journals, torn page 1.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "crypto_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr int kBatch = 200;

// Runs in a forked child until killed: transactions of kBatch rows, each larger than the page
// cache so that pages reach the database file before COMMIT. Writes a byte to `progress` after
// each COMMIT.
[[noreturn]] void write_forever(const std::string& path, int progress) {
  try {
    auto conn = open_encrypted_local(path);
    run(*conn, "PRAGMA cache_size = 10");
    std::int64_t batch = std::stoll(rows(*conn, "SELECT coalesce(max(batch), 0) FROM t")[0][0]);
    for (++batch;; ++batch) {
      run(*conn, "BEGIN");
      for (int i = 0; i < kBatch; ++i) {
        rows(*conn, "INSERT INTO t(batch, v) VALUES (?, randomblob(300))", {batch});
      }
      rows(*conn, "UPDATE t SET v = randomblob(300) WHERE id % 97 = ?", {batch % 97});
      run(*conn, "COMMIT");
      const char committed = 'c';
      if (::write(progress, &committed, 1) != 1) _exit(4);
    }
  } catch (...) {
    _exit(3);
  }
}

// A journal is hot (must be played back) when its header has been written: SQLite leaves the
// first bytes zero until it syncs the journal, before the database file changes.
bool hot_journal(const std::string& path) {
  const auto bytes = read_bytes(path + "-journal");
  return !bytes.empty() && bytes[0] != 0;
}

std::uintmax_t size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// Copies the database and its journal in the middle of a transaction whose pages have reached
// the file: what a crash at that moment leaves behind.
void crash_state(const std::string& path, const std::string& copy) {
  auto conn = open_encrypted_local(path);
  run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, v BLOB)");
  run(*conn,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
      "INSERT INTO t(batch, v) SELECT 0, randomblob(300) FROM n");
  run(*conn, "PRAGMA cache_size = 10");
  run(*conn, "BEGIN");
  // Growing the file journals page 1 first; the updates then spill pages, which syncs the journal
  // with every record so far, page 1's included.
  run(*conn,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
      "INSERT INTO t(batch, v) SELECT 1, randomblob(300) FROM n");
  run(*conn, "UPDATE t SET v = randomblob(300) WHERE id % 3 = 0");
  ASSERT_GT(size_or_zero(path + "-journal"), 4096u * 10);
  std::filesystem::copy_file(path, copy);
  std::filesystem::copy_file(path + "-journal", copy + "-journal");
  run(*conn, "ROLLBACK");
}

}  // namespace

TEST(EncryptionRecovery, KilledWritersLeaveDatabasesThatOpenWithTheKey) {
  TempDir dir;
  const std::string path = dir.file("crash.db");
  {
    auto conn = open_encrypted_local(path);
    run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, v BLOB)");
  }
  int hot_journals = 0;
  std::int64_t last_count = 0;
  for (int round = 0; round < 12; ++round) {
    int progress[2];
    ASSERT_EQ(::pipe(progress), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(progress[0]);
      write_forever(path, progress[1]);
    }
    ::close(progress[1]);
    // Once the writer has committed a transaction (however slow the run), kill it a varying
    // while into the next ones: mostly inside a transaction.
    pollfd committed{progress[0], POLLIN, 0};
    const bool wrote = ::poll(&committed, 1, 60'000) == 1;
    if (wrote) std::this_thread::sleep_for(std::chrono::milliseconds(5 + 11 * round));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    ::close(progress[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(wrote) << "the writer committed nothing within 60 s in round " << round;
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;
    if (hot_journal(path)) ++hot_journals;

    auto conn = open_encrypted_local(path);
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}})) << "round " << round;
    const auto counts = rows(*conn, "SELECT count(*), count(DISTINCT batch) FROM t");
    const std::int64_t count = std::stoll(counts[0][0]);
    EXPECT_EQ(count % kBatch, 0) << "a transaction was half applied in round " << round;
    EXPECT_EQ(count / kBatch, std::stoll(counts[0][1]));
    EXPECT_GE(count, last_count);
    last_count = count;
    EXPECT_FALSE(hot_journal(path)) << "round " << round;  // played back
  }
  EXPECT_GT(last_count, 0);
  EXPECT_GT(hot_journals, 0) << "no kill landed inside a transaction: recovery was not exercised";
}

TEST(EncryptionRecovery, AHotJournalIsRolledBackWithTheKey) {
  TempDir dir;
  crash_state(dir.file("a.db"), dir.file("b.db"));
  auto conn = open_encrypted_local(dir.file("b.db"));
  EXPECT_EQ(rows(*conn, "SELECT count(*), max(batch) FROM t"), (Rows{{"2000", "0"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
  EXPECT_FALSE(std::filesystem::exists(dir.file("b.db-journal")));
}

TEST(EncryptionRecovery, AWrongKeyNeverPlaysAHotJournalBack) {
  TempDir dir;
  crash_state(dir.file("a.db"), dir.file("b.db"));
  const auto db = read_bytes(dir.file("b.db"));
  const auto journal = read_bytes(dir.file("b.db-journal"));
  const Error e = error_of(
      [&] { open_encrypted_local(dir.file("b.db"), "wrong-key-wrong-key-wrong-key-wrong"); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_EQ(read_bytes(dir.file("b.db")), db);
  EXPECT_EQ(read_bytes(dir.file("b.db-journal")), journal);
  // Nor does a connection without the key (stock SQLite would discard the journal).
  const Error no_key = error_of([&] { open_local(dir.file("b.db")); });
  EXPECT_EQ(no_key.code(), kCodeNotADb);
  EXPECT_EQ(no_key.message(), "Failed to connect to " + dir.file("b.db") +
                                  ": the database is encrypted; give its encryption_key");
  EXPECT_EQ(read_bytes(dir.file("b.db")), db);
  EXPECT_EQ(read_bytes(dir.file("b.db-journal")), journal);
  EXPECT_EQ(rows(*open_encrypted_local(dir.file("b.db")), "SELECT count(*) FROM t"),
            (Rows{{"2000"}}));
}

TEST(EncryptionRecovery, ATornPageOneIsRestoredFromTheHotJournal) {
  TempDir dir;
  crash_state(dir.file("a.db"), dir.file("b.db"));
  // A crash while page 1 was being written: its first bytes are garbage, so it no longer
  // decrypts; the hot journal holds its original image.
  std::vector<std::uint8_t> db = read_bytes(dir.file("b.db"));
  for (int i = 8; i < 16; ++i)
    db[i] ^= 0xa5;
  write_bytes(dir.file("b.db"), db);
  const auto journal = read_bytes(dir.file("b.db-journal"));

  const Error e = error_of(
      [&] { open_encrypted_local(dir.file("b.db"), "wrong-key-wrong-key-wrong-key-wrong"); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_EQ(read_bytes(dir.file("b.db")), db);
  EXPECT_EQ(read_bytes(dir.file("b.db-journal")), journal);

  auto conn = open_encrypted_local(dir.file("b.db"));
  EXPECT_EQ(rows(*conn, "SELECT count(*), max(batch) FROM t"), (Rows{{"2000", "0"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(EncryptionRecovery, ATornPageOneWithoutJournalIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  { run(*open_encrypted_local(path), "CREATE TABLE t(x)"); }
  std::vector<std::uint8_t> db = read_bytes(path);
  db[30] ^= 0x01;
  write_bytes(path, db);
  EXPECT_EQ(error_of([&] { open_encrypted_local(path); }).code(), kCodeNotADb);
}
