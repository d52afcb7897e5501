// Reading vector-index DDL with SQLite's tokenizer: `CREATE INDEX ... libsql_vector_idx(...)`,
// `DROP INDEX` and `DROP TABLE`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecto_libsql::vector {

// A CREATE INDEX whose expression list uses libsql_vector_idx() at the top level.
struct VectorIndexDefinition {
  bool if_not_exists = false;
  std::string schema;  // empty when not given
  std::string name;
  std::string table;
  std::string column;                // the first argument, unquoted
  std::vector<std::string> options;  // the other arguments, unquoted
  std::string where;                 // the condition of a partial index, or empty
  // libSQL's error for a malformed use of libsql_vector_idx(), checked before the database is
  // consulted (collation, expression count, arguments).
  std::optional<std::string> error;
  // The first argument names the rowid (rowid, oid, _rowid_): an error unless the table has a
  // real column of that name.
  bool column_may_be_rowid = false;
};

// Answers the definition when `sql` is such a CREATE INDEX statement, nullopt otherwise.
std::optional<VectorIndexDefinition> parse_vector_index(std::string_view sql);

// True when `sql` is a DROP INDEX or DROP TABLE statement.
bool is_drop_statement(std::string_view sql);

// The column a libsql_vector_idx() index expression names, from the index's stored SQL.
std::optional<std::string> vector_index_column(std::string_view create_index_sql);

}  // namespace ecto_libsql::vector
