#include "ecto_libsql/sql_text.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace ecto_libsql::sql {
namespace {

bool is_space(unsigned char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool is_digit(unsigned char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex(unsigned char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// SQLite's identifier characters: ASCII letters, digits, '_', '$' and every byte >= 0x80.
bool is_id_char(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '$' ||
         c >= 0x80;
}
bool is_id_start(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
unsigned char lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

}  // namespace

bool keyword_equals(std::string_view word, std::string_view keyword) noexcept {
  if (word.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(static_cast<unsigned char>(word[i])) != lower(static_cast<unsigned char>(keyword[i])))
      return false;
  }
  return true;
}

std::string unquote(std::string_view token_text) {
  const std::string_view name = token_text;
  const bool quoted = name.size() >= 2 && (name.front() == '"' || name.front() == '`' ||
                                           name.front() == '\'' || name.front() == '[');
  if (!quoted) return std::string(name);
  const char close = name.front() == '[' ? ']' : name.front();
  const std::string_view body = name.substr(1, name.size() - 2);
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    out += body[i];
    if (close != ']' && body[i] == close && i + 1 < body.size() && body[i + 1] == close) ++i;
  }
  return out;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string quote_string(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool Lexer::next(Token& token) noexcept {
  const std::size_t n = sql_.size();
  if (pos_ >= n) return false;
  const std::size_t start = pos_;
  auto at = [&](std::size_t i) -> unsigned char {
    return i < n ? static_cast<unsigned char>(sql_[i]) : 0;
  };
  auto finish = [&](TokenKind kind) {
    token = Token{kind, sql_.substr(start, pos_ - start)};
    return true;
  };
  const unsigned char c = at(pos_);

  if (is_space(c)) {
    // A run of whitespace also takes vertical tabs after its first character, which alone is
    // illegal (tokenize.c: CC_SPACE, then sqlite3Isspace()).
    while (pos_ < n && (is_space(at(pos_)) || at(pos_) == '\v'))
      ++pos_;
    return finish(TokenKind::Space);
  }
  if (c == '-' && at(pos_ + 1) == '-') {
    while (pos_ < n && at(pos_) != '\n')
      ++pos_;
    return finish(TokenKind::Comment);
  }
  if (c == '/' && at(pos_ + 1) == '*') {
    pos_ += 2;
    while (pos_ < n && !(at(pos_) == '*' && at(pos_ + 1) == '/'))
      ++pos_;
    // An unterminated block comment runs to the end of the text, as in SQLite.
    pos_ = std::min(n, pos_ + 2);
    return finish(TokenKind::Comment);
  }
  if (c == ';') {
    ++pos_;
    return finish(TokenKind::Semicolon);
  }
  if (c == '(') {
    ++pos_;
    return finish(TokenKind::LParen);
  }
  if (c == ')') {
    ++pos_;
    return finish(TokenKind::RParen);
  }
  if (c == '\'' || c == '"' || c == '`') {
    ++pos_;
    while (pos_ < n) {
      if (at(pos_) == c) {
        if (at(pos_ + 1) == c) {
          pos_ += 2;
          continue;
        }
        ++pos_;
        return finish(c == '\'' ? TokenKind::String : TokenKind::QuotedIdent);
      }
      ++pos_;
    }
    return finish(TokenKind::Illegal);
  }
  if (c == '[') {
    while (pos_ < n && at(pos_) != ']')
      ++pos_;
    if (pos_ >= n) return finish(TokenKind::Illegal);
    ++pos_;
    return finish(TokenKind::QuotedIdent);
  }
  if ((c == 'x' || c == 'X') && at(pos_ + 1) == '\'') {
    pos_ += 2;
    while (pos_ < n && is_hex(at(pos_)))
      ++pos_;
    if (at(pos_) != '\'' || ((pos_ - start - 2) % 2) != 0) {
      while (pos_ < n && at(pos_) != '\'')
        ++pos_;
      if (pos_ < n) ++pos_;
      return finish(TokenKind::Illegal);
    }
    ++pos_;
    return finish(TokenKind::Blob);
  }
  if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) {
    if (c == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X') && is_hex(at(pos_ + 2))) {
      pos_ += 2;
      while (is_hex(at(pos_)))
        ++pos_;
    } else {
      while (is_digit(at(pos_)))
        ++pos_;
      if (at(pos_) == '.') {
        ++pos_;
        while (is_digit(at(pos_)))
          ++pos_;
      }
      if ((at(pos_) == 'e' || at(pos_) == 'E') &&
          (is_digit(at(pos_ + 1)) ||
           ((at(pos_ + 1) == '+' || at(pos_ + 1) == '-') && is_digit(at(pos_ + 2))))) {
        pos_ += 2;
        while (is_digit(at(pos_)))
          ++pos_;
      }
    }
    // SQLite rejects a number immediately followed by identifier characters ("12abc").
    if (is_id_char(at(pos_))) {
      while (is_id_char(at(pos_)))
        ++pos_;
      return finish(TokenKind::Illegal);
    }
    return finish(TokenKind::Number);
  }
  if (c == '?') {
    ++pos_;
    while (is_digit(at(pos_)))
      ++pos_;
    return finish(TokenKind::Variable);
  }
  if (c == ':' || c == '@' || c == '#' || c == '$') {
    ++pos_;
    std::size_t chars = 0;
    while (pos_ < n) {
      const unsigned char d = at(pos_);
      if (is_id_char(d)) {
        ++pos_;
        ++chars;
      } else if (d == ':' && at(pos_ + 1) == ':') {
        pos_ += 2;  // TCL namespace separator
      } else if (d == '(' && chars > 0) {
        while (pos_ < n && at(pos_) != ')' && !is_space(at(pos_)))
          ++pos_;
        if (at(pos_) != ')') return finish(TokenKind::Illegal);
        ++pos_;
        break;
      } else {
        break;
      }
    }
    return finish(chars == 0 ? TokenKind::Illegal : TokenKind::Variable);
  }
  if (is_id_start(c)) {
    while (pos_ < n && is_id_char(at(pos_)))
      ++pos_;
    return finish(TokenKind::Word);
  }
  // Operators: the two-character ones first.
  static constexpr std::string_view kTwo[] = {"||", "<=", ">=", "==", "!=", "<>", "<<", ">>", "->"};
  if (c == '-' && at(pos_ + 1) == '>' && at(pos_ + 2) == '>') {
    pos_ += 3;
    return finish(TokenKind::Operator);
  }
  for (std::string_view op : kTwo) {
    if (sql_.substr(pos_, 2) == op) {
      pos_ += 2;
      return finish(TokenKind::Operator);
    }
  }
  static constexpr std::string_view kOne = "+-*/%<>=~&|,.!";
  ++pos_;
  return finish(kOne.find(static_cast<char>(c)) != std::string_view::npos && c != '!'
                    ? TokenKind::Operator
                    : TokenKind::Illegal);
}

namespace {

bool is_trivia(TokenKind kind) noexcept {
  return kind == TokenKind::Space || kind == TokenKind::Comment;
}

// Reads significant tokens (skipping whitespace and comments) of the first statement.
class Significant {
 public:
  explicit Significant(std::string_view sql) noexcept : lexer_(sql) {}
  bool next(Token& token) noexcept {
    while (lexer_.next(token)) {
      if (!is_trivia(token.kind)) return true;
    }
    return false;
  }

 private:
  Lexer lexer_;
};

Command command_of(std::string_view word) noexcept {
  struct Entry {
    std::string_view keyword;
    Command command;
  };
  static constexpr Entry kTable[] = {
      {"select", Command::Select},     {"values", Command::Select},
      {"explain", Command::Select},    {"insert", Command::Insert},
      {"replace", Command::Insert},    {"update", Command::Update},
      {"delete", Command::Delete},     {"begin", Command::Begin},
      {"commit", Command::Commit},     {"end", Command::Commit},
      {"rollback", Command::Rollback}, {"create", Command::Create},
      {"drop", Command::Create},       {"alter", Command::Create},
      {"pragma", Command::Pragma},     {"savepoint", Command::Savepoint},
      {"release", Command::Release},
  };
  for (const Entry& e : kTable) {
    if (keyword_equals(word, e.keyword)) return e.command;
  }
  return Command::Unknown;
}

}  // namespace

Classification classify(std::string_view sql) noexcept {
  Classification result;
  Significant tokens(sql);
  Token token{};
  // Skip leading semicolons of empty statements.
  do {
    if (!tokens.next(token)) return result;
  } while (token.kind == TokenKind::Semicolon);
  result.is_empty = false;

  // A leading WITH: skip "[RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...)" lists up to
  // the main statement keyword.
  bool saw_with = false;
  if (token.kind == TokenKind::Word && keyword_equals(token.text, "with")) {
    saw_with = true;
    int depth = 0;
    bool found = false;
    while (tokens.next(token)) {
      if (token.kind == TokenKind::LParen) {
        ++depth;
      } else if (token.kind == TokenKind::RParen) {
        if (depth > 0) --depth;
      } else if (depth == 0 && token.kind == TokenKind::Word) {
        const Command c = command_of(token.text);
        if (c == Command::Select || c == Command::Insert || c == Command::Update ||
            c == Command::Delete) {
          found = true;
          break;
        }
      } else if (depth == 0 && token.kind == TokenKind::Semicolon) {
        break;
      }
    }
    if (!found) {
      result.command = Command::Select;
      result.returns_rows = true;
      return result;
    }
  }
  if (token.kind != TokenKind::Word) return result;
  result.command = command_of(token.text);
  switch (result.command) {
    case Command::Select:
    case Command::Pragma:
      result.returns_rows = true;
      break;
    case Command::Begin:
    case Command::Commit:
    case Command::Rollback:
    case Command::Savepoint:
    case Command::Release:
      result.is_transaction = !saw_with;
      break;
    case Command::Insert:
    case Command::Update:
    case Command::Delete: {
      int depth = 0;
      while (tokens.next(token)) {
        if (token.kind == TokenKind::LParen) {
          ++depth;
        } else if (token.kind == TokenKind::RParen) {
          if (depth > 0) --depth;
        } else if (token.kind == TokenKind::Semicolon && depth == 0) {
          break;
        } else if (depth == 0 && token.kind == TokenKind::Word &&
                   keyword_equals(token.text, "returning")) {
          result.has_returning = true;
          result.returns_rows = true;
          break;
        }
      }
      break;
    }
    default:
      break;
  }
  return result;
}

namespace {

// The token classes of sqlite3_complete()'s state machine (complete.c).
enum CompleteToken { tkSEMI, tkWS, tkOTHER, tkEXPLAIN, tkCREATE, tkTEMP, tkTRIGGER, tkEND };

CompleteToken complete_class(const Token& token) noexcept {
  switch (token.kind) {
    case TokenKind::Semicolon:
      return tkSEMI;
    case TokenKind::Space:
    case TokenKind::Comment:
      return tkWS;
    case TokenKind::Word:
      if (keyword_equals(token.text, "create")) return tkCREATE;
      if (keyword_equals(token.text, "trigger")) return tkTRIGGER;
      if (keyword_equals(token.text, "temp") || keyword_equals(token.text, "temporary"))
        return tkTEMP;
      if (keyword_equals(token.text, "end")) return tkEND;
      if (keyword_equals(token.text, "explain")) return tkEXPLAIN;
      return tkOTHER;
    default:
      return tkOTHER;
  }
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool only_trivia(std::string_view s) noexcept {
  Lexer lexer(s);
  Token token{};
  while (lexer.next(token)) {
    if (!is_trivia(token.kind)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string_view> split_statements(std::string_view sql) {
  // Transition table from complete.c: states 0..7; state 1 = "start of statement" after ';'.
  static constexpr unsigned char kTrans[8][8] = {
      /* 0 INVALID: */ {1, 0, 2, 3, 4, 2, 2, 2},
      /* 1   START: */ {1, 1, 2, 3, 4, 2, 2, 2},
      /* 2  NORMAL: */ {1, 2, 2, 2, 2, 2, 2, 2},
      /* 3 EXPLAIN: */ {1, 3, 3, 2, 4, 2, 2, 2},
      /* 4  CREATE: */ {1, 4, 2, 2, 2, 4, 5, 2},
      /* 5 TRIGGER: */ {6, 5, 5, 5, 5, 5, 5, 5},
      /* 6    SEMI: */ {6, 6, 5, 5, 5, 5, 5, 7},
      /* 7     END: */ {1, 7, 5, 5, 5, 5, 5, 5},
  };
  std::vector<std::string_view> out;
  Lexer lexer(sql);
  Token token{};
  unsigned state = 0;
  std::size_t begin = 0;
  while (lexer.next(token)) {
    state = kTrans[state][complete_class(token)];
    if (state == 1 && token.kind == TokenKind::Semicolon) {
      const std::size_t end = lexer.offset() - 1;
      std::string_view stmt = trim(sql.substr(begin, end - begin));
      if (!stmt.empty() && !only_trivia(stmt)) out.push_back(stmt);
      begin = lexer.offset();
    }
  }
  std::string_view rest = trim(sql.substr(begin));
  if (!rest.empty() && !only_trivia(rest)) out.push_back(rest);
  return out;
}

std::vector<std::string> parameter_names(std::string_view sql) {
  std::vector<std::string> names;
  std::map<std::string, std::size_t, std::less<>> seen;
  Lexer lexer(sql);
  Token token{};
  std::size_t max_index = 0;
  auto ensure = [&](std::size_t index) {
    if (names.size() < index) names.resize(index);
  };
  bool in_statement = false;  // leading semicolons are empty statements SQLite skips
  while (lexer.next(token)) {
    if (token.kind == TokenKind::Semicolon) {
      if (in_statement) break;
      continue;
    }
    if (token.kind != TokenKind::Space && token.kind != TokenKind::Comment) in_statement = true;
    if (token.kind != TokenKind::Variable) continue;
    std::string_view text = token.text;
    if (text[0] == '?') {
      if (text.size() == 1) {
        ensure(++max_index);
        continue;
      }
      std::size_t index = 0;
      auto [ptr, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), index);
      if (ec != std::errc() || index == 0 || index > 250000) continue;
      max_index = std::max(max_index, index);
      ensure(index);
      // As SQLite does, a slot a named parameter already took keeps that name.
      if (names[index - 1].empty()) names[index - 1] = std::string(text);
      continue;
    }
    if (auto it = seen.find(text); it != seen.end()) continue;
    const std::size_t index = ++max_index;
    ensure(index);
    names[index - 1] = std::string(text);
    seen.emplace(std::string(text), index);
  }
  return names;
}

bool rolls_back_to_savepoint(std::string_view sql) noexcept {
  Lexer lexer(sql);
  Token token{};
  int words = 0;
  while (lexer.next(token)) {
    if (token.kind != TokenKind::Word) continue;
    if (++words == 1) continue;  // ROLLBACK
    if (keyword_equals(token.text, "TRANSACTION")) continue;
    return keyword_equals(token.text, "TO");
  }
  return false;
}

std::pair<std::string, std::string> savepoint_name(std::string_view sql) {
  Lexer lexer(sql);
  Token token{};
  std::string_view name;
  while (lexer.next(token)) {
    if (token.kind == TokenKind::Semicolon) break;
    if (token.kind == TokenKind::Word || token.kind == TokenKind::QuotedIdent ||
        token.kind == TokenKind::String) {
      name = token.text;
    }
  }
  std::string folded = unquote(name);
  for (char& c : folded)
    c = static_cast<char>(lower(static_cast<unsigned char>(c)));
  return {std::string(name), folded};
}

}  // namespace ecto_libsql::sql
