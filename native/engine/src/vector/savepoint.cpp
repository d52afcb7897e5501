#include "vector/savepoint.hpp"

#include "vector/nested_sql.hpp"

namespace ecto_libsql::vector {

Savepoint::Savepoint(sqlite3* db, std::string_view name) : db_(db), name_(quote_identifier(name)) {
  exec_sql(db_, "SAVEPOINT " + name_);
}

Savepoint::~Savepoint() {
  if (released_) return;
  try {
    exec_sql(db_, "ROLLBACK TO " + name_);
    // Only after a rollback: releasing now would keep what the scope half did.
    exec_sql(db_, "RELEASE " + name_);
  } catch (...) {
    // The error that left the scope matters more.
  }
}

void Savepoint::release() {
  exec_sql(db_, "RELEASE " + name_);
  released_ = true;
}

}  // namespace ecto_libsql::vector
