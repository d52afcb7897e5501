// The vector indexes of one connection, in memory and in the database. The store owns
// * the catalogue: which vector indexes the attached schemas hold, on which table, column and
//   key, and whether it still matches the schemas (their schema cookies);
// * each index's graph, loaded from its shadow table and checked against PRAGMA data_version
//   (other connections) and the index's token (this connection's rollbacks);
// * the tables that persist them: libSQL's metadata table and shadow tables, and the TEMP table
//   of tokens that the maintenance triggers update.
// The rest of the module reads and changes index state only through it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vector/graph.hpp"
#include "vector/index_params.hpp"
#include "vector/index_sql.hpp"
#include "vector/nested_sql.hpp"
#include "vector/vector_value.hpp"

namespace ecto_libsql::vector {

// The key of the indexed table: the rowid, or the single primary-key column of a WITHOUT ROWID
// table.
struct KeyInfo {
  bool without_rowid = false;
  bool rowid_like = true;  // shadow rows are keyed by the key value itself
  std::string column;      // primary-key column of a WITHOUT ROWID table
  std::string affinity;    // " INTEGER", " TEXT", ... (libSQL's rendering)
  std::string collation;   // empty for BINARY

  // The key as an SQL expression on the indexed table: rowid, or the quoted column.
  [[nodiscard]] std::string expression() const;
};

// An index's graph in memory, and what it was loaded from.
struct GraphCache {
  IndexParams params;
  std::optional<Graph> graph;
  std::int64_t token = 0;  // the index's token the graph matches
  std::int64_t data_version = -1;
  bool valid = false;
};

// One vector index, as its schema defines it.
struct VectorIndex {
  std::string schema;
  std::string name;
  std::string table;
  std::string column;
  std::optional<std::string> marker_expr;  // the index expression, libsql_vector_idx(...)
  std::string where;                       // the condition of a partial index
  KeyInfo key;
  std::unique_ptr<GraphCache> cache;
};

class IndexStore {
 public:
  // The TEMP table of tokens: one row per index, (name = key(schema, name), token).
  static constexpr std::string_view kStateTable = "__ecto_libsql_vector_state";

  explicit IndexStore(NestedSql& sql) noexcept : sql_(sql) {}
  IndexStore(const IndexStore&) = delete;
  IndexStore& operator=(const IndexStore&) = delete;

  // The catalogue's key of an index: "schema\x1fname", lower-cased.
  static std::string key(std::string_view schema, std::string_view name);

  // --- the catalogue ------------------------------------------------------------------------
  // Whether the catalogue was read since the last invalidate() and every attached schema still
  // has the cookie it had then.
  bool in_sync();
  // Reads the catalogue from every attached schema. The graph of an index that still has the
  // same table and column is kept. Throws Error.
  void refresh();
  // Makes the next in_sync() answer false (after a rollback, or a failure part-way).
  void invalidate() noexcept { synced_ = false; }
  // Like invalidate(), and drops every graph (after module DDL was rolled back).
  void invalidate_all() noexcept;
  // After this connection changed a schema on purpose (its TEMP triggers): records the new
  // cookies, so that the catalogue stays in sync.
  void adopt_schema_cookies();
  // Forgets every index (the connection is closing).
  void clear() noexcept { indexes_.clear(); }

  VectorIndex* find(std::string_view schema, std::string_view name);
  // Every index, by key().
  [[nodiscard]] std::map<std::string, VectorIndex>& all() noexcept { return indexes_; }
  // Whether `sql` names a table that has a vector index (any word or quoted identifier of it),
  // as the catalogue last read it.
  [[nodiscard]] bool may_write_indexed_table(std::string_view sql) const;

  // --- libSQL's tables ------------------------------------------------------------------------
  // The quoted, schema-qualified name of the index's shadow table.
  [[nodiscard]] static std::string shadow(const VectorIndex& ix);
  // The parameters in the index's metadata row. Throws Error when there is none or it is bad.
  IndexParams read_params(const std::string& schema, const std::string& name);
  // The key of `table`. Throws Error (libSQL's message for composite keys).
  KeyInfo key_info(const std::string& schema, const std::string& table);
  // The schemas (of those attached) that hold libSQL's metadata table.
  std::vector<std::string> schemas_with_metadata();
  void create_metadata_table(const std::string& schema);
  // Creates the shadow table of index `name` and the index on it, as libSQL does.
  void create_shadow_table(const std::string& schema, const std::string& name, const KeyInfo& key);
  // Adds the index's metadata row. False when it had one (a dump being loaded brings it and the
  // shadow rows along).
  bool add_metadata(const std::string& schema, const std::string& name,
                    std::span<const std::uint8_t> metadata);
  // Removes the metadata and shadow tables of the indexes `schema` no longer has.
  void drop_orphans(const std::string& schema);

  // --- tokens --------------------------------------------------------------------------------
  // Creates the TEMP table of tokens; always asked, as a rollback may have removed it.
  void ensure_state_table();
  // Gives the index a row in the TEMP table if it has none.
  void add_state_row(const VectorIndex& ix);
  // The stored token of an index, 0 without one.
  std::int64_t stored_token(std::string_view schema, std::string_view name);

  // --- graphs ----------------------------------------------------------------------------------
  // The index's graph, (re)loaded from its shadow table unless the cached one is current.
  GraphCache& graph(VectorIndex& ix);
  // Builds the graph of a new index from the rows `def` selects, writes every node, and stores a
  // new token. `metadata` is the index's metadata blob.
  void build(VectorIndex& ix, const VectorIndexDefinition& def,
             std::span<const std::uint8_t> metadata);
  // `value` as a vector of the index, or Error with libSQL's message.
  static Vector index_vector(const IndexParams& params, sqlite3_value* value);
  // The shadow rowid (node id) of a base-table key: the key itself for integer keys; else the
  // rowid of the key's shadow row, created if `create`, 0 when there is none.
  std::int64_t shadow_rowid(VectorIndex& ix, sqlite3_value* key, bool create);
  // Deletes a shadow row that holds no node.
  void delete_shadow_row(VectorIndex& ix, std::int64_t id);
  // Whether the condition of a partial index selects the base-table row of `key`.
  bool selects(const VectorIndex& ix, sqlite3_value* key);
  // The base-table key of a node of an index with non-integer keys; null when it has none.
  // Throws std::bad_alloc when it cannot be copied.
  std::shared_ptr<sqlite3_value> base_key(const VectorIndex& ix, std::int64_t id);
  // Removes and/or inserts one node, writes the changed nodes to the shadow table and draws a
  // new token (the calling trigger stores it).
  void apply(VectorIndex& ix, GraphCache& cache, std::optional<std::int64_t> remove_id,
             std::optional<std::int64_t> insert_id, const Vector* value);

 private:
  std::int64_t schema_cookie(const std::string& schema);
  std::optional<std::int64_t> data_version(const std::string& schema);
  void store_token(const VectorIndex& ix, GraphCache& cache);
  void write_nodes(const VectorIndex& ix, GraphCache& cache, const std::vector<Graph::Id>& ids);

  NestedSql& sql_;
  bool synced_ = false;
  std::vector<std::pair<std::string, std::int64_t>> cookies_;
  std::map<std::string, VectorIndex> indexes_;  // by key()
  std::vector<std::string> indexed_tables_;     // lower-cased and sorted
};

}  // namespace ecto_libsql::vector
