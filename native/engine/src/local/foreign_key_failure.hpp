// Which foreign key a failed statement broke. SQLite answers only "FOREIGN KEY constraint
// failed"; Ecto's foreign_key_constraint/3 needs the constraint's name.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ecto_libsql::local {

// A row the probe changed, as the update hook reports it.
struct ChangedRow {
  int op = 0;  // SQLITE_INSERT, SQLITE_UPDATE or SQLITE_DELETE
  std::string table;
  sqlite3_int64 rowid = 0;
};

// Points the connection's update hook at a sink (rows are recorded there and not passed to the
// user's hook), or back at the user's hook when given null.
using ChangeSink = std::function<void(std::vector<ChangedRow>*)>;

// The foreign key a statement broke, found after it failed with SQLITE_CONSTRAINT_FOREIGNKEY.
struct BrokenForeignKey {
  std::string table;                 // the child table
  std::vector<std::string> columns;  // its columns in the key
  std::string parent;                // the parent table
  std::string name;                  // CONSTRAINT name, or Ecto's "<table>_<column>_fkey"
};

// Runs `failed` (reset, its bindings kept) once more inside a savepoint with foreign keys
// deferred, looks at the rows it changed, and rolls everything back. With `failed` null (a
// COMMIT that found deferred violations, the transaction still open) the database is checked
// as it is. Never throws; answers nothing when the key cannot be found. The caller has read
// the original error already: this runs other statements on `db`.
[[nodiscard]] std::optional<BrokenForeignKey> find_broken_foreign_key(sqlite3* db,
                                                                      sqlite3_stmt* failed,
                                                                      const ChangeSink& sink);

// ": comments.post_id (foreign key: comments_post_id_fkey)" for the message, or empty.
[[nodiscard]] std::string describe(const std::optional<BrokenForeignKey>& broken);

// The foreign key constraints written in a CREATE TABLE statement: name, child columns and
// parent table of each named one, in the order written. Exposed for tests.
[[nodiscard]] std::vector<BrokenForeignKey> named_foreign_keys(std::string_view create_table_sql);

}  // namespace ecto_libsql::local
