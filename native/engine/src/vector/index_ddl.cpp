// Vector-index DDL, run by the wrapping statement (ddl_statement.hpp) in a savepoint: CREATE
// INDEX ... libsql_vector_idx() creates libSQL's tables and builds the graph; DROP INDEX and
// DROP TABLE remove the tables of the indexes they dropped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "vector/extension.hpp"
#include "vector/index_params.hpp"
#include "vector/savepoint.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr std::string_view kSavepoint = "__ecto_libsql_vector_ddl";

void run_to_end(Statement& stmt) {
  while (stmt.step(nullptr) == Step::Row) {
  }
}

}  // namespace

std::string Extension::resolve_table_schema(const std::string& table) {
  Query q = sql_(
      "SELECT schema FROM pragma_table_list WHERE name = ?1 COLLATE NOCASE "
      "ORDER BY schema <> 'temp', schema <> 'main'");
  q.bind_text(1, table);
  return q.step() ? std::string(q.text(0)) : "main";
}

void Extension::create_index(const VectorIndexDefinition& def, Statement& inner) {
  const DdlScope scope(*this);
  const std::string schema = def.schema.empty() ? resolve_table_schema(def.table) : def.schema;
  Savepoint savepoint(db_, kSavepoint);
  try {
    bool exists = false;
    {
      Query q = sql_("SELECT 1 FROM " + quote_identifier(schema) +
                     ".sqlite_schema WHERE type = 'index' AND name = ?1 COLLATE NOCASE");
      q.bind_text(1, def.name);
      exists = q.step();
    }
    if (def.if_not_exists && exists) {
      run_to_end(inner);
    } else {
      if (def.error) throw Error(kCodeError, *def.error);
      const char* decl = nullptr;
      int primary = 0;
      const int rc =
          sqlite3_table_column_metadata(db_, schema.c_str(), def.table.c_str(), def.column.c_str(),
                                        &decl, nullptr, nullptr, &primary, nullptr);
      const KeyInfo key = store_.key_info(schema, def.table);
      bool rowid_alias = false;
      if (rc == SQLITE_OK && primary != 0 && !key.without_rowid && decl != nullptr &&
          same_name(decl, "INTEGER")) {
        Query q = sql_("SELECT count(*) FROM pragma_table_info(?2, ?1) WHERE pk > 0");
        q.bind_text(1, schema).bind_text(2, def.table);
        rowid_alias = q.step() && q.int64(0) == 1;
      }
      if ((rc != SQLITE_OK && def.column_may_be_rowid && !key.without_rowid) || rowid_alias) {
        throw Error(kCodeError,
                    "vector index: libsql_vector_idx first argument must be column "
                    "with vector type");
      }
      if (rc != SQLITE_OK) {
        throw Error(kCodeError,
                    "vector index: libsql_vector_idx first argument must be a column token");
      }
      const ColumnType column = parse_column_type(decl != nullptr ? decl : "");
      store_.create_metadata_table(schema);
      const std::vector<std::uint8_t> metadata = build_metadata(column, def.options);
      // key_info() already refused composite keys, with libSQL's message.
      run_to_end(inner);
      store_.create_shadow_table(schema, def.name, key);
      // An existing metadata row means the shadow table came with the data (a dump being
      // loaded): the graph is there already.
      const bool build = store_.add_metadata(schema, def.name, metadata);
      store_.refresh();
      VectorIndex* ix = store_.find(schema, def.name);
      if (ix == nullptr) throw Error(kCodeError, "vector index: index not found after creation");
      ix->cache.reset();
      store_.ensure_state_table();
      if (build) store_.build(*ix, def, metadata);
      install_triggers(false);
    }
    savepoint.release();
  } catch (...) {
    // What the store read may be rolled back (the savepoint rolls back when this rethrows).
    store_.invalidate_all();
    throw;
  }
}

void Extension::drop(Statement& inner) {
  const DdlScope scope(*this);
  const std::vector<std::string> schemas = store_.schemas_with_metadata();
  if (schemas.empty()) {
    run_to_end(inner);
    return;
  }
  {
    Savepoint savepoint(db_, kSavepoint);
    try {
      run_to_end(inner);
      for (const std::string& schema : schemas)
        store_.drop_orphans(schema);
      savepoint.release();
    } catch (...) {
      store_.invalidate();
      throw;
    }
  }
  try {
    store_.refresh();
    install_triggers(true);
  } catch (...) {
    store_.invalidate();
  }
}

}  // namespace ecto_libsql::vector
