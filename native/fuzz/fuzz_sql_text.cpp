// SQL text as users may send it, through the tokenizer, the statement classifier, the statement
// splitter, the parameter scanner and the CREATE statement reader. Besides not crashing, the
// results are checked against SQLite itself: every split statement but the last is complete by
// sqlite3_complete(), split pieces come from the input in order, when SQLite prepares a statement
// its parameters are the ones we found, and when it creates a table, index, view or trigger the
// CREATE statement is read, with the table's columns as the items.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/create_statement.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "invariant.hpp"

namespace {

using namespace ecto_libsql;
using fuzz::check;

sqlite3* database() {
  static sqlite3* db = [] {
    sqlite3* handle = nullptr;
    sqlite3_open_v2(":memory:", &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    sqlite3_exec(handle, "CREATE TABLE t(a, b, c)", nullptr, nullptr, nullptr);
    return handle;
  }();
  return db;
}

// Parameters as SQLite numbers them, for text SQLite prepares as exactly one statement.
bool sqlite_parameters(std::string_view sql, std::vector<std::string>& names) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(database(), sql.data(), static_cast<int>(sql.size()), &stmt, &tail) !=
          SQLITE_OK ||
      stmt == nullptr) {
    sqlite3_finalize(stmt);
    return false;
  }
  const bool whole = tail == sql.data() + sql.size();
  const int count = sqlite3_bind_parameter_count(stmt);
  names.clear();
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    names.emplace_back(name != nullptr ? name : "");
  }
  sqlite3_finalize(stmt);
  return whole;
}

// Whether the text holds a variable with a "(...)" suffix ("$a(x)"): SQLite's tokenizer reads the
// suffix up to ")" or whitespace as part of the variable, so it may hold a quote or a semicolon.
// sqlite3_complete() does not know this rule, so completeness is not comparable for such text.
bool has_variable_suffix(std::string_view sql) {
  auto id_char = [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80;
  };
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c != '$' && c != '@' && c != ':' && c != '#') continue;
    std::size_t j = i + 1;
    std::size_t n = 0;
    while (j < sql.size()) {
      const auto d = static_cast<unsigned char>(sql[j]);
      if (id_char(d)) {
        ++n;
        ++j;
      } else if (d == ':' && j + 1 < sql.size() && sql[j + 1] == ':') {
        j += 2;
      } else {
        break;
      }
    }
    if (n > 0 && j < sql.size() && sql[j] == '(') return true;
  }
  return false;
}

// The schema objects SQLite creates from the first statement of `sql` (undone at once), and a
// new table's columns (`table` names it). Empty when it creates nothing.
struct Created {
  std::vector<std::string> names;
  std::vector<std::string> columns;
};

Created sqlite_creates(std::string_view sql, const std::string& table) {
  Created created;
  sqlite3* db = database();
  if (sqlite3_exec(db, "SAVEPOINT fuzz", nullptr, nullptr, nullptr) != SQLITE_OK) return created;
  sqlite3_stmt* stmt = nullptr;
  bool done = false;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) ==
          SQLITE_OK &&
      stmt != nullptr) {
    done = sqlite3_step(stmt) == SQLITE_DONE;
  }
  sqlite3_finalize(stmt);
  // The schema holds table t only (database()); SQLite's own objects (sqlite_autoindex_...,
  // sqlite_sequence) come with the statement's.
  const char* const objects =
      "SELECT name FROM sqlite_schema WHERE name <> 't' UNION ALL "
      "SELECT name FROM sqlite_temp_schema";
  if (done && sqlite3_prepare_v2(db, objects, -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      created.names.emplace_back(name != nullptr ? name : "");
    }
    sqlite3_finalize(stmt);
  }
  if (!created.names.empty() &&
      sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_xinfo(?1) ORDER BY cid", -1, &stmt,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      created.columns.emplace_back(name != nullptr ? name : "");
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_exec(db, "ROLLBACK TO fuzz; RELEASE fuzz", nullptr, nullptr, nullptr);
  return created;
}

// Whether the first token of `sql` is CREATE.
bool starts_with_create(std::string_view sql) {
  sql::Lexer lexer(sql);
  sql::Token token{};
  while (lexer.next(token)) {
    if (token.kind == sql::TokenKind::Space || token.kind == sql::TokenKind::Comment) continue;
    return token.kind == sql::TokenKind::Word && sql::keyword_equals(token.text, "CREATE");
  }
  return false;
}

void check_create(std::string_view sql) {
  std::string error;
  const auto create = sql::parse_create(sql, &error);
  check(create.has_value() == error.empty(), "a statement not read has a reason");
  if (create) {
    check(create->name_offset + create->name_length <= sql.size(), "the name lies in the text");
    check(create->items.empty() || create->columns, "items come from a column list");
    check(create->options.empty() || create->columns, "options follow a column list");
  }
  if (create && create->columns) {
    const auto [open, close] = *create->columns;
    check(open < close && close < sql.size() && sql[open] == '(' && sql[close] == ')',
          "the column list is parenthesised");
    check(create->name_offset + create->name_length <= open, "the name comes before the list");
    check(!create->items.empty(), "a column list has items");
    const char* previous_end = sql.data() + open + 1;
    for (const sql::TableItem& item : create->items) {
      check(!item.text.empty() && item.text.data() >= previous_end &&
                item.text.data() + item.text.size() <= sql.data() + close,
            "items lie in the list, in order");
      previous_end = item.text.data() + item.text.size();
      check(item.is_column || !item.clauses.empty(), "a table constraint has a kind");
    }
  }
  if (sql.find('\0') != std::string_view::npos || !starts_with_create(sql)) return;
  const Created created = sqlite_creates(sql, create ? create->name : std::string());
  if (created.names.empty()) return;
  check(create.has_value(), "what SQLite creates is read");
  check(std::find(created.names.begin(), created.names.end(), create->name) != created.names.end(),
        "the name is SQLite's");
  if (!create->columns) return;
  std::vector<std::string> columns;
  for (const sql::TableItem& item : create->items) {
    if (item.is_column) columns.push_back(item.name);
  }
  check(columns == created.columns, "columns match the table SQLite creates");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);  // NUL-terminated copy
  const std::string_view sql(text);

  sql::Lexer lexer(sql);
  sql::Token token{};
  std::size_t consumed = 0;
  while (lexer.next(token)) {
    check(!token.text.empty(), "tokens are never empty");
    check(token.text.data() == sql.data() + consumed, "tokens are contiguous");
    consumed += token.text.size();
  }
  check(consumed == sql.size(), "tokens cover the text");

  const sql::Classification c = sql::classify(sql);
  check(!c.has_returning || c.returns_rows, "RETURNING implies rows");
  check(!c.is_empty || c.command == sql::Command::Unknown, "empty text has no command");

  const char* previous_end = sql.data();
  const std::vector<std::string_view> statements = sql::split_statements(sql);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const std::string_view statement = statements[i];
    check(!statement.empty(), "split statements are not empty");
    check(statement.data() >= previous_end &&
              statement.data() + statement.size() <= sql.data() + sql.size(),
          "split statements lie in the text, in order");
    previous_end = statement.data() + statement.size();
    // All but the last were ended by a semicolon; the last may be an unfinished remainder.
    if (i + 1 < statements.size() && statement.find('\0') == std::string_view::npos &&
        !has_variable_suffix(statement)) {
      const std::string terminated = std::string(statement) + "\n;";
      check(sqlite3_complete(terminated.c_str()) != 0, "split statements are complete");
    }
  }

  if (sql.find('\0') == std::string_view::npos) {
    std::vector<std::string> expected;
    if (sqlite_parameters(sql, expected)) {
      check(sql::parameter_names(sql) == expected, "parameters match SQLite's");
    }
  }
  check_create(sql);
  return 0;
}
