// Reading SQL text without a database: tokens, statement boundaries, parameters and the kind of
// statement. The rules are SQLite's own (tokenize.c, complete.c), so keywords inside strings,
// quoted identifiers or comments never mislead them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ecto_libsql::sql {

enum class TokenKind {
  Space,
  Comment,
  Semicolon,
  Word,         // keyword or bare identifier
  QuotedIdent,  // "x", `x`, [x]
  String,       // 'x'
  Blob,         // x'00ff'
  Number,
  Variable,  // ?, ?NNN, :name, @name, $name, #name
  LParen,
  RParen,
  Operator,
  Illegal,  // unterminated string/identifier/comment, or a byte SQLite rejects
};

struct Token {
  TokenKind kind;
  std::string_view text;
};

class Lexer {
 public:
  explicit Lexer(std::string_view sql) noexcept : sql_(sql) {}
  // Reads the next token; false at the end of the text.
  bool next(Token& token) noexcept;
  [[nodiscard]] std::size_t offset() const noexcept { return pos_; }

 private:
  std::string_view sql_;
  std::size_t pos_ = 0;
};

// Case-insensitive comparison of an ASCII keyword.
bool keyword_equals(std::string_view word, std::string_view keyword) noexcept;

// The name a Word, QuotedIdent or String token stands for: quotes removed, a doubled closing
// quote read as one ([...] has no escape). Other text is answered as it is.
std::string unquote(std::string_view token_text);

// An identifier or a string literal quoted for SQL, an inner quote doubled: "na""me", 'te''xt'.
std::string quote_identifier(std::string_view name);
std::string quote_string(std::string_view text);

// What a statement is, as `EctoLibSql.Native.detect_command/1` reports it.
enum class Command {
  Select,
  Insert,
  Update,
  Delete,
  Begin,
  Commit,
  Rollback,
  Create,  // CREATE, DROP, ALTER
  Pragma,
  Savepoint,
  Release,
  Unknown,
};

struct Classification {
  Command command = Command::Unknown;
  bool returns_rows = false;    // SELECT, VALUES, EXPLAIN, PRAGMA, or a RETURNING clause
  bool has_returning = false;   // a RETURNING clause at the top level of a DML statement
  bool is_transaction = false;  // BEGIN, COMMIT/END, ROLLBACK, SAVEPOINT, RELEASE
  bool is_empty = true;         // only whitespace, comments and semicolons
};

// Classifies the first statement of `sql`. `WITH ... INSERT` is an insert, `WITH ... SELECT`
// a select: common table expressions are skipped to find the main statement.
Classification classify(std::string_view sql) noexcept;

// Splits text into complete statements (each without its trailing semicolon, trimmed of
// surrounding whitespace), following sqlite3_complete() so that a CREATE TRIGGER body with its
// inner semicolons stays one statement. Empty statements are dropped.
std::vector<std::string_view> split_statements(std::string_view sql);

// True for `ROLLBACK [TRANSACTION] TO [SAVEPOINT] name`, false for a plain ROLLBACK.
bool rolls_back_to_savepoint(std::string_view sql) noexcept;

// The savepoint a SAVEPOINT, RELEASE or ROLLBACK TO statement names: {the name as written
// (quoted if it was), the name SQLite compares (unquoted, ASCII letters folded to lower case)}.
std::pair<std::string, std::string> savepoint_name(std::string_view sql);

// The parameters of one statement as SQLite numbers them: element i describes parameter i+1.
// Names keep their prefix (":id"); anonymous `?` parameters have an empty name. `?NNN` takes
// index NNN; a name seen again reuses its first index.
std::vector<std::string> parameter_names(std::string_view sql);

}  // namespace ecto_libsql::sql
