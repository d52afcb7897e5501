// parse_create(): the head of a CREATE statement and a table's column list and options, read with
// the tokenizer of sql_text.cpp, following SQLite's grammar (parse.y: create_table, columnlist,
// carglist, conslist, table_option_set).
#include "ecto_libsql/create_statement.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql::sql {
namespace {

// What an illegal token is: the start of an unterminated string, quoted name or blob, or a byte
// SQLite rejects.
std::string illegal(const Token& token) {
  switch (token.text.front()) {
    case '\'':
      return "an unterminated string";
    case '"':
    case '`':
    case '[':
      return "an unterminated quoted name";
    default:
      break;
  }
  if (token.text.size() > 1 && (token.text[0] == 'x' || token.text[0] == 'X') &&
      token.text[1] == '\'') {
    return "a malformed blob literal";
  }
  return "a token SQLite rejects";
}

class Parser {
 public:
  explicit Parser(std::string_view sql) : sql_(sql) {}

  std::optional<CreateStatement> statement() {
    if (!read_tokens()) return std::nullopt;
    CreateStatement out;
    if (!word("CREATE")) return fail("not a CREATE statement");
    if (word("TEMP") || word("TEMPORARY")) out.temporary = true;
    if (word("UNIQUE")) {
      out.unique = true;
      if (!word("INDEX")) return expected("INDEX after CREATE UNIQUE");
      out.kind = ObjectKind::Index;
    } else if (word("VIRTUAL")) {
      if (!word("TABLE")) return expected("TABLE after CREATE VIRTUAL");
      out.kind = ObjectKind::VirtualTable;
    } else if (word("TABLE")) {
      out.kind = ObjectKind::Table;
    } else if (word("INDEX")) {
      out.kind = ObjectKind::Index;
    } else if (word("VIEW")) {
      out.kind = ObjectKind::View;
    } else if (word("TRIGGER")) {
      out.kind = ObjectKind::Trigger;
    } else {
      return fail("not a CREATE TABLE, VIRTUAL TABLE, INDEX, VIEW or TRIGGER statement");
    }
    if (at_word(i_, "IF") && at_word(i_ + 1, "NOT") && at_word(i_ + 2, "EXISTS")) {
      out.if_not_exists = true;
      i_ += 3;
    }
    if (!is_name(i_)) return expected("a name");
    if (is_dot(i_ + 1)) {
      out.schema = unquote(t_[i_].text);
      i_ += 2;
      if (!is_name(i_)) return expected("a name after the schema's");
    }
    out.name = unquote(t_[i_].text);
    out.name_offset = offset(t_[i_]);
    out.name_length = t_[i_].text.size();
    ++i_;
    if (out.kind != ObjectKind::Table || at_word(i_, "AS")) return out;
    if (i_ >= t_.size() || t_[i_].kind != TokenKind::LParen) {
      return expected("a column list or AS after the table's name");
    }
    const std::size_t open = i_;
    const std::size_t close = closing(open);
    if (close >= t_.size()) return fail("the column list's parenthesis is not closed", open);
    out.columns = std::make_pair(offset(t_[open]), offset(t_[close]));
    for (const auto& [begin, end] : split(open + 1, close)) {
      auto next = item(begin, end);
      if (!next) return std::nullopt;
      out.items.push_back(std::move(*next));
    }
    i_ = close + 1;
    if (!options(out.options)) return std::nullopt;
    return out;
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  // The statement's tokens without spaces and comments, up to its end; false when one is illegal.
  bool read_tokens() {
    Lexer lexer(sql_);
    Token token{};
    while (lexer.next(token)) {
      if (token.kind == TokenKind::Space || token.kind == TokenKind::Comment) continue;
      if (token.kind == TokenKind::Semicolon) break;
      if (token.kind == TokenKind::Illegal) {
        error_ = illegal(token) + at(offset(token));
        return false;
      }
      t_.push_back(token);
    }
    return true;
  }

  // Where a token starts, for an error message.
  [[nodiscard]] static std::string at(std::size_t offset) {
    return " at byte " + std::to_string(offset);
  }

  // The statement is malformed at token `i` (at the end of the text when past it).
  std::nullopt_t fail(std::string_view what, std::size_t i) {
    error_ = std::string(what) + (i < t_.size() ? at(offset(t_[i])) : " at the end of the text");
    return std::nullopt;
  }
  std::nullopt_t fail(std::string_view what) { return fail(what, i_); }
  std::nullopt_t expected(std::string_view what) { return expected_at(what, i_); }
  std::nullopt_t expected_at(std::string_view what, std::size_t i) {
    return fail("expected " + std::string(what), i);
  }

  // After the column list: table options separated by commas (STRICT, WITHOUT ROWID).
  bool options(std::vector<TableOption>& out) {
    while (i_ < t_.size()) {
      if (!out.empty()) {
        if (!is_comma(i_)) {
          fail("expected a comma between table options");
          return false;
        }
        ++i_;
      }
      if (word("STRICT")) {
        out.push_back(TableOption::Strict);
      } else if (at_word(i_, "WITHOUT") && at_word(i_ + 1, "ROWID")) {
        out.push_back(TableOption::WithoutRowid);
        i_ += 2;
      } else {
        fail("expected STRICT or WITHOUT ROWID after the column list");
        return false;
      }
    }
    return true;
  }

  [[nodiscard]] std::size_t offset(const Token& token) const {
    return static_cast<std::size_t>(token.text.data() - sql_.data());
  }
  [[nodiscard]] bool at_word(std::size_t i, std::string_view keyword) const {
    return i < t_.size() && t_[i].kind == TokenKind::Word && keyword_equals(t_[i].text, keyword);
  }
  bool word(std::string_view keyword) {
    if (!at_word(i_, keyword)) return false;
    ++i_;
    return true;
  }
  // A name: a bare word, a quoted identifier or a string (SQLite takes 'x' as a name here).
  [[nodiscard]] bool is_name(std::size_t i) const {
    return i < t_.size() &&
           (t_[i].kind == TokenKind::Word || t_[i].kind == TokenKind::QuotedIdent ||
            t_[i].kind == TokenKind::String);
  }
  [[nodiscard]] bool is_dot(std::size_t i) const {
    return i < t_.size() && t_[i].kind == TokenKind::Operator && t_[i].text == ".";
  }
  [[nodiscard]] bool is_comma(std::size_t i) const {
    return i < t_.size() && t_[i].kind == TokenKind::Operator && t_[i].text == ",";
  }

  // The index of the parenthesis closing the one at `open`, or t_.size().
  [[nodiscard]] std::size_t closing(std::size_t open) const {
    std::size_t depth = 0;
    for (std::size_t i = open; i < t_.size(); ++i) {
      if (t_[i].kind == TokenKind::LParen) ++depth;
      if (t_[i].kind == TokenKind::RParen && --depth == 0) return i;
    }
    return t_.size();
  }

  // Token ranges [begin, end) between the commas outside parentheses.
  [[nodiscard]] std::vector<std::pair<std::size_t, std::size_t>> split(std::size_t begin,
                                                                       std::size_t end) const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t depth = 0;
    std::size_t start = begin;
    for (std::size_t i = begin; i < end; ++i) {
      if (t_[i].kind == TokenKind::LParen) ++depth;
      if (t_[i].kind == TokenKind::RParen) --depth;
      if (depth == 0 && is_comma(i)) {
        out.emplace_back(start, i);
        start = i + 1;
      }
    }
    out.emplace_back(start, end);
    return out;
  }

  // The names in the parentheses at `open` (a table constraint's columns, each possibly with
  // COLLATE and ASC/DESC), and the index after the closing one.
  std::size_t names(std::size_t open, std::size_t end, std::vector<std::string>& out) const {
    const std::size_t close = std::min(closing(open), end);
    for (const auto& [b, e] : split(open + 1, close)) {
      if (b < e && is_name(b)) out.push_back(unquote(t_[b].text));
    }
    return close + 1;
  }

  // After REFERENCES: the parent table, its columns and the actions (parse.y: refargs,
  // defer_subclause).
  std::size_t references(std::size_t i, std::size_t end, Clause& clause) const {
    if (i < end && is_name(i)) clause.references = unquote(t_[i++].text);
    if (i < end && t_[i].kind == TokenKind::LParen) i = std::min(closing(i), end) + 1;
    while (i < end) {
      if (at_word(i, "ON") && i + 1 < end) {
        // ON DELETE|UPDATE SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION
        i += 2;
        if (at_word(i, "SET") || at_word(i, "NO")) ++i;
        ++i;
      } else if (at_word(i, "MATCH") || (at_word(i, "NOT") && at_word(i + 1, "DEFERRABLE"))) {
        i += 2;  // MATCH name, NOT DEFERRABLE
      } else if (at_word(i, "DEFERRABLE")) {
        ++i;
        if (at_word(i, "INITIALLY")) i += 2;
      } else {
        break;
      }
    }
    return i;
  }

  // A column's constraints (after its name and type) or a table constraint, tokens [i, end).
  void clauses(std::size_t i, std::size_t end, bool table, std::vector<Clause>& out) const {
    std::string name;
    auto add = [&](ClauseKind kind) -> Clause& {
      out.push_back(Clause{kind, std::move(name), {}, {}, false});
      name.clear();
      return out.back();
    };
    while (i < end) {
      const Token& token = t_[i];
      if (token.kind == TokenKind::LParen) {
        i = std::min(closing(i), end) + 1;  // a type's size, CHECK (...), AS (...)
        continue;
      }
      if (token.kind != TokenKind::Word) {
        ++i;
        continue;
      }
      const std::string_view w = token.text;
      ++i;
      if (keyword_equals(w, "CONSTRAINT")) {
        if (i < end && is_name(i)) name = unquote(t_[i++].text);
      } else if (keyword_equals(w, "PRIMARY") || keyword_equals(w, "UNIQUE")) {
        Clause& clause =
            add(keyword_equals(w, "PRIMARY") ? ClauseKind::PrimaryKey : ClauseKind::Unique);
        if (clause.kind == ClauseKind::PrimaryKey && at_word(i, "KEY")) ++i;
        if (table && i < end && t_[i].kind == TokenKind::LParen) i = names(i, end, clause.columns);
      } else if (keyword_equals(w, "AUTOINCREMENT")) {
        for (auto it = out.rbegin(); it != out.rend(); ++it) {
          if (it->kind == ClauseKind::PrimaryKey) {
            it->autoincrement = true;
            break;
          }
        }
      } else if (keyword_equals(w, "CHECK")) {
        add(ClauseKind::Check);
      } else if (keyword_equals(w, "FOREIGN")) {
        Clause& clause = add(ClauseKind::ForeignKey);
        if (at_word(i, "KEY")) ++i;
        if (i < end && t_[i].kind == TokenKind::LParen) i = names(i, end, clause.columns);
        if (at_word(i, "REFERENCES")) i = references(i + 1, end, clause);
      } else if (keyword_equals(w, "REFERENCES")) {
        i = references(i, end, add(ClauseKind::ForeignKey));
      } else if (keyword_equals(w, "NOT") && at_word(i, "NULL")) {
        add(ClauseKind::NotNull);
        ++i;
      } else if (keyword_equals(w, "NULL")) {
        add(ClauseKind::Null);
      } else if (keyword_equals(w, "DEFAULT")) {
        add(ClauseKind::Default);
        // DEFAULT [+|-] literal-or-name, or DEFAULT (expression): the value is skipped, so that
        // DEFAULT NULL is no NULL constraint.
        if (i < end && t_[i].kind == TokenKind::Operator &&
            (t_[i].text == "+" || t_[i].text == "-")) {
          ++i;
        }
        if (i < end && t_[i].kind != TokenKind::LParen) ++i;
      } else if (keyword_equals(w, "COLLATE")) {
        add(ClauseKind::Collate);
        if (i < end) ++i;
      } else if (keyword_equals(w, "AS") ||
                 (keyword_equals(w, "GENERATED") && (at_word(i, "ALWAYS") || at_word(i, "AS")))) {
        // (GENERATED is also a name SQLite accepts in a type.)
        add(ClauseKind::Generated);
        if (at_word(i, "ALWAYS")) ++i;
        if (at_word(i, "AS")) ++i;
      }
      // Anything else is a type name's word, ASC/DESC, ON CONFLICT ..., STORED/VIRTUAL.
    }
  }

  // An item: a column definition (a name first) or table constraints; nullopt when empty or
  // neither.
  std::optional<TableItem> item(std::size_t begin, std::size_t end) {
    // An empty item lies before the comma or the closing parenthesis at `end`.
    if (begin == end) return fail("an empty item in the column list", end);
    TableItem out;
    const Token& first = t_[begin];
    const Token& last = t_[end - 1];
    out.text = sql_.substr(offset(first), offset(last) + last.text.size() - offset(first));
    // CONSTRAINT, PRIMARY, UNIQUE, CHECK and FOREIGN are keywords SQLite never takes as a bare
    // column name: an item starting with one is a table constraint.
    const bool table =
        first.kind == TokenKind::Word &&
        (keyword_equals(first.text, "CONSTRAINT") || keyword_equals(first.text, "PRIMARY") ||
         keyword_equals(first.text, "UNIQUE") || keyword_equals(first.text, "CHECK") ||
         keyword_equals(first.text, "FOREIGN"));
    if (table) {
      clauses(begin, end, true, out.clauses);
      if (out.clauses.empty()) return expected_at("a table constraint after its name", begin);
      return out;
    }
    if (!is_name(begin)) return expected_at("a column name or a table constraint", begin);
    out.is_column = true;
    out.name = unquote(first.text);
    clauses(begin + 1, end, false, out.clauses);
    return out;
  }

  std::string_view sql_;
  std::vector<Token> t_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace

std::optional<CreateStatement> parse_create(std::string_view sql, std::string* error) {
  Parser parser(sql);
  auto create = parser.statement();
  if (!create && error != nullptr) *error = parser.error();
  return create;
}

}  // namespace ecto_libsql::sql
