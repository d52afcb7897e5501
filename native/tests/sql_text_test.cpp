#include "ecto_libsql/sql_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace ecto_libsql::sql;

TEST(Classify, LeadingKeywords) {
  EXPECT_EQ(classify("SELECT 1").command, Command::Select);
  EXPECT_TRUE(classify("  select 1").returns_rows);
  EXPECT_EQ(classify("INSERT INTO t VALUES (1)").command, Command::Insert);
  EXPECT_FALSE(classify("INSERT INTO t VALUES (1)").returns_rows);
  EXPECT_EQ(classify("replace into t values (1)").command, Command::Insert);
  EXPECT_EQ(classify("UPDATE t SET a = 1").command, Command::Update);
  EXPECT_EQ(classify("DELETE FROM t").command, Command::Delete);
  EXPECT_EQ(classify("BEGIN IMMEDIATE").command, Command::Begin);
  EXPECT_TRUE(classify("BEGIN").is_transaction);
  EXPECT_EQ(classify("END").command, Command::Commit);
  EXPECT_EQ(classify("ROLLBACK TO sp").command, Command::Rollback);
  EXPECT_EQ(classify("CREATE TABLE t(a)").command, Command::Create);
  EXPECT_EQ(classify("DROP TABLE t").command, Command::Create);
  EXPECT_EQ(classify("ALTER TABLE t ADD b").command, Command::Create);
  EXPECT_EQ(classify("PRAGMA user_version").command, Command::Pragma);
  EXPECT_TRUE(classify("EXPLAIN QUERY PLAN SELECT 1").returns_rows);
  EXPECT_EQ(classify("VACUUM").command, Command::Unknown);
  EXPECT_TRUE(classify("").is_empty);
  EXPECT_TRUE(classify(" -- only a comment\n /* and another */ ;;").is_empty);
}

TEST(Classify, CommentsAndStringsDoNotMislead) {
  EXPECT_EQ(classify("-- SELECT\nINSERT INTO t VALUES ('RETURNING')").command, Command::Insert);
  EXPECT_FALSE(classify("INSERT INTO t VALUES ('x RETURNING y')").has_returning);
  EXPECT_FALSE(classify("INSERT INTO t VALUES (1) -- RETURNING id").has_returning);
  EXPECT_FALSE(classify("UPDATE t SET \"returning\" = 1").has_returning);
  EXPECT_FALSE(classify("DELETE FROM t /* returning */").has_returning);
  EXPECT_TRUE(classify("/* c */ INSERT INTO t VALUES (1) RETURNING id").has_returning);
  EXPECT_TRUE(classify("update t set a=1\nreturning\t*").returns_rows);
  // RETURNING inside a sub-expression is not the statement's RETURNING clause.
  EXPECT_FALSE(classify("INSERT INTO t SELECT (returning) FROM u").has_returning);
}

TEST(Classify, CommonTableExpressions) {
  EXPECT_EQ(classify("WITH x AS (SELECT 1) SELECT * FROM x").command, Command::Select);
  auto insert = classify("WITH x(a) AS (SELECT 1) INSERT INTO t SELECT a FROM x RETURNING a");
  EXPECT_EQ(insert.command, Command::Insert);
  EXPECT_TRUE(insert.has_returning);
  auto del = classify("WITH RECURSIVE x AS (SELECT 1 UNION SELECT 2) DELETE FROM t");
  EXPECT_EQ(del.command, Command::Delete);
  EXPECT_FALSE(del.returns_rows);
  EXPECT_EQ(classify("WITH x AS MATERIALIZED (SELECT 'delete') UPDATE t SET a = 1").command,
            Command::Update);
}

TEST(Split, SemicolonsOutsideStringsAndTriggers) {
  auto parts = split_statements("CREATE TABLE a(x); INSERT INTO a VALUES ('a;b');; SELECT 1");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "CREATE TABLE a(x)");
  EXPECT_EQ(parts[1], "INSERT INTO a VALUES ('a;b')");
  EXPECT_EQ(parts[2], "SELECT 1");
  auto trig = split_statements(
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); "
      "UPDATE c SET x = 2; END; SELECT 2;");
  ASSERT_EQ(trig.size(), 2u);
  EXPECT_EQ(trig[1], "SELECT 2");
  EXPECT_TRUE(split_statements("  ; -- nothing\n ;").empty());
  auto comment = split_statements("SELECT 1 -- ; not a split\n; SELECT '--'");
  ASSERT_EQ(comment.size(), 2u);
}

TEST(Parameters, NumberedLikeSqlite) {
  auto names = parameter_names("SELECT :a, ?, @b, :a, ?5, $c, ?");
  ASSERT_EQ(names.size(), 7u);
  EXPECT_EQ(names[0], ":a");
  EXPECT_EQ(names[1], "");
  EXPECT_EQ(names[2], "@b");
  EXPECT_EQ(names[4], "?5");
  EXPECT_EQ(names[5], "$c");
  EXPECT_EQ(names[6], "");
  EXPECT_TRUE(parameter_names("SELECT ':a', \"@b\" -- $c").empty());
}

// Found by fuzzing against sqlite3_bind_parameter_name(): ?NNN naming a slot a named parameter
// already holds does not rename it.
TEST(Parameters, NumberedSlotKeepsEarlierName) {
  auto names = parameter_names("SELECT :a, @b, $$c, ?3, ?");
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[2], "$$c");
  EXPECT_EQ(names[3], "");
  // SQLite reads "(...)" and "::" inside every named parameter, not only $-parameters.
  auto suffixed = parameter_names("SELECT @b(c), :x::y, @x");
  ASSERT_EQ(suffixed.size(), 3u);
  EXPECT_EQ(suffixed[0], "@b(c)");
  EXPECT_EQ(suffixed[1], ":x::y");
  EXPECT_EQ(suffixed[2], "@x");
  // Empty statements before the first one are skipped, as sqlite3_prepare() does.
  EXPECT_EQ(parameter_names("; ;-- c\n SELECT :a; SELECT :b"), std::vector<std::string>{":a"});
}

TEST(Lexer, UnterminatedTokensAreIllegalNotCrashes) {
  for (std::string_view sql : {"'abc", "\"abc", "[abc", "/* abc", "x'0", "$", "12abc", "`"}) {
    Lexer lexer(sql);
    Token token{};
    bool illegal_or_comment = false;
    while (lexer.next(token)) {
      if (token.kind == TokenKind::Illegal || token.kind == TokenKind::Comment)
        illegal_or_comment = true;
    }
    EXPECT_TRUE(illegal_or_comment) << sql;
  }
}

// As SQLite's tokenizer: a vertical tab continues whitespace but cannot start it.
TEST(Lexer, VerticalTabOnlyInsideWhitespace) {
  auto kinds = [](std::string_view sql) {
    std::vector<TokenKind> out;
    Lexer lexer(sql);
    Token token{};
    while (lexer.next(token))
      out.push_back(token.kind);
    return out;
  };
  EXPECT_EQ(kinds("a \v\vb"),
            (std::vector<TokenKind>{TokenKind::Word, TokenKind::Space, TokenKind::Word}));
  EXPECT_EQ(kinds("a\vb"),
            (std::vector<TokenKind>{TokenKind::Word, TokenKind::Illegal, TokenKind::Word}));
}

TEST(Savepoints, NamesAsWrittenAndAsSqliteComparesThem) {
  using Name = std::pair<std::string, std::string>;
  EXPECT_EQ(savepoint_name("SAVEPOINT a1"), (Name{"a1", "a1"}));
  EXPECT_EQ(savepoint_name("savepoint \"Outer\""), (Name{"\"Outer\"", "outer"}));
  EXPECT_EQ(savepoint_name("RELEASE SAVEPOINT `x``y`"), (Name{"`x``y`", "x`y"}));
  EXPECT_EQ(savepoint_name("RELEASE [My Point];"), (Name{"[My Point]", "my point"}));
  EXPECT_EQ(savepoint_name("ROLLBACK TRANSACTION TO SAVEPOINT 'q''s' -- note"),
            (Name{"'q''s'", "q's"}));
  EXPECT_EQ(savepoint_name("ROLLBACK TO /* c */ INNER"), (Name{"INNER", "inner"}));
  EXPECT_EQ(savepoint_name("RELEASE \"a\"\"b\""), (Name{"\"a\"\"b\"", "a\"b"}));
  EXPECT_EQ(savepoint_name(""), (Name{"", ""}));
}

TEST(Savepoints, RollbackToIsNotAPlainRollback) {
  EXPECT_TRUE(rolls_back_to_savepoint("ROLLBACK TO s"));
  EXPECT_TRUE(rolls_back_to_savepoint("rollback transaction to savepoint s"));
  EXPECT_TRUE(rolls_back_to_savepoint("ROLLBACK /* x */ TO s"));
  EXPECT_FALSE(rolls_back_to_savepoint("ROLLBACK"));
  EXPECT_FALSE(rolls_back_to_savepoint("ROLLBACK TRANSACTION"));
  EXPECT_FALSE(rolls_back_to_savepoint(""));
}
