// A SAVEPOINT held for the length of a scope: rolled back (ROLLBACK TO, then RELEASE) unless
// release() committed it. Guards nest, innermost first; guards of the same name nest too, as
// SQLite's savepoints do.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

namespace ecto_libsql::vector {

class Savepoint {
 public:
  // Opens the savepoint. Throws Error when SQLite refuses it.
  Savepoint(sqlite3* db, std::string_view name);
  // Rolls the savepoint back unless it was released. Never throws: an error while rolling back
  // is dropped, as the error that left the scope matters more.
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  Savepoint(Savepoint&&) = delete;
  Savepoint& operator=(Savepoint&&) = delete;

  // Releases the savepoint: its changes become part of the enclosing transaction (or commit,
  // outside one). Throws Error when SQLite refuses; the savepoint is then still open and the
  // destructor rolls it back.
  void release();

 private:
  sqlite3* db_;
  std::string name_;  // quoted
  bool released_ = false;
};

}  // namespace ecto_libsql::vector
