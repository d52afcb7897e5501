// Statements the vector module runs on its own connection, possibly while a user statement is
// running (from SQL functions, triggers and virtual tables). Prepared once, cached by text.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql::vector {

// A cached statement in use: bound by the caller, reset (and its bindings cleared) on scope exit.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  Query& bind(int i, std::int64_t v);
  Query& bind_text(int i, std::string_view v);
  Query& bind_blob(int i, std::span<const std::uint8_t> v);
  Query& bind_value(int i, sqlite3_value* v);

  // Steps once: true on a row, false when done. Throws Error carrying SQLite's code on failure
  // (SQLITE_INTERRUPT when the progress handler stopped it).
  bool step();
  // Steps to the end.
  void run() {
    while (step()) {
    }
  }

  [[nodiscard]] sqlite3_stmt* get() const noexcept { return stmt_; }
  [[nodiscard]] std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] std::string_view text(int col) const;
  [[nodiscard]] std::span<const std::uint8_t> blob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class NestedSql {
 public:
  explicit NestedSql(sqlite3* db) noexcept : db_(db) {}
  NestedSql(const NestedSql&) = delete;
  NestedSql& operator=(const NestedSql&) = delete;
  ~NestedSql() { clear(); }

  // The cached statement for `sql`. Throws Error if it does not prepare.
  Query operator()(const std::string& sql);
  // Like operator(), but answers nullopt when the statement does not prepare (a missing table).
  std::optional<Query> try_prepare(const std::string& sql);
  // Runs SQL without caching (DDL, several statements). Throws Error.
  void exec(const std::string& sql);
  // Finalises every cached statement.
  void clear() noexcept;
  [[nodiscard]] sqlite3* db() const noexcept { return db_; }

 private:
  sqlite3_stmt* find_or_prepare(const std::string& sql, bool throw_on_error);

  sqlite3* db_;
  struct Finalize {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> cache_;
};

// Runs SQL without caching (DDL, several statements) on `db`. Throws Error with SQLite's
// extended code and message.
void exec_sql(sqlite3* db, const std::string& sql);

// SQL quoting helpers.
using sql::quote_identifier;
using sql::quote_string;

// Whether two SQL names are the same (ASCII case-insensitive, as SQLite compares them).
bool same_name(std::string_view a, std::string_view b) noexcept;
// The text of an argument of an SQL function, "" for NULL.
const char* text_arg(sqlite3_value* v) noexcept;

}  // namespace ecto_libsql::vector
