// The sqlite3_file the encryption VFS hands to SQLite, and the state behind it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>

#include "crypto/encrypted_db.hpp"

namespace ecto_libsql::crypto {

enum class FileRole {
  Plain,    // passed through untouched (attached plain databases, super-journals)
  MainDb,   // an encrypted main database file
  Journal,  // the rollback journal of an encrypted main database
};

// Where a journal is in SQLite's record pattern: page number (4 bytes), page, checksum (4 bytes).
enum class JournalStep { Idle, AfterPageNumber, AfterPage };

struct FileState {
  FileRole role = FileRole::Plain;
  sqlite3_file* real = nullptr;  // the wrapped file of the default VFS
  const char* name = nullptr;    // as given to xOpen (journals find their database by it)
  std::shared_ptr<EncryptedDb> db;
  // Journal record tracking: the page image is the write or read of one page that follows the
  // 4-byte page number right before it.
  JournalStep step = JournalStep::Idle;
  sqlite3_int64 page_number_offset = 0;
  std::uint32_t page_number = 0;
  bool journal_checked = false;
};

// Standard layout, first member sqlite3_file: SQLite sees only `base`.
struct FileHandle {
  sqlite3_file base;
  FileState* state;
};

inline FileState& state_of(sqlite3_file* file) {
  return *reinterpret_cast<FileHandle*>(file)->state;
}

inline sqlite3_file* real_of(sqlite3_file* file) {
  return state_of(file).real;
}

// I/O of the encrypted roles (main_file_io.cpp, journal_io.cpp).
int main_read(FileState& file, std::uint8_t* out, int amount, sqlite3_int64 offset) noexcept;
int main_write(FileState& file, const std::uint8_t* data, int amount,
               sqlite3_int64 offset) noexcept;
int journal_read(FileState& file, std::uint8_t* out, int amount, sqlite3_int64 offset) noexcept;
int journal_write(FileState& file, const std::uint8_t* data, int amount,
                  sqlite3_int64 offset) noexcept;

}  // namespace ecto_libsql::crypto
