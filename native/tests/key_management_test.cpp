// encrypt_database, decrypt_database and rekey_database.
#include <gtest/gtest.h>

#include <set>

#include "crypto_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kOtherKey = "the-other-key-with-at-least-32-chars";

void fill_plain_or_encrypted(Connection& conn) {
  run(conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  run(conn,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
      "INSERT INTO t SELECT i, 'marker-text-' || i FROM n");
}

Rows summary(Connection& conn) {
  return rows(conn, "SELECT count(*), sum(length(v)), max(v) FROM t");
}

const Rows kSummary = {{"1000", "14893", "marker-text-999"}};

std::set<std::string> files_in(const TempDir& dir) {
  std::set<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(dir.file("")))) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

}  // namespace

TEST(KeyManagement, EncryptsAPlainDatabaseIntoANewFile) {
  TempDir dir;
  { fill_plain_or_encrypted(*open_local(dir.file("plain.db"))); }
  const auto before = read_bytes(dir.file("plain.db"));
  crypto::encrypt_database(dir.file("plain.db"), dir.file("enc.db"), kKey);
  EXPECT_EQ(read_bytes(dir.file("plain.db")), before);
  EXPECT_FALSE(contains(read_bytes(dir.file("enc.db")), "marker-text-"));
  EXPECT_EQ(summary(*open_encrypted_local(dir.file("enc.db"))), kSummary);
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"plain.db", "enc.db", "enc.db-integrity"}));
}

TEST(KeyManagement, EncryptsInPlace) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  { fill_plain_or_encrypted(*open_local(path)); }
  crypto::encrypt_database(path, path, kKey);
  EXPECT_FALSE(contains(read_bytes(path), "marker-text-"));
  EXPECT_EQ(summary(*open_encrypted_local(path)), kSummary);
  EXPECT_EQ(error_of([&] { summary(*open_local(path)); }).code() & 0xff, kCodeNotADb);
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"db.db", "db.db-integrity"}));
}

TEST(KeyManagement, DecryptsTheShortKeyOracleToAPlainCopy) {
  TempDir dir;
  copy_oracle("encrypted_by_libsql.db", dir.file("oracle.db"));
  crypto::decrypt_database(dir.file("oracle.db"), dir.file("plain.db"), kOracleKey);
  auto conn = open_local(dir.file("plain.db"));
  EXPECT_EQ(
      rows(*conn, "SELECT id, name, val FROM secrets ORDER BY id"),
      (Rows{{"1", "alpha", "1.500000"}, {"2", "beta", "2.500000"}, {"3", "gamma", "3.500000"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check"), (Rows{{"ok"}}));
}

TEST(KeyManagement, DecryptsInPlace) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  { fill_plain_or_encrypted(*open_encrypted_local(path)); }
  crypto::decrypt_database(path, path, kKey);
  EXPECT_TRUE(contains(read_bytes(path), "marker-text-"));
  EXPECT_EQ(summary(*open_local(path)), kSummary);
}

TEST(KeyManagement, RekeysTheShortKeyOracleSoThatConnectOpensIt) {
  TempDir dir;
  const std::string path = dir.file("oracle.db");
  copy_oracle("encrypted_by_libsql.db", path);
  crypto::rekey_database(path, kOracleKey, kKey);
  EXPECT_EQ(rows(*open_encrypted_local(path), "SELECT group_concat(name) FROM secrets"),
            (Rows{{"alpha,beta,gamma"}}));
  EXPECT_EQ(error_of([&] {
              crypto::open_encrypted(encrypted_options(path, kOracleKey),
                                     crypto::KeyPolicy::AnyLibsqlKey);
            }).code(),
            kCodeNotADb);
}

TEST(KeyManagement, RekeyChangesTheKey) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  { fill_plain_or_encrypted(*open_encrypted_local(path)); }
  const auto before = read_bytes(path);
  crypto::rekey_database(path, kKey, kOtherKey);
  const auto after = read_bytes(path);
  EXPECT_EQ(before.size(), after.size());
  EXPECT_NE(before, after);
  EXPECT_EQ(summary(*open_encrypted_local(path, kOtherKey)), kSummary);
  EXPECT_EQ(error_of([&] { open_encrypted_local(path, kKey); }).code(), kCodeNotADb);
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"db.db", "db.db-integrity"}));
}

TEST(KeyManagement, AWrongOldKeyChangesNothing) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  { fill_plain_or_encrypted(*open_encrypted_local(path)); }
  const auto before = read_bytes(path);
  const auto tags = read_bytes(path + "-integrity");
  const Error e = error_of([&] { crypto::rekey_database(path, kOtherKey, kOtherKey); });
  EXPECT_EQ(e.code(), kCodeNotADb);
  EXPECT_NE(e.message().find("the encryption key is wrong"), std::string::npos) << e.message();
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(read_bytes(path + "-integrity"), tags);
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"db.db", "db.db-integrity"}));
}

TEST(KeyManagement, NewKeysNeed32Characters) {
  TempDir dir;
  const std::string path = dir.file("db.db");
  { fill_plain_or_encrypted(*open_local(path)); }
  Error e = error_of([&] { crypto::encrypt_database(path, dir.file("x.db"), "short"); });
  EXPECT_EQ(e.code(), kCodeMisuse);
  EXPECT_EQ(e.message(), "key must be at least 32 characters long");
  e = error_of([&] { crypto::rekey_database(path, kKey, "short"); });
  EXPECT_EQ(e.message(), "new key must be at least 32 characters long");
  e = error_of([&] { crypto::rekey_database(path, "", kKey); });
  EXPECT_EQ(e.message(), "old key must not be empty");
  e = error_of([&] { crypto::decrypt_database(path, dir.file("x.db"), ""); });
  EXPECT_EQ(e.message(), "key must not be empty");
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"db.db"}));
}

TEST(KeyManagement, RefusesMissingSourcesAndExistingDestinations) {
  TempDir dir;
  Error e =
      error_of([&] { crypto::encrypt_database(dir.file("none.db"), dir.file("x.db"), kKey); });
  EXPECT_EQ(e.code(), kCodeCantOpen);
  EXPECT_EQ(e.message(), "database not found: " + dir.file("none.db"));
  { fill_plain_or_encrypted(*open_local(dir.file("a.db"))); }
  write_bytes(dir.file("b.db"), {'k', 'e', 'e', 'p'});
  e = error_of([&] { crypto::encrypt_database(dir.file("a.db"), dir.file("b.db"), kKey); });
  EXPECT_EQ(e.code(), kCodeCantOpen);
  EXPECT_NE(e.message().find("destination already exists"), std::string::npos);
  EXPECT_EQ(read_bytes(dir.file("b.db")), (std::vector<std::uint8_t>{'k', 'e', 'e', 'p'}));
  e = error_of([&] { crypto::encrypt_database("", dir.file("x.db"), kKey); });
  EXPECT_EQ(e.code(), kCodeMisuse);
  e = error_of([&] { crypto::encrypt_database(dir.file("a.db"), dir.file("no/dir/x.db"), kKey); });
  EXPECT_EQ(e.code() & 0xff, kCodeCantOpen);
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"a.db", "b.db"}));
}

TEST(KeyManagement, RefusesSourcesOfTheWrongKind) {
  TempDir dir;
  { fill_plain_or_encrypted(*open_encrypted_local(dir.file("enc.db"))); }
  { fill_plain_or_encrypted(*open_local(dir.file("plain.db"))); }
  Error e = error_of([&] { crypto::encrypt_database(dir.file("enc.db"), dir.file("x.db"), kKey); });
  EXPECT_EQ(e.code() & 0xff, kCodeNotADb);
  EXPECT_NE(e.message().find("the database is encrypted; give its encryption_key"),
            std::string::npos)
      << e.message();
  e = error_of([&] { crypto::decrypt_database(dir.file("plain.db"), dir.file("x.db"), kKey); });
  EXPECT_EQ(e.code() & 0xff, kCodeNotADb);
  EXPECT_NE(e.message().find("it is a plain SQLite database"), std::string::npos) << e.message();
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"enc.db", "enc.db-integrity", "plain.db"}));
}

TEST(KeyManagement, WalSourcesConvertToANewFileNotInPlace) {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  auto writer = open_local(path);
  run(*writer, "PRAGMA journal_mode = WAL");
  fill_plain_or_encrypted(*writer);  // stays in the WAL: the writer keeps it open
  const Error e = error_of([&] { crypto::encrypt_database(path, path, kKey); });
  EXPECT_NE(e.message().find("uses WAL"), std::string::npos) << e.message();
  crypto::encrypt_database(path, dir.file("enc.db"), kKey);
  const auto raw = read_bytes(dir.file("enc.db"));
  EXPECT_EQ(raw[18], 1);  // rollback-journal versions
  EXPECT_EQ(raw[19], 1);
  auto conn = open_encrypted_local(dir.file("enc.db"));
  EXPECT_EQ(summary(*conn), kSummary);
  EXPECT_EQ(rows(*conn, "PRAGMA journal_mode"), (Rows{{"delete"}}));
}

TEST(KeyManagement, ResolvesDotDotLikeSqlite) {
  TempDir dir;
  { fill_plain_or_encrypted(*open_local(dir.file("plain.db"))); }
  crypto::encrypt_database(dir.file("plain.db"), dir.file("missing/../enc.db"), kKey);
  EXPECT_EQ(summary(*open_encrypted_local(dir.file("enc.db"))), kSummary);
  crypto::rekey_database(dir.file("nothing/../enc.db"), kKey, kOtherKey);
  EXPECT_EQ(summary(*open_encrypted_local(dir.file("enc.db"), kOtherKey)), kSummary);
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"plain.db", "enc.db", "enc.db-integrity"}));
}
