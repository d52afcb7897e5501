#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "crypto/vfs.hpp"
#include "ecto_libsql/crypto/encryption.hpp"

namespace ecto_libsql::crypto {
namespace {

[[noreturn]] void throw_not_a_database(const std::string& path, const EncryptedDb& db) {
  if (db.plain_header) {
    throw Error(kCodeNotADb,
                "Failed to connect to " + path +
                    ": file is not an encrypted database (it is a plain SQLite database); open it "
                    "without encryption_key, or encrypt it with "
                    "EctoLibSql.Native.encrypt_database/3");
  }
  throw Error(kCodeNotADb, "Failed to connect to " + path +
                               ": file is not a database, or the encryption key is wrong");
}

bool non_empty_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return !ec && size > 0;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Reads page 1 under a shared lock: this rolls back a hot journal (checked against the key before
// anything is written), and compares the page tags with the database, rebuilding them when
// they are stale (after libSQL wrote the file) or missing.
void check_on_open(local::LocalConnection& conn, EncryptedDb& db, const ConnectOptions& options) {
  try {
    conn.exec("BEGIN");
    conn.exec("SELECT count(*) FROM sqlite_schema");
    IntegrityFile* tags = db.integrity.get();
    if (tags != nullptr && tags->trust() == IntegrityFile::Trust::Untrusted &&
        db.header == HeaderState::Valid && db.page_size > 0 && db.real_main != nullptr) {
      (void)tags->rebuild(db.real_main, db.page_size, db.change_counter);
    }
    conn.exec("COMMIT");
  } catch (const Error& e) {
    if (!conn.autocommit()) {
      try {
        conn.exec("ROLLBACK");
      } catch (...) {
        // The connection is dropped with the error below anyway.
      }
    }
    if ((e.code() & 0xff) == kCodeNotADb) throw_not_a_database(options.database, db);
    // Busy: another connection is writing. Page 1 is read (and checked) by the first query.
    if ((e.code() & 0xff) == kCodeBusy && db.header != HeaderState::Invalid) return;
    throw Error(e.code(), "Failed to connect to " + options.database + ": " + e.message());
  }
}

}  // namespace

void check_key(std::string_view key, KeyPolicy policy, std::string_view what) {
  if (key.empty()) throw Error(kCodeMisuse, std::string(what) + " must not be empty");
  if (policy == KeyPolicy::Connect && key.size() < kMinKeyLength) {
    throw Error(kCodeMisuse, std::string(what) + " must be at least " +
                                 std::to_string(kMinKeyLength) + " characters long");
  }
}

void refuse_encrypted_without_key(const std::string& database) {
  if (database.empty() || database == ":memory:" || database.starts_with("file:")) return;
  std::ifstream in(database, std::ios::binary);
  std::array<char, 24> header{};
  if (!in.read(header.data(), header.size())) return;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(header.data());
  if (std::memcmp(bytes, "SQLite format 3", 16) != 0 && header_page_size(bytes + 16) != 0) {
    throw Error(kCodeNotADb, "Failed to connect to " + database +
                                 ": the database is encrypted; give its encryption_key");
  }
}

std::shared_ptr<local::LocalConnection> open_encrypted(const ConnectOptions& options,
                                                       KeyPolicy policy) {
  if (!options.encryption_key) throw Error(kCodeMisuse, "encryption_key is missing");
  check_key(*options.encryption_key, policy);
  auto db = std::make_shared<EncryptedDb>(*options.encryption_key);
  const char* vfs = vfs_name();
  std::shared_ptr<local::LocalConnection> conn;
  try {
    PendingOpen pending(db);
    conn = std::make_shared<local::LocalConnection>(options, vfs);
  } catch (const Error& e) {
    if ((e.code() & 0xff) == kCodeNotADb) throw_not_a_database(options.database, *db);
    throw;
  }
  sqlite3* handle = conn->handle();
  const char* file = sqlite3_db_filename(handle, "main");
  if (file == nullptr || *file == '\0') {
    conn->exec("PRAGMA temp_store = MEMORY");  // in memory: nothing reaches the disk
    return conn;
  }
  const std::string path(file);
  if (encrypted_main(handle) != db) {
    throw Error(kCodeMisuse, "Failed to connect to " + options.database +
                                 ": encryption_key cannot be used with this database (is a "
                                 "vfs= URI parameter set?)");
  }
  const bool hot_journal = non_empty_file(path + "-journal");
  if (db->header == HeaderState::Invalid && !hot_journal) {
    throw_not_a_database(options.database, *db);
  }
  if (db->wal_header || exists(path + "-wal")) {
    throw Error(kCodeCantOpen,
                "Failed to connect to " + options.database +
                    ": the database uses WAL, which encrypted databases cannot use; switch it to "
                    "journal_mode=DELETE with libSQL first (see docs/encryption.md)");
  }
  conn->exec("PRAGMA temp_store = MEMORY");
  check_on_open(*conn, *db, options);
  return conn;
}

}  // namespace ecto_libsql::crypto
