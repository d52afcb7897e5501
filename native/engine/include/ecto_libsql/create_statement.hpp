// Reading CREATE statements without a database: the head of CREATE TABLE / VIRTUAL TABLE /
// INDEX / VIEW / TRIGGER, and a table's column list and options, with the tokenizer of
// sql_text.hpp and SQLite's grammar (parse.y: create_table, columnlist, carglist, conslist).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ecto_libsql::sql {

// A column constraint, or a table constraint.
enum class ClauseKind {
  PrimaryKey,
  Unique,
  Check,
  ForeignKey,  // REFERENCES (column) or FOREIGN KEY (table)
  NotNull,
  Null,
  Default,
  Collate,
  Generated,  // [GENERATED ALWAYS] AS (...)
};

struct Clause {
  ClauseKind kind;
  std::string name;                  // CONSTRAINT name, unquoted; empty when unnamed
  std::vector<std::string> columns;  // a table constraint's columns (PRIMARY KEY, UNIQUE,
                                     // FOREIGN KEY), unquoted
  std::string references;            // a foreign key's parent table, unquoted
  bool autoincrement = false;        // PRIMARY KEY ... AUTOINCREMENT
};

// One item of a CREATE TABLE statement's column list.
struct TableItem {
  bool is_column = false;  // a column definition; otherwise table constraints
  // From its first token to its last: comments between them are kept, comments and spaces
  // around it are not.
  std::string_view text;
  std::string name;             // a column's name, unquoted
  std::vector<Clause> clauses;  // a column's constraints, or the table constraint(s): SQLite
                                // accepts several without a comma between them
};

enum class ObjectKind { Table, VirtualTable, Index, View, Trigger };

// An option after a table's column list: STRICT, WITHOUT ROWID.
enum class TableOption { Strict, WithoutRowid };

// A CREATE statement as SQLite's grammar reads it. Offsets are bytes into the text parsed.
struct CreateStatement {
  ObjectKind kind = ObjectKind::Table;
  bool temporary = false;
  bool unique = false;  // CREATE UNIQUE INDEX
  bool if_not_exists = false;
  std::string schema;           // unquoted; empty when not given
  std::string name;             // unquoted
  std::size_t name_offset = 0;  // the name as written (after "schema.")
  std::size_t name_length = 0;
  // A table defined by a column list (not CREATE TABLE ... AS SELECT, not a virtual table):
  // the offsets of the list's parentheses, its items and the table options after it.
  std::optional<std::pair<std::size_t, std::size_t>> columns;
  std::vector<TableItem> items;
  std::vector<TableOption> options;  // as written
};

// Reads the first statement of `sql` when it is a CREATE TABLE, CREATE VIRTUAL TABLE, CREATE
// [UNIQUE] INDEX, CREATE VIEW or CREATE TRIGGER. Anything else, and text whose head, column list
// or table options are malformed (unterminated tokens, unbalanced parentheses, empty items), is
// nullopt, with the reason and its byte offset in `error` when given. Only the head, a table's
// column list and its options are read, never executed or validated further: SQLite remains the
// judge of the whole statement.
std::optional<CreateStatement> parse_create(std::string_view sql, std::string* error = nullptr);

}  // namespace ecto_libsql::sql
