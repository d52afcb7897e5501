#include "core/foreign_keys.hpp"

#include <algorithm>
#include <utility>

#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql {
namespace {

bool keyword(const sql::Token& token, std::string_view word) {
  return token.kind == sql::TokenKind::Word && sql::keyword_equals(token.text, word);
}

bool is_name(const sql::Token& token) {
  return token.kind == sql::TokenKind::Word || token.kind == sql::TokenKind::QuotedIdent;
}

// The items of the outermost parenthesis: column definitions and table constraints.
std::vector<std::vector<sql::Token>> items_of(std::string_view create_table_sql) {
  std::vector<std::vector<sql::Token>> items;
  sql::Lexer lexer(create_table_sql);
  sql::Token token{};
  int depth = 0;
  while (lexer.next(token)) {
    if (token.kind == sql::TokenKind::Space || token.kind == sql::TokenKind::Comment) continue;
    if (token.kind == sql::TokenKind::LParen) {
      if (depth++ == 0) {
        items.emplace_back();
        continue;
      }
    } else if (token.kind == sql::TokenKind::RParen) {
      if (--depth == 0) break;
    } else if (depth == 1 && token.kind == sql::TokenKind::Operator && token.text == ",") {
      items.emplace_back();
      continue;
    }
    if (depth >= 1) items.back().push_back(token);
  }
  return items;
}

// REFERENCES parent at `at`: the parent's name, or empty.
std::string referenced_table(const std::vector<sql::Token>& item, std::size_t at) {
  if (at + 1 >= item.size() || !keyword(item[at], "REFERENCES") || !is_name(item[at + 1])) {
    return {};
  }
  return sql::unquote(item[at + 1].text);
}

bool same_names(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const std::string& x, const std::string& y) {
           return sql::keyword_equals(x, y);
         });
}

}  // namespace

std::vector<BrokenForeignKey> named_foreign_keys(std::string_view create_table_sql) {
  std::vector<BrokenForeignKey> keys;
  for (const auto& item : items_of(create_table_sql)) {
    if (item.empty()) continue;
    if (keyword(item[0], "CONSTRAINT") || keyword(item[0], "FOREIGN") ||
        keyword(item[0], "PRIMARY") || keyword(item[0], "UNIQUE") || keyword(item[0], "CHECK")) {
      // CONSTRAINT name FOREIGN KEY (columns) REFERENCES parent
      if (item.size() < 4 || !keyword(item[0], "CONSTRAINT") || !keyword(item[2], "FOREIGN")) {
        continue;
      }
      BrokenForeignKey key;
      key.name = sql::unquote(item[1].text);
      std::size_t i = 3;
      if (i < item.size() && keyword(item[i], "KEY")) ++i;
      if (i >= item.size() || item[i].kind != sql::TokenKind::LParen) continue;
      for (++i; i < item.size() && item[i].kind != sql::TokenKind::RParen; ++i) {
        if (is_name(item[i])) key.columns.push_back(sql::unquote(item[i].text));
      }
      key.parent = referenced_table(item, i + 1);
      if (!key.parent.empty() && !key.columns.empty()) keys.push_back(std::move(key));
      continue;
    }
    // column type constraints...: CONSTRAINT name REFERENCES parent
    for (std::size_t i = 1; i + 2 < item.size(); ++i) {
      if (!keyword(item[i], "CONSTRAINT")) continue;
      std::string parent = referenced_table(item, i + 2);
      if (!parent.empty()) {
        keys.push_back(BrokenForeignKey{
            {}, {sql::unquote(item[0].text)}, std::move(parent), sql::unquote(item[i + 1].text)});
      }
    }
  }
  return keys;
}

void name_foreign_key(BrokenForeignKey& key, std::string_view create_table_sql) {
  for (auto& written : named_foreign_keys(create_table_sql)) {
    if (sql::keyword_equals(written.parent, key.parent) &&
        same_names(written.columns, key.columns)) {
      key.name = std::move(written.name);
      return;
    }
  }
  // Ecto's default name for a reference.
  key.name =
      key.table + "_" + (key.columns.empty() ? std::string() : key.columns.front()) + "_fkey";
}

Error foreign_key_error(const Error& error, const BrokenForeignKey& key) {
  std::string message = error.message() + ": ";
  for (std::size_t i = 0; i < key.columns.size(); ++i) {
    if (i > 0) message += ", ";
    message += key.table + "." + key.columns[i];
  }
  message += " (foreign key: " + key.name + ")";
  return {error.code(), std::move(message), error.remote_code(),
          Constraint{ConstraintKind::ForeignKey, key.name}};
}

}  // namespace ecto_libsql
