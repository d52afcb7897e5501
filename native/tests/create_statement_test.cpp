// sql::parse_create(): the head of CREATE statements and the items of a table's column list,
// with comments, quoted names and nested parentheses, checked against SQLite itself.
#include "ecto_libsql/create_statement.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecto_libsql/sql_text.hpp"

using namespace ecto_libsql::sql;

namespace {

std::vector<ClauseKind> kinds(const TableItem& item) {
  std::vector<ClauseKind> out;
  for (const Clause& clause : item.clauses)
    out.push_back(clause.kind);
  return out;
}

std::string_view head(std::string_view sql, const CreateStatement& create) {
  return sql.substr(0, create.columns->first);
}

std::string_view tail(std::string_view sql, const CreateStatement& create) {
  return sql.substr(create.columns->second + 1);
}

std::string_view name_as_written(std::string_view sql, const CreateStatement& create) {
  return sql.substr(create.name_offset, create.name_length);
}

}  // namespace

TEST(Unquote, EveryQuoteSqliteKnows) {
  EXPECT_EQ(unquote("plain"), "plain");
  EXPECT_EQ(unquote("\"a\"\"b\""), "a\"b");
  EXPECT_EQ(unquote("\"x\"\"\""), "x\"");
  EXPECT_EQ(unquote("`a``b`"), "a`b");
  EXPECT_EQ(unquote("[a \"b\"]"), "a \"b\"");
  EXPECT_EQ(unquote("'it''s'"), "it's");
  EXPECT_EQ(unquote("\"\""), "");
  EXPECT_EQ(unquote(""), "");
  EXPECT_EQ(unquote("\""), "\"");
}

TEST(CreateTable, HeadItemsAndTail) {
  const std::string_view sql = "CREATE TABLE x (a, b CHECK (a > 0), PRIMARY KEY (a)) STRICT";
  const auto create = parse_create(sql);
  ASSERT_TRUE(create);
  EXPECT_EQ(create->kind, ObjectKind::Table);
  EXPECT_EQ(create->name, "x");
  EXPECT_EQ(name_as_written(sql, *create), "x");
  ASSERT_TRUE(create->columns);
  EXPECT_EQ(head(sql, *create), "CREATE TABLE x ");
  EXPECT_EQ(tail(sql, *create), " STRICT");
  EXPECT_EQ(create->options, std::vector<TableOption>{TableOption::Strict});
  ASSERT_EQ(create->items.size(), 3u);
  EXPECT_EQ(create->items[0].text, "a");
  EXPECT_TRUE(create->items[0].is_column);
  EXPECT_EQ(create->items[0].name, "a");
  EXPECT_TRUE(create->items[0].clauses.empty());
  EXPECT_EQ(create->items[1].text, "b CHECK (a > 0)");
  EXPECT_EQ(kinds(create->items[1]), std::vector<ClauseKind>{ClauseKind::Check});
  EXPECT_EQ(create->items[2].text, "PRIMARY KEY (a)");
  EXPECT_FALSE(create->items[2].is_column);
  ASSERT_EQ(create->items[2].clauses.size(), 1u);
  EXPECT_EQ(create->items[2].clauses[0].kind, ClauseKind::PrimaryKey);
  EXPECT_EQ(create->items[2].clauses[0].columns, std::vector<std::string>{"a"});
  EXPECT_EQ(create->items[2].clauses[0].name, "");
}

TEST(CreateTable, CommentsNeverSplitOrEndAnItem) {
  const std::string_view sql =
      "CREATE TABLE /* the (table */ t ( -- columns, (\n"
      "  a INTEGER /* a, b) */ PRIMARY KEY, -- the key, ( \n"
      "  b TEXT DEFAULT 'x, (y' CHECK (b <> ')' AND (length(b) > 0)), /* c, */\n"
      "  CONSTRAINT \"c,k\" UNIQUE (a, \"b\") -- end )\n"
      ") -- after";
  const auto create = parse_create(sql);
  ASSERT_TRUE(create);
  EXPECT_EQ(create->name, "t");
  EXPECT_EQ(head(sql, *create), "CREATE TABLE /* the (table */ t ");
  EXPECT_EQ(tail(sql, *create), " -- after");
  EXPECT_TRUE(create->options.empty());
  ASSERT_EQ(create->items.size(), 3u);
  EXPECT_EQ(create->items[0].text, "a INTEGER /* a, b) */ PRIMARY KEY");
  EXPECT_EQ(kinds(create->items[0]), std::vector<ClauseKind>{ClauseKind::PrimaryKey});
  EXPECT_EQ(create->items[1].text, "b TEXT DEFAULT 'x, (y' CHECK (b <> ')' AND (length(b) > 0))");
  EXPECT_EQ(kinds(create->items[1]),
            (std::vector<ClauseKind>{ClauseKind::Default, ClauseKind::Check}));
  EXPECT_EQ(create->items[2].text, "CONSTRAINT \"c,k\" UNIQUE (a, \"b\")");
  ASSERT_EQ(create->items[2].clauses.size(), 1u);
  EXPECT_EQ(create->items[2].clauses[0].kind, ClauseKind::Unique);
  EXPECT_EQ(create->items[2].clauses[0].name, "c,k");
  EXPECT_EQ(create->items[2].clauses[0].columns, (std::vector<std::string>{"a", "b"}));
}

TEST(CreateTable, QuotedAndOddNames) {
  const std::string_view sql =
      "CREATE TABLE \"x\"\"\" (\"a\"\"\" INT, `b``c` TEXT, [d \"e\"] BLOB, 'f' REAL, "
      "\"PRIMARY\" INT, primary_key INT, \"é, ü\" TEXT, "
      "CONSTRAINT [k)] PRIMARY KEY (\"a\"\"\", `b``c`))";
  const auto create = parse_create(sql);
  ASSERT_TRUE(create);
  EXPECT_EQ(create->name, "x\"");
  EXPECT_EQ(name_as_written(sql, *create), "\"x\"\"\"");
  ASSERT_EQ(create->items.size(), 8u);
  const std::vector<std::string> names = {"a\"",     "b`c",         "d \"e\"", "f",
                                          "PRIMARY", "primary_key", "é, ü"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(create->items[i].is_column) << i;
    EXPECT_EQ(create->items[i].name, names[i]);
    EXPECT_TRUE(create->items[i].clauses.empty()) << i;
  }
  const Clause& key = create->items[7].clauses.at(0);
  EXPECT_EQ(key.kind, ClauseKind::PrimaryKey);
  EXPECT_EQ(key.name, "k)");
  EXPECT_EQ(key.columns, (std::vector<std::string>{"a\"", "b`c"}));
}

TEST(CreateTable, ColumnConstraints) {
  const auto create = parse_create(
      "CREATE TABLE t ("
      "id INTEGER CONSTRAINT pk PRIMARY KEY DESC ON CONFLICT REPLACE AUTOINCREMENT, "
      "a VARCHAR(10, 2) NOT NULL UNIQUE COLLATE NOCASE, "
      "b DEFAULT NULL, c NULL DEFAULT -1, d DEFAULT (1 + (2)) DEFAULT CURRENT_TIMESTAMP, "
      "e REFERENCES p (x) ON DELETE SET NULL ON UPDATE SET DEFAULT MATCH FULL "
      "NOT DEFERRABLE INITIALLY DEFERRED NOT NULL, "
      "f CONSTRAINT f_fk REFERENCES \"q\" DEFERRABLE INITIALLY IMMEDIATE, "
      "g GENERATED ALWAYS AS (a || ',') STORED, h AS (1) VIRTUAL, i GENERATED)");
  ASSERT_TRUE(create);
  ASSERT_EQ(create->items.size(), 10u);
  const auto& items = create->items;
  EXPECT_EQ(kinds(items[0]), std::vector<ClauseKind>{ClauseKind::PrimaryKey});
  EXPECT_EQ(items[0].clauses[0].name, "pk");
  EXPECT_TRUE(items[0].clauses[0].autoincrement);
  EXPECT_EQ(kinds(items[1]), (std::vector<ClauseKind>{ClauseKind::NotNull, ClauseKind::Unique,
                                                      ClauseKind::Collate}));
  EXPECT_EQ(kinds(items[2]), std::vector<ClauseKind>{ClauseKind::Default});
  EXPECT_EQ(kinds(items[3]), (std::vector<ClauseKind>{ClauseKind::Null, ClauseKind::Default}));
  EXPECT_EQ(kinds(items[4]), (std::vector<ClauseKind>{ClauseKind::Default, ClauseKind::Default}));
  EXPECT_EQ(kinds(items[5]),
            (std::vector<ClauseKind>{ClauseKind::ForeignKey, ClauseKind::NotNull}));
  EXPECT_EQ(items[5].clauses[0].references, "p");
  EXPECT_TRUE(items[5].clauses[0].columns.empty());
  EXPECT_EQ(kinds(items[6]), std::vector<ClauseKind>{ClauseKind::ForeignKey});
  EXPECT_EQ(items[6].clauses[0].name, "f_fk");
  EXPECT_EQ(items[6].clauses[0].references, "q");
  EXPECT_EQ(kinds(items[7]), std::vector<ClauseKind>{ClauseKind::Generated});
  EXPECT_EQ(kinds(items[8]), std::vector<ClauseKind>{ClauseKind::Generated});
  // GENERATED alone is a type name.
  EXPECT_TRUE(items[9].clauses.empty());
  for (const TableItem& item : items) {
    EXPECT_TRUE(item.is_column);
    if (&item != &items[0]) {
      for (const Clause& clause : item.clauses)
        EXPECT_FALSE(clause.autoincrement);
    }
  }
}

TEST(CreateTable, TableConstraints) {
  const auto create = parse_create(
      "create table t (a, b, c, "
      "constraint \"my key\" primary key (a collate nocase desc, [b]) on conflict abort, "
      "unique (c) check (c > 0), "
      "CONSTRAINT fk FOREIGN KEY (a, 'b') REFERENCES p (x, y) ON DELETE CASCADE, "
      "Check (a <> 'PRIMARY KEY (c)'))");
  ASSERT_TRUE(create);
  ASSERT_EQ(create->items.size(), 7u);
  const auto& items = create->items;
  for (std::size_t i = 3; i < items.size(); ++i)
    EXPECT_FALSE(items[i].is_column) << i;
  EXPECT_EQ(items[3].clauses.at(0).kind, ClauseKind::PrimaryKey);
  EXPECT_EQ(items[3].clauses.at(0).name, "my key");
  EXPECT_EQ(items[3].clauses.at(0).columns, (std::vector<std::string>{"a", "b"}));
  // SQLite takes table constraints without a comma between them.
  EXPECT_EQ(kinds(items[4]), (std::vector<ClauseKind>{ClauseKind::Unique, ClauseKind::Check}));
  EXPECT_EQ(items[4].clauses[0].columns, std::vector<std::string>{"c"});
  EXPECT_EQ(items[4].clauses[1].name, "");
  EXPECT_EQ(items[5].clauses.at(0).kind, ClauseKind::ForeignKey);
  EXPECT_EQ(items[5].clauses.at(0).name, "fk");
  EXPECT_EQ(items[5].clauses.at(0).columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(items[5].clauses.at(0).references, "p");
  EXPECT_EQ(kinds(items[6]), std::vector<ClauseKind>{ClauseKind::Check});
  EXPECT_TRUE(items[6].clauses[0].columns.empty());
}

TEST(CreateStatement, OtherObjects) {
  const std::string_view index = "CREATE UNIQUE INDEX IF NOT EXISTS main.\"i\"\"x\" ON t (a)";
  const auto ix = parse_create(index);
  ASSERT_TRUE(ix);
  EXPECT_EQ(ix->kind, ObjectKind::Index);
  EXPECT_TRUE(ix->unique);
  EXPECT_TRUE(ix->if_not_exists);
  EXPECT_EQ(ix->schema, "main");
  EXPECT_EQ(ix->name, "i\"x");
  EXPECT_EQ(name_as_written(index, *ix), "\"i\"\"x\"");
  EXPECT_FALSE(ix->columns);

  const auto view = parse_create("create temp view v as select 1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->kind, ObjectKind::View);
  EXPECT_TRUE(view->temporary);
  EXPECT_EQ(view->name, "v");

  const auto trigger = parse_create("CREATE TRIGGER [t r] AFTER INSERT ON x BEGIN SELECT 1; END");
  ASSERT_TRUE(trigger);
  EXPECT_EQ(trigger->kind, ObjectKind::Trigger);
  EXPECT_EQ(trigger->name, "t r");

  const auto virtual_table = parse_create("CREATE VIRTUAL TABLE v USING fts5(a, b)");
  ASSERT_TRUE(virtual_table);
  EXPECT_EQ(virtual_table->kind, ObjectKind::VirtualTable);
  EXPECT_FALSE(virtual_table->columns);

  const auto as_select = parse_create("CREATE TEMPORARY TABLE IF NOT EXISTS s AS SELECT 1 AS a");
  ASSERT_TRUE(as_select);
  EXPECT_EQ(as_select->kind, ObjectKind::Table);
  EXPECT_TRUE(as_select->temporary);
  EXPECT_TRUE(as_select->if_not_exists);
  EXPECT_FALSE(as_select->columns);
  EXPECT_TRUE(as_select->items.empty());

  // Only the first statement is read.
  const auto first = parse_create("CREATE TABLE a (x); CREATE TABLE b (y, z)");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->name, "a");
  ASSERT_EQ(first->items.size(), 1u);
}

TEST(CreateTable, TableOptions) {
  const std::string_view sql =
      "CREATE TABLE t (k TEXT PRIMARY KEY) /* options, ( */ WITHOUT -- rowid?\n ROWID , strict";
  const auto create = parse_create(sql);
  ASSERT_TRUE(create);
  EXPECT_EQ(create->options,
            (std::vector<TableOption>{TableOption::WithoutRowid, TableOption::Strict}));
  EXPECT_EQ(tail(sql, *create), " /* options, ( */ WITHOUT -- rowid?\n ROWID , strict");

  const auto none = parse_create("CREATE TABLE t (a) -- no options");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->options.empty());

  // What follows the statement is not read.
  const auto first = parse_create("CREATE TABLE t (a) STRICT; SELECT 1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->options, std::vector<TableOption>{TableOption::Strict});
}

TEST(CreateStatement, AnythingElseOrMalformedIsNothingWithTheReason) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"", "not a CREATE statement at the end of the text"},
      {"   ", "not a CREATE statement at the end of the text"},
      {"-- CREATE TABLE t (a)", "not a CREATE statement at the end of the text"},
      {"SELECT 'CREATE TABLE t (a)'", "not a CREATE statement at byte 0"},
      {"DROP TABLE t", "not a CREATE statement at byte 0"},
      {"CREATE",
       "not a CREATE TABLE, VIRTUAL TABLE, INDEX, VIEW or TRIGGER statement at the end "
       "of the text"},
      {"CREATE DATABASE d",
       "not a CREATE TABLE, VIRTUAL TABLE, INDEX, VIEW or TRIGGER statement at byte 7"},
      {"CREATE TABLE", "expected a name at the end of the text"},
      {"CREATE TABLE (a)", "expected a name at byte 13"},
      {"CREATE TABLE IF NOT EXISTS", "expected a name at the end of the text"},
      {"CREATE TABLE s. (a)", "expected a name after the schema's at byte 16"},
      {"CREATE TABLE t",
       "expected a column list or AS after the table's name at the end of the "
       "text"},
      {"CREATE TABLE t SELECT 1", "expected a column list or AS after the table's name at byte 15"},
      {"CREATE TABLE t (a", "the column list's parenthesis is not closed at byte 15"},
      {"CREATE TABLE t (a, (b)", "the column list's parenthesis is not closed at byte 15"},
      {"CREATE TABLE t (a /* b)", "the column list's parenthesis is not closed at byte 15"},
      {"CREATE TABLE t ()", "an empty item in the column list at byte 16"},
      {"CREATE TABLE t (a,)", "an empty item in the column list at byte 18"},
      {"CREATE TABLE t (a,, b)", "an empty item in the column list at byte 18"},
      {"CREATE TABLE t ((a))", "expected a column name or a table constraint at byte 16"},
      {"CREATE TABLE t (a, 5 INT)", "expected a column name or a table constraint at byte 19"},
      {"CREATE TABLE t (a, CONSTRAINT c)", "expected a table constraint after its name at byte 19"},
      {"CREATE TABLE 't (a)", "an unterminated string at byte 13"},
      {"CREATE TABLE t (a TEXT DEFAULT 'x)", "an unterminated string at byte 31"},
      {"CREATE TABLE t (\"a)", "an unterminated quoted name at byte 16"},
      {"CREATE TABLE t ([a)", "an unterminated quoted name at byte 16"},
      {"CREATE TABLE t (`a)", "an unterminated quoted name at byte 16"},
      {"CREATE TABLE t (a DEFAULT x'0)", "a malformed blob literal at byte 26"},
      {"CREATE TABLE t (a) STRICT STRICT", "expected a comma between table options at byte 26"},
      {"CREATE TABLE t (a) WITHOUT",
       "expected STRICT or WITHOUT ROWID after the column list at "
       "byte 19"},
      {"CREATE TABLE t (a) STRICT,",
       "expected STRICT or WITHOUT ROWID after the column list at "
       "the end of the text"},
      {"CREATE TABLE t (a) AS SELECT 1",
       "expected STRICT or WITHOUT ROWID after the column list at byte 19"},
      {"CREATE UNIQUE TABLE t (a)", "expected INDEX after CREATE UNIQUE at byte 14"},
      {"CREATE VIRTUAL INDEX i ON t (a)", "expected TABLE after CREATE VIRTUAL at byte 15"},
  };
  for (const auto& [sql, reason] : cases) {
    std::string error;
    EXPECT_FALSE(parse_create(sql, &error)) << sql;
    EXPECT_EQ(error, reason) << sql;
    EXPECT_FALSE(parse_create(sql)) << sql;
  }
  // A statement read leaves the error as it was.
  std::string error = "untouched";
  EXPECT_TRUE(parse_create("CREATE TABLE t (a)", &error));
  EXPECT_EQ(error, "untouched");
}

// Every prefix of a valid statement is read or refused with a reason, never past the text.
TEST(CreateStatement, TruncatedStatementsAreRefusedWithAReason) {
  const std::string sql =
      "CREATE TABLE IF NOT EXISTS main.\"t\"\"\" ( -- c, (\n"
      "  a INTEGER PRIMARY KEY, b TEXT DEFAULT 'x, (' CHECK (b <> ')'),\n"
      "  CONSTRAINT [k] UNIQUE (a, b) /* ) */) STRICT, WITHOUT ROWID";
  ASSERT_TRUE(parse_create(sql));
  for (std::size_t n = 0; n < sql.size(); ++n) {
    const std::string_view prefix(sql.data(), n);
    std::string error;
    const auto create = parse_create(prefix, &error);
    if (create) {
      EXPECT_LE(create->name_offset + create->name_length, n);
      if (create->columns) {
        EXPECT_LT(create->columns->second, n);
      }
    } else {
      EXPECT_FALSE(error.empty()) << prefix;
    }
  }
}

// What SQLite itself makes of the same statements: the columns, the primary key, the unique and
// foreign keys.
TEST(CreateTable, AgreesWithSqlite) {
  const std::vector<std::string> statements = {
      "CREATE TABLE t1 (a INTEGER PRIMARY KEY AUTOINCREMENT, b TEXT UNIQUE, c)",
      "CREATE TABLE t2 (\"x\"\"\" INT, [y z] TEXT, `w` BLOB, PRIMARY KEY (\"x\"\"\", [y z]))",
      std::string("CREATE TABLE t3 ( -- comment, (\n a /* , */ INT, b TEXT DEFAULT 'a,b)' ") +
          "CHECK (b <> ')'), CONSTRAINT \"u,q\" UNIQUE (a, b), FOREIGN KEY (a) REFERENCES t1 (a) " +
          "ON DELETE SET NULL) STRICT",
      std::string("CREATE TABLE t4 (k TEXT PRIMARY KEY, v AS (k || ','), n NUMERIC(10, 2) ") +
          "NOT NULL) WITHOUT ROWID",
      "CREATE TABLE \"t5\"\"\" (a REFERENCES t1, b DEFAULT NULL, c NULL, d DEFAULT (-1))",
      // A vertical tab continues whitespace (SQLite's tokenizer).
      "CREATE TABLE t6 (a NOT \v\vNULL, b \v)",
  };
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  for (const std::string& sql : statements) {
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    const auto create = parse_create(sql);
    ASSERT_TRUE(create) << sql;
    std::vector<std::string> columns;
    std::vector<std::string> keys;
    std::size_t uniques = 0;
    std::size_t foreign_keys = 0;
    for (const TableItem& item : create->items) {
      if (item.is_column) columns.push_back(item.name);
      for (const Clause& clause : item.clauses) {
        if (clause.kind == ClauseKind::PrimaryKey) {
          if (item.is_column) keys.push_back(item.name);
          keys.insert(keys.end(), clause.columns.begin(), clause.columns.end());
        }
        if (clause.kind == ClauseKind::Unique) ++uniques;
        if (clause.kind == ClauseKind::ForeignKey) ++foreign_keys;
      }
    }
    std::vector<std::string> sqlite_columns;
    std::vector<std::string> sqlite_keys;
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT name, pk FROM pragma_table_xinfo(?1) ORDER BY cid", -1,
                                 &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(stmt, 1, create->name.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::pair<int, std::string>> ordered_keys;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      sqlite_columns.push_back(name);
      if (sqlite3_column_int(stmt, 1) > 0)
        ordered_keys.emplace_back(sqlite3_column_int(stmt, 1), name);
    }
    sqlite3_finalize(stmt);
    std::sort(ordered_keys.begin(), ordered_keys.end());
    sqlite_keys.reserve(ordered_keys.size());
    for (const auto& [position, name] : ordered_keys)
      sqlite_keys.push_back(name);
    EXPECT_EQ(columns, sqlite_columns) << sql;
    EXPECT_EQ(keys, sqlite_keys) << sql;

    auto count = [&](const std::string& query) {
      sqlite3_stmt* q = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &q, nullptr), SQLITE_OK);
      sqlite3_bind_text(q, 1, create->name.c_str(), -1, SQLITE_TRANSIENT);
      const std::size_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
      sqlite3_finalize(q);
      return n;
    };
    EXPECT_EQ(uniques, count("SELECT count(*) FROM pragma_index_list(?1) WHERE origin = 'u'"))
        << sql;
    EXPECT_EQ(foreign_keys, count("SELECT count(DISTINCT id) FROM pragma_foreign_key_list(?1)"))
        << sql;
  }
  sqlite3_close(db);
}
