// Encrypted local connections: the libSQL oracle files, round trips, keys, refused settings.
#include <gtest/gtest.h>

#include <cstring>

#include "crypto_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using Rows = std::vector<std::vector<std::string>>;

namespace {

std::string file_hash(const std::string& path) {
  const auto bytes = read_bytes(path);
  return std::to_string(bytes.size()) + ":" +
         std::to_string(std::hash<std::string_view>{}(
             std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
}

void fill(Connection& conn, int rows_count) {
  run(conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, data BLOB)");
  run(conn, "BEGIN");
  for (int i = 1; i <= rows_count; ++i) {
    rows(conn, "INSERT INTO t(id, name, data) VALUES (?, ?, randomblob(200))",
         {std::int64_t{i}, std::string_view("secret-marker-value")});
  }
  run(conn, "COMMIT");
}

}  // namespace

TEST(Encryption, ReadsTheMultipageOracleWrittenByLibsql) {
  TempDir dir;
  copy_oracle("encrypted_multipage_by_libsql.db", dir.file("m.db"));
  auto conn = open_encrypted_local(dir.file("m.db"), kMultipageKey);
  EXPECT_EQ(rows(*conn, "SELECT count(*), sum(score), sum(length(body)) FROM docs"),
            (Rows{{"500", "15656.250000", "51742"}}));
  EXPECT_EQ(rows(*conn, "SELECT hex(payload) FROM docs WHERE id = 500"),
            (Rows{{"8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2"
                   "B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACB"}}));
  EXPECT_EQ(rows(*conn, "SELECT title, body FROM docs WHERE id = 3"),
            (Rows{{"title-0003", "body body body body 3"}}));
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM docs WHERE title >= 'title-0490'"), (Rows{{"11"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode"), (Rows{{"delete"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA page_count"), (Rows{{"31"}}));
}

TEST(Encryption, TheShortOracleKeyIsRefusedAtConnectButReadableThroughTheEngine) {
  TempDir dir;
  copy_oracle("encrypted_by_libsql.db", dir.file("s.db"));
  const Error e = error_of([&] { open_encrypted_local(dir.file("s.db"), kOracleKey); });
  EXPECT_EQ(e.code(), kCodeMisuse);
  EXPECT_EQ(e.message(), "encryption_key must be at least 32 characters long");
  auto conn = crypto::open_encrypted(encrypted_options(dir.file("s.db"), kOracleKey),
                                     crypto::KeyPolicy::AnyLibsqlKey);
  EXPECT_EQ(
      rows(*conn, "SELECT id, name, val FROM secrets ORDER BY id"),
      (Rows{{"1", "alpha", "1.500000"}, {"2", "beta", "2.500000"}, {"3", "gamma", "3.500000"}}));
}

TEST(Encryption, EmptyKeyIsRefused) {
  TempDir dir;
  const Error e = error_of([&] { open_encrypted_local(dir.file("e.db"), ""); });
  EXPECT_EQ(e.code(), kCodeMisuse);
  EXPECT_EQ(e.message(), "encryption_key must not be empty");
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.db")));
}

TEST(Encryption, RoundTripLeavesNoPlaintextOnDisk) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  {
    auto conn = open_encrypted_local(path);
    fill(*conn, 300);
  }
  const auto raw = read_bytes(path);
  ASSERT_GT(raw.size(), 4096u * 10);
  EXPECT_FALSE(contains(raw, "secret-marker-value"));
  EXPECT_FALSE(contains(raw, "SQLite format 3"));
  EXPECT_FALSE(contains(raw, "CREATE TABLE"));
  // Bytes 16..23 stay plaintext: page size 4096, versions 1/1 (rollback journal), 0, 64/32/32.
  EXPECT_EQ(std::vector<std::uint8_t>(raw.begin() + 16, raw.begin() + 24),
            (std::vector<std::uint8_t>{0x10, 0x00, 0x01, 0x01, 0x00, 0x40, 0x20, 0x20}));
  auto conn = open_encrypted_local(path);
  EXPECT_EQ(rows(*conn, "SELECT count(*), min(name), max(length(data)) FROM t"),
            (Rows{{"300", "secret-marker-value", "200"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(Encryption, WrongKeyIsRefusedAtConnectAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.file("w.db");
  { fill(*open_encrypted_local(path), 50); }
  const std::string before = file_hash(path);
  const Error e =
      error_of([&] { open_encrypted_local(path, "another-key-that-is-long-enough-000"); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_EQ(e.message(), "Failed to connect to " + path +
                             ": file is not a database, or the encryption key is wrong");
  EXPECT_EQ(file_hash(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-journal"));
}

TEST(Encryption, EncryptedFileWithoutKeyIsRefused) {
  TempDir dir;
  const std::string path = dir.file("n.db");
  { fill(*open_encrypted_local(path), 5); }
  const Error e = error_of([&] { open_local(path); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_EQ(e.message(), "Failed to connect to " + path +
                             ": the database is encrypted; give its encryption_key");
  // SQLite on its own only sees that it is not a database.
  ConnectOptions uri;
  uri.database = "file:" + path;
  auto plain = open_connection(uri);
  EXPECT_EQ(error_of([&] { rows(*plain, "SELECT count(*) FROM t"); }).message(),
            "file is not a database");
}

TEST(Encryption, PlainDatabaseWithKeySaysItIsNotEncrypted) {
  TempDir dir;
  const std::string path = dir.file("p.db");
  { fill(*open_local(path), 5); }
  const std::string before = file_hash(path);
  const Error e = error_of([&] { open_encrypted_local(path); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_NE(e.message().find("it is a plain SQLite database"), std::string::npos) << e.message();
  EXPECT_EQ(file_hash(path), before);
}

TEST(Encryption, JunkFileIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  write_bytes(path, std::vector<std::uint8_t>(8192, 0x41));
  const Error e = error_of([&] { open_encrypted_local(path); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_NE(e.message().find("file is not a database, or the encryption key is wrong"),
            std::string::npos);
}

TEST(Encryption, WalIsRefusedWithAClearErrorOtherJournalModesWork) {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  auto conn = open_encrypted_local(path);
  fill(*conn, 3);
  for (const char* sql : {"PRAGMA journal_mode = WAL", "PRAGMA main.journal_mode = 'wal'"}) {
    const Error e = error_of([&] { rows(*conn, sql); });
    EXPECT_EQ(e.code() & 0xff, kCodeError);
    EXPECT_NE(e.message().find("journal_mode=WAL is not supported for encrypted databases"),
              std::string::npos)
        << e.message();
  }
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode"), (Rows{{"delete"}}));
  int next = 100;
  for (const char* mode : {"truncate", "persist", "memory", "off", "delete"}) {
    EXPECT_EQ(rows(*conn, std::string("PRAGMA journal_mode = ") + mode), (Rows{{mode}}));
    rows(*conn, "INSERT INTO t(id, name) VALUES (?, 'x')", {std::int64_t{next++}});
  }
  conn->close();
  auto again = open_encrypted_local(path);
  EXPECT_EQ(rows(*again, "SELECT count(*) FROM t"), (Rows{{"8"}}));
  EXPECT_EQ(rows(*again, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(Encryption, SettingsThatWouldLeakPlaintextAreRefused) {
  TempDir dir;
  auto conn = open_encrypted_local(dir.file("t.db"));
  EXPECT_EQ(rows(*conn, "PRAGMA temp_store"), (Rows{{"2"}}));
  for (const char* sql :
       {"PRAGMA temp_store = FILE", "PRAGMA temp_store = 0", "PRAGMA temp_store = 1"}) {
    const Error e = error_of([&] { rows(*conn, sql); });
    EXPECT_NE(e.message().find("temp_store must stay MEMORY"), std::string::npos) << e.message();
  }
  EXPECT_EQ(rows(*conn, "PRAGMA temp_store = MEMORY").size(), 0u);
  for (const char* sql :
       {"PRAGMA rekey = 'another-key-another-key-another-key'", "PRAGMA key = 'k'"}) {
    const Error e = error_of([&] { rows(*conn, sql); });
    EXPECT_NE(e.message().find("EctoLibSql.Native.rekey/3"), std::string::npos) << e.message();
  }
}

TEST(Encryption, AWalFileNextToTheDatabaseIsRefused) {
  TempDir dir;
  const std::string path = dir.file("w.db");
  { fill(*open_encrypted_local(path), 3); }
  write_bytes(path + "-wal", {});
  const Error e = error_of([&] { open_encrypted_local(path); });
  EXPECT_EQ(e.code(), kCodeCantOpen);
  EXPECT_NE(e.message().find("uses WAL"), std::string::npos) << e.message();
}

TEST(Encryption, LargeSortsIndexesVacuumAndTempTablesNeedNoTemporaryFile) {
  // The VFS refuses temporary files (they would hold plaintext): all of this must stay in memory.
  TempDir dir;
  const std::string path = dir.file("big.db");
  auto conn = open_encrypted_local(path);
  run(*conn, "PRAGMA cache_size = 20");
  run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT)");
  run(*conn,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
      "INSERT INTO t SELECT i, hex(randomblob(16)), hex(randomblob(64)) FROM n");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM (SELECT k, v FROM t ORDER BY v DESC)"),
            (Rows{{"20000"}}));
  EXPECT_EQ(rows(*conn, "SELECT count(DISTINCT v) FROM t"), (Rows{{"20000"}}));
  run(*conn, "CREATE INDEX t_k ON t(k)");
  run(*conn, "CREATE TEMP TABLE scratch AS SELECT * FROM t");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM temp.scratch"), (Rows{{"20000"}}));
  run(*conn, "BEGIN");
  run(*conn, "SAVEPOINT s");
  run(*conn, "UPDATE t SET v = v || 'x'");
  run(*conn, "ROLLBACK TO s");
  run(*conn, "COMMIT");
  run(*conn, "DELETE FROM t WHERE id % 2 = 0");
  run(*conn, "VACUUM");
  EXPECT_EQ(rows(*conn, "SELECT count(*), sum(length(v)) FROM t"), (Rows{{"10000", "1280000"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(Encryption, TheRollbackJournalHoldsNoPlaintextAndRollsBack) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  auto conn = open_encrypted_local(path);
  run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  run(*conn,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
      "INSERT INTO t SELECT i, 'committed-marker-' || i FROM n");
  run(*conn, "PRAGMA cache_size = 10");  // spill: pages reach the file before COMMIT
  run(*conn, "BEGIN");
  run(*conn, "UPDATE t SET v = 'uncommitted-' || id");
  const auto journal = read_bytes(path + "-journal");
  ASSERT_GT(journal.size(), 4096u * 10);
  EXPECT_EQ(std::vector<std::uint8_t>(journal.begin(), journal.begin() + 8),
            (std::vector<std::uint8_t>{0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7}));
  EXPECT_FALSE(contains(journal, "committed-marker"));
  EXPECT_FALSE(contains(read_bytes(path), "uncommitted-"));
  run(*conn, "ROLLBACK");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v LIKE 'committed-marker-%'"),
            (Rows{{"2000"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(Encryption, PageSizesFrom512To65536) {
  TempDir dir;
  for (const int size : {512, 1024, 8192, 65536}) {
    const std::string path = dir.file("ps" + std::to_string(size) + ".db");
    {
      auto conn = open_encrypted_local(path);
      run(*conn, "PRAGMA page_size = " + std::to_string(size));
      fill(*conn, 400);
    }
    const auto raw = read_bytes(path);
    const int stored = (raw[16] << 8) | raw[17];
    EXPECT_EQ(stored == 1 ? 65536 : stored, size);
    EXPECT_FALSE(contains(raw, "secret-marker-value"));
    auto conn = open_encrypted_local(path);
    EXPECT_EQ(rows(*conn, "PRAGMA page_size"), (Rows{{std::to_string(size)}}));
    EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t"), (Rows{{"400"}}));
    EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
  }
}

TEST(Encryption, ThePageSizeOfAnExistingDatabaseCannotChange) {
  TempDir dir;
  const std::string path = dir.file("v.db");
  auto conn = open_encrypted_local(path);
  fill(*conn, 500);
  const Error e = error_of([&] { run(*conn, "PRAGMA page_size = 16384"); });
  EXPECT_NE(e.message().find("the page size of an existing encrypted database cannot change"),
            std::string::npos)
      << e.message();
  run(*conn, "PRAGMA page_size = 4096");  // the current size is fine
  run(*conn, "VACUUM");
  EXPECT_EQ(rows(*conn, "PRAGMA page_size"), (Rows{{"4096"}}));
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t"), (Rows{{"500"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(Encryption, TwoConnectionsSeeEachOthersCommits) {
  TempDir dir;
  const std::string path = dir.file("two.db");
  auto a = open_encrypted_local(path);
  run(*a, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  auto b = open_encrypted_local(path);
  for (int i = 1; i <= 20; ++i) {
    Connection& writer = i % 2 == 0 ? *a : *b;
    Connection& reader = i % 2 == 0 ? *b : *a;
    rows(writer, "INSERT INTO t(id, v) VALUES (?, hex(randomblob(3000)))", {std::int64_t{i}});
    EXPECT_EQ(rows(reader, "SELECT count(*) FROM t"), (Rows{{std::to_string(i)}}));
  }
}

TEST(Encryption, InMemoryDatabasesAcceptAKey) {
  auto conn = open_encrypted_local(":memory:");
  run(*conn, "CREATE TABLE t(x)");
  rows(*conn, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(rows(*conn, "SELECT x FROM t"), (Rows{{"1"}}));
}

TEST(Encryption, AnotherVfsInTheUriIsRefused) {
  TempDir dir;
  const Error e = error_of([&] { open_encrypted_local("file:" + dir.file("u.db") + "?vfs=unix"); });
  EXPECT_EQ(e.code(), kCodeMisuse);
  EXPECT_NE(e.message().find("encryption_key cannot be used with this database"), std::string::npos)
      << e.message();
}

TEST(Encryption, ReadOnlyConnections) {
  TempDir dir;
  const std::string path = dir.file("ro.db");
  { fill(*open_encrypted_local(path), 10); }
  ConnectOptions options = encrypted_options(path);
  options.read_only = true;
  auto conn = open_connection(options);
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t"), (Rows{{"10"}}));
  const Error e = error_of([&] { run(*conn, "DELETE FROM t"); });
  EXPECT_EQ(e.code() & 0xff, 8);  // SQLITE_READONLY
}

TEST(Encryption, TheVfsRefusesTemporaryFiles) {
  // Only connections that went through open_encrypted keep temporary data in memory; any
  // temporary file asked of the VFS is refused rather than written in plaintext.
  TempDir dir;
  (void)crypto::open_encrypted(encrypted_options(":memory:"));  // registers the VFS
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(dir.file("plain.db").c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "ecto_libsql_aes256cbc"),
            SQLITE_OK);
  const int rc = sqlite3_exec(db,
                              "PRAGMA temp_store = FILE; PRAGMA temp.cache_size = 5;"
                              "CREATE TEMP TABLE t AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                              "SELECT i + 1 FROM n WHERE i < 5000) SELECT randomblob(500) FROM n",
                              nullptr, nullptr, nullptr);
  EXPECT_EQ(rc & 0xff, SQLITE_CANTOPEN) << sqlite3_errmsg(db);
  sqlite3_close(db);
}
