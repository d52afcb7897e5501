// Offline writes pushed over the Turso sync protocol as @tursodatabase/sync pushes them
// (FORMATS.md D.5; turso sync/engine/src/database_sync_operations.rs, push_logical_changes):
// row changes replayed as SQL in one /v2/pipeline batch, with this client's row of
// turso_sync_last_change_id (client_id, pull_gen, change_id) written in the same transaction so
// that a push whose answer was lost is recognised and never applied twice.
//
// The changes are found by comparing the local file with its base copy (the server's content
// at the last sync), attached as "base": schema objects by name and SQL, rows by rowid (WITHOUT
// ROWID tables by primary key). Statements name rows by primary key as the reference client
// does (turso's DatabaseReplayGenerator): upserts `INSERT … ON CONFLICT(pk) DO UPDATE`,
// `UPDATE … SET <changed columns> WHERE pk = ?` (the old key), `DELETE … WHERE pk = ?`;
// tables without a primary key by rowid (`INSERT OR REPLACE … (…, rowid)`, `WHERE rowid = ?`).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ecto_libsql/value.hpp"

namespace ecto_libsql::replica {

struct PushStep {
  std::string sql;
  std::vector<Value> args;
  // DDL that may already be on the server (ALTER TABLE … ADD COLUMN): its failure is ignored,
  // as the reference client ignores it.
  bool may_fail = false;
};

struct LogicalChanges {
  std::vector<PushStep> steps;
  std::size_t rows = 0;    // row changes
  std::size_t schema = 0;  // schema changes
  [[nodiscard]] bool empty() const noexcept { return steps.empty(); }
};

inline constexpr std::string_view kLastChangeTable = "turso_sync_last_change_id";

// The changes that turn `base` into `main` on the connection `db`. Throws Error for a schema
// change it cannot express (a column renamed, a table's constraints changed).
LogicalChanges logical_changes(sqlite3* db);

// The /v2/pipeline body of the push: one batch of BEGIN IMMEDIATE, the steps, the upsert of
// (client_id, pull_gen 0, change_id) into turso_sync_last_change_id, COMMIT; every step runs
// only if the ones before it succeeded (DDL that may fail excepted), and a ROLLBACK runs if the
// COMMIT did not, so that a push applies all or nothing.
std::string encode_push_pipeline(const LogicalChanges& changes, const std::string& client_id,
                                 std::uint64_t change_id);

// The /v2/pipeline body asking for this client's last change id.
std::string encode_last_change_query(const std::string& client_id);

}  // namespace ecto_libsql::replica
