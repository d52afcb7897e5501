// SQL text as users may send it, through the tokenizer, the statement classifier, the statement
// splitter and the parameter scanner. Besides not crashing, the results are checked against
// SQLite itself: every split statement but the last is complete by sqlite3_complete(), split pieces
// come from the input in order, and when SQLite prepares a statement its parameters are the ones we
// found.
#include <sqlite3.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ecto_libsql/sql_text.hpp"

namespace {

using namespace ecto_libsql;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

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
  return 0;
}
