// encrypt_database, decrypt_database and rekey_database: a copy through SQLite's backup API into
// a new file next to the destination, then an atomic rename.
#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "ecto_libsql/crypto/encryption.hpp"

namespace ecto_libsql::crypto {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<local::LocalConnection> open_database(const std::string& path,
                                                      std::optional<std::string_view> key) {
  ConnectOptions options;
  options.database = path;
  if (key) {
    options.encryption_key = std::string(*key);
    const WipeOnExit wipe(options.encryption_key);
    return open_encrypted(options, KeyPolicy::AnyLibsqlKey);
  }
  refuse_encrypted_without_key(path);
  auto conn = std::make_shared<local::LocalConnection>(options);
  try {
    conn->exec("SELECT count(*) FROM sqlite_schema");
  } catch (const Error& e) {
    if ((e.code() & 0xff) != kCodeNotADb) throw;
    throw Error(e.code(), path + " is not a plain SQLite database (is it encrypted?)");
  }
  return conn;
}

// The copy under construction: removed, with its journal, unless it was renamed into place.
class TemporaryCopy {
 public:
  explicit TemporaryCopy(const std::string& destination) {
    std::array<unsigned char, 8> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
      throw Error(kCodeError, "no randomness for a temporary file name");
    }
    std::string suffix;
    for (unsigned char c : random) {
      std::array<char, 3> hex{};
      std::snprintf(hex.data(), hex.size(), "%02x", c);
      suffix += hex.data();
    }
    path_ = destination + "-ecto_libsql-" + suffix + ".tmp";
  }
  ~TemporaryCopy() {
    if (kept_) return;
    std::error_code ec;
    fs::remove(path_, ec);
    fs::remove(path_ + "-journal", ec);
    fs::remove(path_ + "-integrity", ec);
  }
  TemporaryCopy(const TemporaryCopy&) = delete;
  TemporaryCopy& operator=(const TemporaryCopy&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

void sync_directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    throw Error(kCodeIoErr, "cannot sync the directory of " + path);
  }
}

class Backup {
 public:
  Backup(sqlite3* destination, sqlite3* source)
      : backup_(sqlite3_backup_init(destination, "main", source, "main")) {
    if (backup_ == nullptr) {
      throw Error(sqlite3_extended_errcode(destination), sqlite3_errmsg(destination));
    }
  }
  ~Backup() {
    if (backup_ != nullptr) sqlite3_backup_finish(backup_);
  }
  Backup(const Backup&) = delete;
  Backup& operator=(const Backup&) = delete;
  // Copies every page; answers SQLITE_DONE or the error.
  int run() { return sqlite3_backup_step(backup_, -1); }
  int finish() {
    const int rc = sqlite3_backup_finish(backup_);
    backup_ = nullptr;
    return rc;
  }

 private:
  sqlite3_backup* backup_;
};

// Copies `source` (read with `source_key`, or plain) to `destination` (written with
// `destination_key`, or plain).
void copy_database(const std::string& source_path, std::optional<std::string_view> source_key,
                   const std::string& destination_path,
                   std::optional<std::string_view> destination_key) {
  if (source_path.empty() || destination_path.empty()) {
    throw Error(kCodeMisuse, "the database paths must not be empty");
  }
  // SQLite resolves "." and ".." in names lexically: do the same, so that both agree on files.
  const std::string source = fs::absolute(source_path).lexically_normal().string();
  const std::string destination = fs::absolute(destination_path).lexically_normal().string();
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) throw Error(kCodeCantOpen, "database not found: " + source);
  const bool in_place = fs::exists(destination, ec) && fs::equivalent(source, destination, ec);
  if (!in_place && fs::exists(destination, ec)) {
    throw Error(kCodeCantOpen, "destination already exists: " + destination +
                                   " (give a new path, or the source path to convert in place)");
  }

  auto from = open_database(source, source_key);
  // A read transaction: with a rollback journal, no other connection can commit until the copy
  // is in place (the backup API refuses a source inside a write transaction).
  from->exec("BEGIN");
  if (in_place && !source_key) {
    // The new file would not carry the WAL's content nor replace the -wal file next to it.
    Connection::Guard guard(*from);
    StatementLease mode = from->acquire("PRAGMA journal_mode", nullptr);
    mode->bind(Params{});
    if (mode->step(nullptr) == Step::Row && mode->column_text(0) == "wal") {
      throw Error(kCodeMisuse, source +
                                   " uses WAL: switch it to journal_mode=DELETE before converting "
                                   "it in place, or write the copy to a new path");
    }
  }
  from->exec("SELECT count(*) FROM sqlite_schema");

  TemporaryCopy copy(destination);
  try {
    auto to = destination_key ? open_database(copy.path(), destination_key)
                              : open_database(copy.path(), std::nullopt);
    Backup backup(to->handle(), from->handle());
    const int rc = backup.run();
    const int finished = backup.finish();
    if (rc != SQLITE_DONE || finished != SQLITE_OK) {
      const int code = rc != SQLITE_DONE ? rc : finished;
      throw Error(code, std::string("copy failed: ") + sqlite3_errstr(code));
    }
    to->close();
  } catch (const Error& e) {
    throw Error(e.code(), "cannot write " + destination + ": " + e.message());
  }
  // The page tags first: with the old database they are stale, which is detected and repaired.
  if (destination_key) {
    fs::rename(copy.path() + "-integrity", destination + "-integrity", ec);
  } else {
    fs::remove(destination + "-integrity", ec);
  }
  fs::rename(copy.path(), destination, ec);
  if (ec) {
    throw Error(kCodeIoErr,
                "cannot move the new file into place at " + destination + ": " + ec.message());
  }
  copy.keep();
  sync_directory_of(destination);
  from->exec("ROLLBACK");
  from->close();
}

}  // namespace

void encrypt_database(const std::string& source, const std::string& destination,
                      std::string_view key) {
  check_key(key, KeyPolicy::Connect, "key");
  copy_database(source, std::nullopt, destination, key);
}

void decrypt_database(const std::string& source, const std::string& destination,
                      std::string_view key) {
  check_key(key, KeyPolicy::AnyLibsqlKey, "key");
  copy_database(source, key, destination, std::nullopt);
}

void rekey_database(const std::string& database, std::string_view old_key,
                    std::string_view new_key) {
  check_key(old_key, KeyPolicy::AnyLibsqlKey, "old key");
  check_key(new_key, KeyPolicy::Connect, "new key");
  copy_database(database, old_key, database, new_key);
}

}  // namespace ecto_libsql::crypto
