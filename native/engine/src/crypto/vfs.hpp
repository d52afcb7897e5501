// The encryption VFS: a shim over SQLite's default VFS, registered once under its own name.
// Connections with an encryption key open through it; the key reaches the main database file
// through PendingOpen (never through the file name), and the file's rollback journal finds it
// through the main file.
#pragma once

#include <sqlite3.h>

#include <memory>

#include "crypto/encrypted_db.hpp"

namespace ecto_libsql::crypto {

// Registers the VFS on first use and answers its name. Throws Error when SQLite refuses it.
const char* vfs_name();

// While alive, the next main database file the VFS opens on this thread is encrypted with `db`
// (sqlite3_open_v2 opens the main file on the calling thread before it returns).
class PendingOpen {
 public:
  explicit PendingOpen(std::shared_ptr<EncryptedDb> db);
  ~PendingOpen();
  PendingOpen(const PendingOpen&) = delete;
  PendingOpen& operator=(const PendingOpen&) = delete;

 private:
  std::shared_ptr<EncryptedDb> db_;
};

// The encryption state of the main database of `db`, or null when this VFS does not encrypt it.
std::shared_ptr<EncryptedDb> encrypted_main(sqlite3* db);

}  // namespace ecto_libsql::crypto
