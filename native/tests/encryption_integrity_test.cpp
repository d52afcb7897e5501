// Page tags: a changed byte anywhere in an encrypted database gives an error, never wrong data.
#include <gtest/gtest.h>

#include <random>

#include "crypto_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr std::size_t kPage = 4096;

void create(const std::string& path) {
  auto conn = open_encrypted_local(path);
  run(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)");
  run(*conn, "CREATE INDEX t_name ON t(name)");
  run(*conn,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
      "INSERT INTO t SELECT i, 'name-' || i, i / 3.0, zeroblob(50) FROM n");
}

// Reads every page: a table scan, an index scan and the integrity check.
Rows read_everything(Connection& conn) {
  Rows all = rows(conn, "SELECT id, name, score, hex(data) FROM t ORDER BY id");
  for (auto& row : rows(conn, "SELECT name FROM t ORDER BY name"))
    all.push_back(row);
  for (auto& row : rows(conn, "PRAGMA integrity_check"))
    all.push_back(row);
  return all;
}

// Copies the database and its tags, flips one byte of the copy, and answers the error reading
// it gave (or the failure when it read data).
::testing::AssertionResult flip_gives_an_error(const std::string& original, const std::string& copy,
                                               std::size_t offset, const std::string& key = kKey) {
  std::vector<std::uint8_t> bytes = read_bytes(original);
  bytes[offset] ^= 0x01;
  write_bytes(copy, bytes);
  std::filesystem::copy_file(original + "-integrity", copy + "-integrity",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    auto conn = open_encrypted_local(copy, key);
    read_everything(*conn);
  } catch (const Error& e) {
    const int code = e.code() & 0xff;
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "offset " << offset << ": unexpected error " << e.code() << " " << e.message();
  }
  return ::testing::AssertionFailure()
         << "offset " << offset << " (page " << offset / kPage + 1 << ") was read without an error";
}

}  // namespace

TEST(EncryptionIntegrity, AFlippedByteInAnyPageGivesAnError) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  create(path);
  const std::size_t pages = read_bytes(path).size() / kPage;
  ASSERT_GE(pages, 10u);
  for (std::size_t page = 0; page < pages; ++page) {
    for (const std::size_t at : {0u, 7u, 12u, 20u, 31u, 100u, 1000u, 2049u, 4095u}) {
      EXPECT_TRUE(flip_gives_an_error(path, dir.file("copy.db"), page * kPage + at));
    }
  }
}

TEST(EncryptionIntegrity, RandomFlipsAlwaysGiveAnError) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  create(path);
  const std::size_t size = read_bytes(path).size();
  std::mt19937 random(20240601);
  for (int i = 0; i < 150; ++i) {
    EXPECT_TRUE(flip_gives_an_error(path, dir.file("copy.db"), random() % size));
  }
}

TEST(EncryptionIntegrity, FilesWrittenByLibsqlGetTagsWhenFirstOpened) {
  TempDir dir;
  const std::string path = dir.file("m.db");
  copy_oracle("encrypted_multipage_by_libsql.db", path);
  ASSERT_FALSE(std::filesystem::exists(path + "-integrity"));
  { open_encrypted_local(path, kMultipageKey); }
  ASSERT_TRUE(std::filesystem::exists(path + "-integrity"));
  EXPECT_EQ(std::filesystem::file_size(path + "-integrity"), 64u + 31u * 32u);
  EXPECT_EQ(read_bytes(oracle_path("encrypted_multipage_by_libsql.db")), read_bytes(path));
  for (const std::size_t at : {5u * kPage + 300u, 17u * kPage + 4000u, 30u * kPage + 1u}) {
    try {
      std::vector<std::uint8_t> bytes = read_bytes(path);
      bytes[at] ^= 0x80;
      write_bytes(dir.file("copy.db"), bytes);
      std::filesystem::copy_file(path + "-integrity", dir.file("copy.db-integrity"),
                                 std::filesystem::copy_options::overwrite_existing);
      auto conn = open_encrypted_local(dir.file("copy.db"), kMultipageKey);
      rows(*conn, "SELECT * FROM docs");
      rows(*conn, "PRAGMA integrity_check");
      ADD_FAILURE() << "offset " << at << " was read without an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code() & 0xff, SQLITE_CORRUPT) << e.message();
    }
  }
}

TEST(EncryptionIntegrity, ChangedOrMissingTagsAreErrorsTooButADeletedTagFileIsRebuilt) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  create(path);
  const Rows expected = read_everything(*open_encrypted_local(path));
  auto tags = read_bytes(path + "-integrity");
  tags[64 + 32 * 5 + 20] ^= 0x01;  // page 6's tag
  write_bytes(path + "-integrity", tags);
  EXPECT_EQ(error_of([&] { read_everything(*open_encrypted_local(path)); }).code() & 0xff,
            SQLITE_CORRUPT);
  tags[64 + 32 * 5 + 20] ^= 0x01;
  tags.resize(64 + 32 * 3);  // entries cut off
  write_bytes(path + "-integrity", tags);
  EXPECT_EQ(error_of([&] { read_everything(*open_encrypted_local(path)); }).code() & 0xff,
            SQLITE_CORRUPT);
  std::filesystem::remove(path + "-integrity");
  EXPECT_EQ(read_everything(*open_encrypted_local(path)), expected);
  EXPECT_TRUE(flip_gives_an_error(path, dir.file("copy.db"), 7 * kPage + 99));
}

TEST(EncryptionIntegrity, StaleTagsAfterAWriterThatIgnoresThemAreRebuiltNotReported) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  create(path);
  const auto old_tags = read_bytes(path + "-integrity");
  auto reader = open_encrypted_local(path);
  EXPECT_EQ(rows(*reader, "SELECT count(*) FROM t"), (Rows{{"1200"}}));
  // A writer that does not keep the tags, as libSQL: written here, then the old tags put back.
  {
    auto writer = open_encrypted_local(path);
    run(*writer, "UPDATE t SET data = randomblob(60) WHERE id % 7 = 0");
    run(*writer, "INSERT INTO t(name) VALUES ('late')");
  }
  write_bytes(path + "-integrity", old_tags);
  // A connection that was open sees the change and stops trusting the tags...
  EXPECT_EQ(rows(*reader, "SELECT count(*), count(data) FROM t"), (Rows{{"1201", "1200"}}));
  EXPECT_EQ(rows(*reader, "PRAGMA integrity_check"), (Rows{{"ok"}}));
  reader->close();
  // ...and the next one rebuilds them.
  auto conn = open_encrypted_local(path);
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
  EXPECT_NE(read_bytes(path + "-integrity"), old_tags);
  conn->close();
  EXPECT_TRUE(flip_gives_an_error(path, dir.file("copy.db"), 9 * kPage + 1234));
}

TEST(EncryptionIntegrity, ReadOnlyConnectionsVerifyToo) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  create(path);
  auto bytes = read_bytes(path);
  bytes[4 * kPage + 77] ^= 0x10;
  write_bytes(path, bytes);
  ConnectOptions options = encrypted_options(path);
  options.read_only = true;
  auto conn = open_connection(options);
  EXPECT_EQ(error_of([&] { read_everything(*conn); }).code() & 0xff, SQLITE_CORRUPT);
}

TEST(EncryptionIntegrity, TheTagFileIsCreatedByWritesOnly) {
  TempDir dir;
  const std::string path = dir.file("new.db");
  { auto conn = open_encrypted_local(path); }
  EXPECT_FALSE(std::filesystem::exists(path + "-integrity"));  // nothing written yet
  { run(*open_encrypted_local(path), "CREATE TABLE t(x)"); }
  EXPECT_TRUE(std::filesystem::exists(path + "-integrity"));
  EXPECT_FALSE(contains(read_bytes(path + "-integrity"), "CREATE TABLE"));
}
