// Which foreign key a failed statement broke, found on the local database (remote connections
// find it on the server: remote/foreign_key_probe.hpp; both name it with core/foreign_keys.hpp).
#pragma once

#include <sqlite3.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/foreign_keys.hpp"

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

// Runs `failed` (reset, its bindings kept) once more inside a savepoint with foreign keys
// deferred, looks at the rows it changed, and rolls everything back. With `failed` null (a
// COMMIT that found deferred violations, the transaction still open) the database is checked
// as it is. Never throws; answers nothing when the key cannot be found. The caller has read
// the original error already: this runs other statements on `db`.
[[nodiscard]] std::optional<BrokenForeignKey> find_broken_foreign_key(sqlite3* db,
                                                                      sqlite3_stmt* failed,
                                                                      const ChangeSink& sink);

}  // namespace ecto_libsql::local
