// A constraint violation carries what it broke (kind and name) as data: from SQLite locally,
// and from a server's message (constraint_from_message) where the engine cannot ask SQLite.
#include "ecto_libsql/constraint.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <optional>
#include <string>

#include "ecto_libsql/error.hpp"
#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;

namespace {

std::shared_ptr<Connection> schema() {
  auto conn = open_local(":memory:");
  run(*conn, "PRAGMA foreign_keys = ON");
  run(*conn,
      "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT NOT NULL DEFAULT '',"
      " a INT, b INT, age INT CONSTRAINT age_positive CHECK (age > 0), score INT CHECK (score < "
      "10))");
  run(*conn, "CREATE UNIQUE INDEX users_email_index ON users(email)");
  run(*conn, "CREATE UNIQUE INDEX users_a_b ON users(a, b)");
  run(*conn, "CREATE TABLE tags(label TEXT PRIMARY KEY)");
  run(*conn, "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))");
  run(*conn, "INSERT INTO users(id, email, a, b) VALUES (1, 'x@example.com', 1, 2)");
  run(*conn, "INSERT INTO tags(label) VALUES ('t')");
  return conn;
}

// The error `sql` fails with.
Error failure(Connection& conn, std::string_view sql) {
  try {
    run(conn, sql);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error from " << sql;
  return {0, ""};
}

std::optional<Constraint> broken(Connection& conn, std::string_view sql) {
  return failure(conn, sql).constraint();
}

}  // namespace

TEST(Constraint, UniqueNamesTheIndexLocally) {
  auto conn = schema();
  const Error error = failure(*conn, "INSERT INTO users(email) VALUES ('x@example.com')");
  EXPECT_EQ(error.code(), SQLITE_CONSTRAINT_UNIQUE);
  // The message stays as it was.
  EXPECT_EQ(error.message(), "UNIQUE constraint failed: users.email (index: users_email_index)");
  EXPECT_EQ(error.constraint(), (Constraint{ConstraintKind::Unique, "users_email_index"}));
  EXPECT_EQ(broken(*conn, "INSERT INTO users(a, b) VALUES (1, 2)"),
            (Constraint{ConstraintKind::Unique, "users_a_b"}));
}

TEST(Constraint, ForeignKeyNamesTheKeyLocally) {
  auto conn = schema();
  const Error error = failure(*conn, "INSERT INTO posts(user_id) VALUES (99)");
  EXPECT_EQ(error.code(), SQLITE_CONSTRAINT_FOREIGNKEY);
  EXPECT_EQ(error.constraint(), (Constraint{ConstraintKind::ForeignKey, "posts_user_id_fkey"}));
}

TEST(Constraint, CheckNamesTheConstraintOrTheColumnsLocally) {
  auto conn = schema();
  EXPECT_EQ(broken(*conn, "INSERT INTO users(age) VALUES (-1)"),
            (Constraint{ConstraintKind::Check, "age_positive"}));
  // An unnamed CHECK: SQLite's message holds its expression, which is what is answered.
  EXPECT_EQ(broken(*conn, "INSERT INTO users(score) VALUES (11)"),
            (Constraint{ConstraintKind::Check, "score < 10"}));
}

TEST(Constraint, NotNullAndPrimaryKeyLocally) {
  auto conn = schema();
  const Error not_null = failure(*conn, "INSERT INTO users(name) VALUES (NULL)");
  EXPECT_EQ(not_null.code(), SQLITE_CONSTRAINT_NOTNULL);
  EXPECT_EQ(not_null.constraint(), (Constraint{ConstraintKind::NotNull, "users_name_index"}));
  EXPECT_EQ(broken(*conn, "INSERT INTO users(id) VALUES (1)"),
            (Constraint{ConstraintKind::PrimaryKey, "users_id_index"}));
  EXPECT_EQ(broken(*conn, "INSERT INTO tags(label) VALUES ('t')"),
            (Constraint{ConstraintKind::PrimaryKey, "tags_label_index"}));
}

TEST(Constraint, OtherErrorsHaveNone) {
  auto conn = schema();
  EXPECT_EQ(broken(*conn, "SELECT * FROM missing"), std::nullopt);
  EXPECT_EQ(broken(*conn, "INSERT INTO users(nope) VALUES (1)"), std::nullopt);
  EXPECT_EQ(Error(kCodeConstraint, "constraint failed").constraint(), std::nullopt);
}

TEST(Constraint, FromAServersMessage) {
  EXPECT_EQ(constraint_from_message(kCodeConstraintUnique, "UNIQUE constraint failed: users.email"),
            (Constraint{ConstraintKind::Unique, "users_email_index"}));
  // tursodb appends the code.
  EXPECT_EQ(constraint_from_message(kCodeConstraintUnique,
                                    "UNIQUE constraint failed: users.a, users.b (19)"),
            (Constraint{ConstraintKind::Unique, "users_a_b_index"}));
  EXPECT_EQ(
      constraint_from_message(kCodeConstraintUnique, "UNIQUE constraint failed: `users.email`"),
      (Constraint{ConstraintKind::Unique, "users_email_index"}));
  EXPECT_EQ(
      constraint_from_message(kCodeConstraintCheck, "CHECK constraint failed: price_positive"),
      (Constraint{ConstraintKind::Check, "price_positive"}));
  EXPECT_EQ(
      constraint_from_message(kCodeConstraintNotNull, "NOT NULL constraint failed: users.name"),
      (Constraint{ConstraintKind::NotNull, "users_name_index"}));
  EXPECT_EQ(constraint_from_message(kCodeConstraintPrimaryKey, "PRIMARY KEY constraint failed"),
            (Constraint{ConstraintKind::PrimaryKey, "primary_key"}));
  EXPECT_EQ(
      constraint_from_message(kCodeConstraintPrimaryKey, "UNIQUE constraint failed: users.id"),
      (Constraint{ConstraintKind::PrimaryKey, "users_id_index"}));
  // A message naming nothing.
  EXPECT_EQ(constraint_from_message(kCodeConstraintCheck, "CHECK constraint failed"),
            (Constraint{ConstraintKind::Check, "unknown"}));
  EXPECT_EQ(constraint_from_message(kCodeConstraintCheck, "CHECK constraint failed: a\nb"),
            (Constraint{ConstraintKind::Check, "unknown"}));
}

TEST(Constraint, NoneFromOtherCodesOrAForeignKeyMessage) {
  // SQLite's foreign key message never names the key: the engine finds it or answers none.
  EXPECT_EQ(constraint_from_message(kCodeConstraintForeignKey, "FOREIGN KEY constraint failed"),
            std::nullopt);
  EXPECT_EQ(constraint_from_message(kCodeConstraint, "UNIQUE constraint failed: t.a"),
            std::nullopt);
  EXPECT_EQ(constraint_from_message(kCodeError, "no such table: t"), std::nullopt);
  EXPECT_EQ(constraint_from_message(kCodeBusy, "database is locked"), std::nullopt);
}

TEST(Constraint, KindNames) {
  EXPECT_EQ(constraint_kind_name(ConstraintKind::Unique), "unique");
  EXPECT_EQ(constraint_kind_name(ConstraintKind::PrimaryKey), "primary_key");
  EXPECT_EQ(constraint_kind_name(ConstraintKind::ForeignKey), "foreign_key");
  EXPECT_EQ(constraint_kind_name(ConstraintKind::Check), "check");
  EXPECT_EQ(constraint_kind_name(ConstraintKind::NotNull), "not_null");
}
