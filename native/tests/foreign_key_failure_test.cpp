// A foreign key failure names the key it broke, and finding it changes nothing.
#include "local/foreign_key_failure.hpp"

#include <gtest/gtest.h>

#include "ecto_libsql/local/local_connection.hpp"
#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

std::shared_ptr<Connection> schema() {
  auto conn = open_local(":memory:");
  run(*conn, "PRAGMA foreign_keys = ON");
  run(*conn, "CREATE TABLE users(id INTEGER PRIMARY KEY)");
  run(*conn, "CREATE TABLE posts(id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES users(id))");
  run(*conn,
      "CREATE TABLE comments(id INTEGER PRIMARY KEY,"
      " post_id INTEGER CONSTRAINT \"comments_post_custom\" REFERENCES posts(id),"
      " user_id INTEGER REFERENCES users)");
  run(*conn, "INSERT INTO users(id) VALUES (1)");
  run(*conn, "INSERT INTO posts(id, author_id) VALUES (10, 1)");
  return conn;
}

// The message of the error `sql` fails with.
std::string failure(Connection& conn, std::string_view sql, std::vector<ParamValue> params = {}) {
  try {
    rows(conn, sql, std::move(params));
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_FOREIGNKEY) << e.message();
    return e.message();
  }
  ADD_FAILURE() << "no error from " << sql;
  return {};
}

std::string count(Connection& conn, std::string_view table) {
  return rows(conn, "SELECT count(*) FROM " + std::string(table))[0][0];
}

}  // namespace

TEST(ForeignKeyFailure, InsertNamesTheBrokenKeyAmongSeveral) {
  auto conn = schema();
  // Ecto's default name when the key has none; the written name when it has one.
  EXPECT_EQ(failure(*conn, "INSERT INTO comments(post_id, user_id) VALUES (10, 99)"),
            "FOREIGN KEY constraint failed: comments.user_id (foreign key: comments_user_id_fkey)");
  EXPECT_EQ(failure(*conn, "INSERT INTO comments(post_id, user_id) VALUES (?, ?)",
                    {std::int64_t{99}, std::int64_t{1}}),
            "FOREIGN KEY constraint failed: comments.post_id (foreign key: comments_post_custom)");
  // The third row of a multi-row insert.
  EXPECT_EQ(failure(*conn, "INSERT INTO posts(author_id) VALUES (1), (NULL), (7)"),
            "FOREIGN KEY constraint failed: posts.author_id (foreign key: posts_author_id_fkey)");
  EXPECT_EQ(count(*conn, "comments"), "0");
  EXPECT_EQ(count(*conn, "posts"), "1");
}

TEST(ForeignKeyFailure, UpdateAndDeleteOfAParentNameTheChildsKey) {
  auto conn = schema();
  run(*conn, "INSERT INTO comments(post_id, user_id) VALUES (10, NULL)");
  // users is the parent of posts.author_id and comments.user_id: only posts refers to user 1.
  EXPECT_EQ(failure(*conn, "DELETE FROM users WHERE id = 1"),
            "FOREIGN KEY constraint failed: posts.author_id (foreign key: posts_author_id_fkey)");
  EXPECT_EQ(failure(*conn, "UPDATE posts SET id = 11"),
            "FOREIGN KEY constraint failed: comments.post_id (foreign key: comments_post_custom)");
  EXPECT_EQ(failure(*conn, "UPDATE comments SET user_id = 5"),
            "FOREIGN KEY constraint failed: comments.user_id (foreign key: comments_user_id_fkey)");
  EXPECT_EQ(rows(*conn, "SELECT id FROM users")[0][0], "1");
  EXPECT_EQ(rows(*conn, "SELECT id FROM posts")[0][0], "10");
}

TEST(ForeignKeyFailure, CompositeAndTableLevelKeys) {
  auto conn = open_local(":memory:");
  run(*conn, "PRAGMA foreign_keys = ON");
  run(*conn, "CREATE TABLE parent(a INT, b TEXT, PRIMARY KEY (a, b))");
  run(*conn,
      "CREATE TABLE child(id INTEGER PRIMARY KEY, x INT, y TEXT, /* a comment, with ( */"
      " CONSTRAINT [child pair] FOREIGN KEY (x, y) REFERENCES parent(a, b) ON DELETE RESTRICT)");
  run(*conn,
      "CREATE TABLE implicit(id INTEGER PRIMARY KEY, x INT, y TEXT,"
      " FOREIGN KEY (x, y) REFERENCES parent)");
  run(*conn, "INSERT INTO parent VALUES (1, 'one')");
  run(*conn, "INSERT INTO child(x, y) VALUES (1, 'one'), (NULL, 'no parent needed')");
  EXPECT_EQ(failure(*conn, "INSERT INTO child(x, y) VALUES (1, 'two')"),
            "FOREIGN KEY constraint failed: child.x, child.y (foreign key: child pair)");
  EXPECT_EQ(failure(*conn, "INSERT INTO implicit(x, y) VALUES (2, 'one')"),
            "FOREIGN KEY constraint failed: implicit.x, implicit.y (foreign key: implicit_x_fkey)");
  // RESTRICT fails at once (SQLite's code for it is the trigger's; it is reported as a key's).
  EXPECT_EQ(failure(*conn, "DELETE FROM parent"),
            "FOREIGN KEY constraint failed: child.x, child.y (foreign key: child pair)");
  run(*conn, "BEGIN");
  EXPECT_EQ(failure(*conn, "UPDATE parent SET a = 2"),
            "FOREIGN KEY constraint failed: child.x, child.y (foreign key: child pair)");
  // Enforcement is back on after the probe that switched it off.
  EXPECT_FALSE(failure(*conn, "INSERT INTO child(x, y) VALUES (3, 'three')").empty());
  run(*conn, "ROLLBACK");
  EXPECT_EQ(count(*conn, "parent"), "1");
}

TEST(ForeignKeyFailure, InsideATransactionOnlyTheStatementIsUndone) {
  auto conn = schema();
  {
    Connection::Guard guard(*conn);
    conn->begin(TransactionBehaviour::Deferred, nullptr);
  }
  run(*conn, "INSERT INTO posts(id, author_id) VALUES (20, 1)");
  EXPECT_NE(failure(*conn, "INSERT INTO posts(author_id) VALUES (2)").find("posts_author_id_fkey"),
            std::string::npos);
  {
    Connection::Guard guard(*conn);
    EXPECT_FALSE(conn->autocommit());
  }
  // Keys are still checked per statement (the probe's deferral did not outlive it).
  EXPECT_EQ(rows(*conn, "PRAGMA defer_foreign_keys")[0][0], "0");
  EXPECT_THROW(rows(*conn, "INSERT INTO posts(author_id) VALUES (3)"), Error);
  EXPECT_EQ(count(*conn, "posts"), "2");
  {
    Connection::Guard guard(*conn);
    conn->commit();
  }
  EXPECT_EQ(count(*conn, "posts"), "2");
}

TEST(ForeignKeyFailure, OutsideATransactionNothingIsLeftOpen) {
  auto conn = schema();
  EXPECT_FALSE(failure(*conn, "INSERT INTO posts(author_id) VALUES (2)").empty());
  Connection::Guard guard(*conn);
  EXPECT_TRUE(conn->autocommit());
}

TEST(ForeignKeyFailure, DeferredKeysAreNamedWhenTheCommitFails) {
  auto conn = open_local(":memory:");
  run(*conn, "PRAGMA foreign_keys = ON");
  run(*conn, "CREATE TABLE p(id INTEGER PRIMARY KEY)");
  run(*conn,
      "CREATE TABLE c(id INTEGER PRIMARY KEY,"
      " p_id INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)");
  run(*conn, "BEGIN");
  run(*conn, "INSERT INTO c(p_id) VALUES (5)");
  EXPECT_EQ(failure(*conn, "COMMIT"),
            "FOREIGN KEY constraint failed: c.p_id (foreign key: c_p_id_fkey)");
  run(*conn, "INSERT INTO p(id) VALUES (5)");
  run(*conn, "COMMIT");
  EXPECT_EQ(count(*conn, "c"), "1");
}

TEST(ForeignKeyFailure, TheProbeIsNotReportedToTheUpdateHook) {
  auto conn = schema();
  std::vector<std::string> seen;
  {
    Connection::Guard guard(*conn);
    conn->set_update_hook(
        [&](UpdateKind, std::string_view, std::string_view table, std::int64_t rowid) {
          seen.push_back(std::string(table) + ":" + std::to_string(rowid));
        });
  }
  failure(*conn, "INSERT INTO posts(id, author_id) VALUES (30, 2)");
  EXPECT_TRUE(seen.empty());
  run(*conn, "INSERT INTO posts(id, author_id) VALUES (31, 1)");
  EXPECT_EQ(seen, std::vector<std::string>{"posts:31"});
}

TEST(ForeignKeyFailure, NamedKeysAreReadFromCreateTable) {
  const auto keys = named_foreign_keys(
      "CREATE TABLE \"t\"(\"a\" INTEGER NOT NULL CONSTRAINT \"t_a\" REFERENCES \"p\"(\"id\") "
      "ON DELETE CASCADE, b TEXT DEFAULT 'x, CONSTRAINT y REFERENCES z', -- CONSTRAINT q\n"
      "c INT CHECK (c > 0), `d` INT CONSTRAINT d_key REFERENCES `q`, "
      "CONSTRAINT pair FOREIGN KEY (a, \"b\") REFERENCES p (x, y), FOREIGN KEY (c) REFERENCES p)");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].name, "t_a");
  EXPECT_EQ(keys[0].columns, std::vector<std::string>{"a"});
  EXPECT_EQ(keys[0].parent, "p");
  EXPECT_EQ(keys[1].name, "d_key");
  EXPECT_EQ(keys[1].parent, "q");
  EXPECT_EQ(keys[2].name, "pair");
  EXPECT_EQ(keys[2].columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(named_foreign_keys("").empty());
  EXPECT_TRUE(named_foreign_keys("CREATE TABLE t(a CONSTRAINT").empty());
}
