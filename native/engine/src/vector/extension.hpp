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
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "vector/graph.hpp"
#include "vector/index_params.hpp"
#include "vector/index_sql.hpp"
#include "vector/nested_sql.hpp"

namespace ecto_libsql::vector {

// The key of the indexed table: the rowid, or the single primary-key column of a WITHOUT ROWID
// table.
struct KeyInfo {
  bool without_rowid = false;
  bool rowid_like = true;  // shadow rows are keyed by the key value itself
  std::string column;      // primary-key column of a WITHOUT ROWID table
  std::string affinity;    // " INTEGER", " TEXT", ... (libSQL's rendering)
  std::string collation;   // empty for BINARY
};

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
  void invalidate() noexcept { synced_ = false; }
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
  struct Cache;
  struct IndexState {
    std::string schema;
    std::string name;
    std::string table;
    std::string column;
    std::optional<std::string> marker_expr;  // the index expression, libsql_vector_idx(...)
    std::string where;                       // the condition of a partial index
    KeyInfo key;
    bool triggers = false;
    std::unique_ptr<Cache> cache;
  };
  class DdlScope;

  // Schema synchronisation.
  bool in_sync();
  void refresh();
  void install_triggers(bool drop_stale);
  bool triggers_missing();
  std::vector<std::string> trigger_sql(const IndexState& ix, std::vector<std::string>& names) const;
  std::int64_t schema_cookie(const std::string& schema);

  // Index data.
  IndexState* find(const std::string& schema, const std::string& name);
  IndexParams read_params(const std::string& schema, const std::string& name);
  KeyInfo key_info(const std::string& schema, const std::string& table);
  std::string shadow(const IndexState& ix) const;
  Cache& cache_of(IndexState& ix);
  std::int64_t stored_token(const std::string& key);
  void store_token(IndexState& ix, Cache& cache);
  void ensure_state_table();
  void write_nodes(IndexState& ix, Cache& cache, const std::vector<Graph::Id>& ids);
  void apply(IndexState& ix, Cache& cache, std::optional<std::int64_t> remove_id,
             std::optional<std::int64_t> insert_id, const Vector* value);
  Vector index_vector(const IndexParams& params, sqlite3_value* value) const;
  std::int64_t shadow_rowid(IndexState& ix, sqlite3_value* key, bool create);
  std::string resolve_table_schema(const std::string& table);

  sqlite3* db_;
  NestedSql sql_;
  std::int64_t secret_;
  int ddl_depth_ = 0;
  bool synced_ = false;
  bool ready_ = false;
  bool resync_pending_ = false;
  std::vector<std::pair<std::string, std::int64_t>> cookies_;
  std::map<std::string, IndexState> indexes_;  // by "schema\x1fname" (names lower-cased)
  std::uint64_t generation_ = 0;
  std::vector<std::string> indexed_tables_;  // lower-cased, for may_write_indexed_table()
};

}  // namespace ecto_libsql::vector
