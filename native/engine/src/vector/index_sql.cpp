#include "vector/index_sql.hpp"

#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql::vector {
namespace {

using sql::Token;
using sql::TokenKind;

constexpr std::string_view kMarker = "libsql_vector_idx";

// The statement's tokens without spaces and comments, up to its end.
std::vector<Token> tokens_of(std::string_view text) {
  std::vector<Token> out;
  sql::Lexer lexer(text);
  Token t{};
  while (lexer.next(t)) {
    if (t.kind == TokenKind::Space || t.kind == TokenKind::Comment) continue;
    if (t.kind == TokenKind::Semicolon) break;
    out.push_back(t);
  }
  return out;
}

bool is_word(const Token& t, std::string_view keyword) {
  return t.kind == TokenKind::Word && sql::keyword_equals(t.text, keyword);
}

bool is_name(const Token& t) {
  return t.kind == TokenKind::Word || t.kind == TokenKind::QuotedIdent ||
         t.kind == TokenKind::String;
}

// The value of an identifier or string token without its quotes.
std::string unquote(const Token& t) {
  return sql::unquote(t.text);
}

// Splits tokens [begin, end) at the commas outside parentheses.
std::vector<std::pair<std::size_t, std::size_t>> split_top(const std::vector<Token>& t,
                                                           std::size_t begin, std::size_t end) {
  std::vector<std::pair<std::size_t, std::size_t>> items;
  int depth = 0;
  std::size_t start = begin;
  for (std::size_t i = begin; i < end; ++i) {
    if (t[i].kind == TokenKind::LParen) ++depth;
    if (t[i].kind == TokenKind::RParen) --depth;
    if (depth == 0 && t[i].kind == TokenKind::Operator && t[i].text == ",") {
      items.emplace_back(start, i);
      start = i + 1;
    }
  }
  if (start < end || !items.empty()) items.emplace_back(start, end);
  return items;
}

// Index of the parenthesis closing the one at `open`, or t.size().
std::size_t closing(const std::vector<Token>& t, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < t.size(); ++i) {
    if (t[i].kind == TokenKind::LParen) ++depth;
    if (t[i].kind == TokenKind::RParen && --depth == 0) return i;
  }
  return t.size();
}

bool is_rowid_name(std::string_view name) {
  return sql::keyword_equals(name, "rowid") || sql::keyword_equals(name, "oid") ||
         sql::keyword_equals(name, "_rowid_");
}

}  // namespace

std::optional<VectorIndexDefinition> parse_vector_index(std::string_view text) {
  const std::vector<Token> t = tokens_of(text);
  std::size_t i = 0;
  if (t.size() < 6 || !is_word(t[i++], "CREATE")) return std::nullopt;
  if (i < t.size() && is_word(t[i], "UNIQUE")) ++i;
  if (i >= t.size() || !is_word(t[i++], "INDEX")) return std::nullopt;
  VectorIndexDefinition def;
  if (i + 2 < t.size() && is_word(t[i], "IF") && is_word(t[i + 1], "NOT") &&
      is_word(t[i + 2], "EXISTS")) {
    def.if_not_exists = true;
    i += 3;
  }
  if (i >= t.size() || !is_name(t[i])) return std::nullopt;
  def.name = unquote(t[i++]);
  if (i + 1 < t.size() && t[i].kind == TokenKind::Operator && t[i].text == ".") {
    def.schema = def.name;
    if (!is_name(t[i + 1])) return std::nullopt;
    def.name = unquote(t[i + 1]);
    i += 2;
  }
  if (i >= t.size() || !is_word(t[i++], "ON")) return std::nullopt;
  if (i >= t.size() || !is_name(t[i])) return std::nullopt;
  def.table = unquote(t[i++]);
  if (i >= t.size() || t[i].kind != TokenKind::LParen) return std::nullopt;
  const std::size_t open = i;
  const std::size_t close = closing(t, open);
  if (close >= t.size()) return std::nullopt;
  if (close + 2 < t.size() && is_word(t[close + 1], "WHERE")) {
    const char* from = t[close + 2].text.data();
    const char* to = t.back().text.data() + t.back().text.size();
    def.where.assign(from, static_cast<std::size_t>(to - from));
  }

  bool collation = false;
  std::optional<std::pair<std::size_t, std::size_t>> call;  // the marker's parentheses
  const auto items = split_top(t, open + 1, close);
  for (const auto& [b, e] : items) {
    for (std::size_t k = b; k < e; ++k) {
      if (is_word(t[k], "COLLATE")) collation = true;
    }
    // `libsql_vector_idx ( ... )`, optionally followed by COLLATE and a sort order.
    if (e - b >= 3 && is_name(t[b]) && t[b].kind != TokenKind::String &&
        sql::keyword_equals(unquote(t[b]), kMarker) && t[b + 1].kind == TokenKind::LParen) {
      const std::size_t end = closing(t, b + 1);
      bool tail_ok = end < e;
      for (std::size_t k = end + 1; tail_ok && k < e; ++k) {
        const bool collate_name = k > end + 1 && is_word(t[k - 1], "COLLATE");
        tail_ok = is_word(t[k], "COLLATE") || is_word(t[k], "ASC") || is_word(t[k], "DESC") ||
                  collate_name;
      }
      if (tail_ok && !call) call = std::make_pair(b + 1, end);
    }
  }
  if (!call) return std::nullopt;
  if (collation) {
    def.error = "vector index: collation in expression is forbidden";
    return def;
  }
  if (items.size() != 1) {
    def.error = "vector index: must contain exactly one column wrapped into the " +
                std::string(kMarker) + " function";
    return def;
  }
  const auto args = split_top(t, call->first + 1, call->second);
  if (args.empty()) {
    def.error = "vector idnex: " + std::string(kMarker) + " must contain at least one argument";
    return def;
  }
  const auto [ab, ae] = args.front();
  std::size_t name_at = ab;
  if (ae - ab == 3 && is_name(t[ab]) && t[ab + 1].text == "." && is_name(t[ab + 2]))
    name_at = ab + 2;
  if (!((ae - ab == 1 || name_at == ab + 2) && t[name_at].kind != TokenKind::String &&
        is_name(t[name_at]))) {
    def.error = "vector index: " + std::string(kMarker) + " first argument must be a column token";
    return def;
  }
  def.column = unquote(t[name_at]);
  def.column_may_be_rowid = is_rowid_name(def.column);
  for (std::size_t a = 1; a < args.size(); ++a) {
    const auto [b, e] = args[a];
    if (e - b != 1 || t[b].kind != TokenKind::String) {
      def.options.clear();
      def.error = "vector index: all arguments after first must be strings";
      return def;
    }
    def.options.push_back(unquote(t[b]));
  }
  return def;
}

bool is_drop_statement(std::string_view text) {
  sql::Lexer lexer(text);
  Token t{};
  int seen = 0;
  while (lexer.next(t)) {
    if (t.kind == TokenKind::Space || t.kind == TokenKind::Comment) continue;
    if (seen == 0) {
      if (!is_word(t, "DROP")) return false;
      seen = 1;
      continue;
    }
    return is_word(t, "INDEX") || is_word(t, "TABLE");
  }
  return false;
}

std::optional<std::string> vector_index_column(std::string_view create_index_sql) {
  auto def = parse_vector_index(create_index_sql);
  if (!def || def->error) return std::nullopt;
  return def->column;
}

}  // namespace ecto_libsql::vector
