// The name of a broken foreign key, as Ecto names it, for every mode: SQLite answers only
// "FOREIGN KEY constraint failed", and Ecto's foreign_key_constraint/3 needs the key's name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql {

// A foreign key a statement broke.
struct BrokenForeignKey {
  std::string table;                 // the child table
  std::vector<std::string> columns;  // its columns in the key
  std::string parent;                // the parent table
  std::string name;                  // CONSTRAINT name, or Ecto's "<table>_<column>_fkey"
};

// Names `key` (its table, columns and parent known): the name written as `CONSTRAINT name` for
// the same columns and parent in its table's CREATE TABLE text, else Ecto's default
// "<table>_<first column>_fkey". Names and columns compare as SQLite compares them (ASCII case
// folded).
void name_foreign_key(BrokenForeignKey& key, std::string_view create_table_sql);

// The error for a statement that broke `key`: SQLite's message `error` with
// ": comments.post_id (foreign key: comments_post_id_fkey)" appended, and the key as its
// constraint.
[[nodiscard]] Error foreign_key_error(const Error& error, const BrokenForeignKey& key);

// The foreign key constraints written with a name in a CREATE TABLE statement: name, child
// columns and parent table of each, in the order written. Exposed for tests.
[[nodiscard]] std::vector<BrokenForeignKey> named_foreign_keys(std::string_view create_table_sql);

}  // namespace ecto_libsql
