defmodule Ecto.Adapters.LibSql.Connection.ConstraintsTest do
  # to_constraints/2: SQLite's constraint errors, as Ecto's changesets name them.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  describe "constraints from SQLite's messages" do
    test "unique violations name the index the driver reports" do
      assert SQL.constraints_from_message(
               "UNIQUE constraint failed: posts.title (index: posts_title_index)"
             ) ==
               [unique: "posts_title_index"]

      assert SQL.constraints_from_message("UNIQUE constraint failed: posts.a, posts.b") ==
               [unique: "posts_a_b_index"]
    end

    test "check constraints keep their name" do
      assert SQL.constraints_from_message("CHECK constraint failed: qty_positive") == [
               check: "qty_positive"
             ]
    end

    test "other messages are not constraints" do
      assert SQL.constraints_from_message("no such table: x") == []
    end

    test "a primary key" do
      assert SQL.constraints_from_message("PRIMARY KEY constraint failed") == [
               unique: "primary_key"
             ]
    end
  end

  describe "errors of a real database" do
    defp error!(sql) do
      assert {:error, error} =
               EctoLibSql.Native.execute(Process.get(Ecto.Adapters.LibSql.SqlCase), sql)

      SQL.to_constraints(error, [])
    end

    test "a unique index" do
      run!("INSERT INTO posts (id, title) VALUES (1, 'a')")

      assert error!("INSERT INTO posts (id, title) VALUES (2, 'a')") == [
               unique: "posts_title_index"
             ]

      run!(~s{CREATE UNIQUE INDEX "posts_visits_index" ON "posts" ("visits")})
      run!("UPDATE posts SET visits = 1")

      assert error!("INSERT INTO posts (id, visits) VALUES (3, 1)") == [
               unique: "posts_visits_index"
             ]
    end

    test "a rowid primary key" do
      run!("INSERT INTO posts (id) VALUES (1)")
      assert [unique: _] = error!("INSERT INTO posts (id) VALUES (1)")
    end

    test "a named check and a NOT NULL" do
      run!(~s{CREATE TABLE t (n INTEGER NOT NULL CONSTRAINT "n_positive" CHECK (n > 0))})
      assert error!("INSERT INTO t VALUES (0)") == [check: "n_positive"]
      assert error!("INSERT INTO t VALUES (NULL)") == [check: "t_n_index"]
    end

    test "a foreign key, by the name the driver reports" do
      run!("PRAGMA foreign_keys = ON")

      assert error!("INSERT INTO comments (id, post_id) VALUES (1, 99)") == [
               foreign_key: "comments_post_id_fkey"
             ]
    end
  end
end
