// The vector module of one local connection: libSQL's vector functions, the vector_top_k table
// and libSQL-compatible DiskANN indexes kept in libSQL's own shadow tables.
//
// How indexes are maintained on stock SQLite (docs/vector.md has the full story):
// * `CREATE INDEX ... (libsql_vector_idx(col, ...))` runs through a wrapping statement
//   (ddl_statement.hpp): SQLite records the index in sqlite_schema as libSQL does and fills its
//   b-tree with the values of libsql_vector_idx(), and the module creates libSQL's
//   shadow tables and builds the graph. The b-tree keys are 1 for rows with a vector and NULL
//   for rows without, so that a file libSQL wrote to since can be recognised and reindexed.
// * TEMP triggers on the indexed table, installed on every connection, call an internal function
//   on insert, update and delete; the graph changes are written to the shadow table inside the
//   same statement, so they commit and roll back with it.
// * libsql_vector_idx(), evaluated by SQLite for every index key it computes, notices when the
//   schema changed under this connection and installs missing triggers, then makes SQLite
//   prepare the statement again (SQLITE_SCHEMA).
// * Searches use an in-memory copy of the graph, checked against PRAGMA data_version (other
//   connections) and a per-index token in a TEMP table (this connection's rollbacks).
//
// The parts: extension.cpp (attaching the module, intercepting statements), index_store.hpp
// (what is known of each index, in memory and in its tables), schema_sync.cpp (maintenance
// triggers, indexes of files opened or changed elsewhere), index_functions.cpp
// (libsql_vector_idx() and the function the triggers call), search.cpp (vector_top_k's search),
// index_ddl.cpp (CREATE INDEX and DROP, in a savepoint.hpp guard).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "vector/index_sql.hpp"
#include "vector/index_store.hpp"
#include "vector/nested_sql.hpp"

namespace ecto_libsql::vector {

// One search result: the key of a base-table row.
struct SearchHit {
  std::int64_t rowid = 0;
  std::shared_ptr<sqlite3_value> key;  // set for keys that are not integers
};

class Extension {
 public:
  explicit Extension(sqlite3* db);
  ~Extension();
  Extension(const Extension&) = delete;
  Extension& operator=(const Extension&) = delete;

  // Registers the functions and vector_top_k on `db`.
  static std::unique_ptr<Extension> attach(sqlite3* db);
  // Prepares the vector indexes the database holds (fills the index b-trees libSQL leaves
  // empty, installs the maintenance triggers). Runs before the connection's first statements
  // until the schema could be read; never throws.
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  void prepare_existing_indexes() noexcept;
  // Finalises the module's statements; call before closing the connection.
  void detach() noexcept;

  // Whether `stmt` is DDL that needs the vector-index path, and the statement wrapping it.
  [[nodiscard]] bool wants(const Statement& stmt) const;
  std::unique_ptr<Statement> wrap(std::shared_ptr<Statement> stmt);
  // Whether running `sql` (a write) may have to maintain a vector index.
  bool may_write_indexed_table(std::string_view sql);
  // Forgets what is known about the schema (after a rollback).
  void invalidate() noexcept { store_.invalidate(); }
  // After a statement failed because a vector index it writes to lacked this connection's
  // maintenance triggers (the index came from another connection): installs them and answers
  // true, so that the caller runs the statement again.
  bool retry_after_schema_change() noexcept;

  // --- used by the wrapping statement, the SQL functions and vector_top_k -------------------
  void create_index(const VectorIndexDefinition& def, Statement& inner);
  void drop(Statement& inner);
  std::vector<SearchHit> search(int argc, sqlite3_value** argv);
  void marker(sqlite3_context* ctx, sqlite3_value* column) noexcept;
  void maintain(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept;

 private:
  // Marks module DDL in progress: libsql_vector_idx() then answers at once.
  class DdlScope {
   public:
    explicit DdlScope(Extension& ext) noexcept : ext_(ext) { ++ext_.ddl_depth_; }
    ~DdlScope() { --ext_.ddl_depth_; }
    DdlScope(const DdlScope&) = delete;
    DdlScope& operator=(const DdlScope&) = delete;

   private:
    Extension& ext_;
  };

  // The SQL function the maintenance triggers call.
  static constexpr std::string_view kMaintainFunction = "__ecto_libsql_vector_update";

  // Maintenance triggers (schema_sync.cpp).
  void install_triggers(bool drop_stale);
  bool triggers_missing();
  std::vector<std::string> trigger_sql(const VectorIndex& ix,
                                       std::vector<std::string>& names) const;

  // DDL (index_ddl.cpp).
  std::string resolve_table_schema(const std::string& table);

  sqlite3* db_;
  NestedSql sql_;
  IndexStore store_;
  std::int64_t secret_;
  int ddl_depth_ = 0;
  bool ready_ = false;
  bool resync_pending_ = false;
};

}  // namespace ecto_libsql::vector
