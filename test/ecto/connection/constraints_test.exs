defmodule Ecto.Adapters.LibSql.Connection.ConstraintsTest do
  # to_constraints/2: SQLite's constraint errors, as Ecto's changesets name them.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  alias Ecto.Adapters.LibSql.Constraints

  describe "constraints from SQLite's messages" do
    test "unique violations name the index the driver reports" do
      assert Constraints.from_message(
               "UNIQUE constraint failed: posts.title (index: posts_title_index)"
             ) ==
               [unique: "posts_title_index"]

      assert Constraints.from_message("UNIQUE constraint failed: posts.a, posts.b") ==
               [unique: "posts_a_b_index"]
    end

    test "check constraints keep their name" do
      assert Constraints.from_message("CHECK constraint failed: qty_positive") == [
               check: "qty_positive"
             ]
    end

    test "other messages are not constraints" do
      assert Constraints.from_message("no such table: x") == []
    end

    test "a primary key" do
      assert Constraints.from_message("PRIMARY KEY constraint failed") == [
               unique: "primary_key"
             ]
    end
  end

  describe "errors that name their constraint (the `constraint` field)" do
    # The field is a map key, so that errors of drivers (or releases) without it still read
    # their message: a struct with the field, a plain map with it, and one without.
    defp error(constraint, message),
      do: Map.put(%EctoLibSql.Error{message: message}, :constraint, constraint)

    test "each kind, by the name the field carries, whatever the message says" do
      for {constraint, expected} <- [
            {{:unique, "users_email_index"}, [unique: "users_email_index"]},
            {{:primary_key, "users_id_index"}, [unique: "users_id_index"]},
            {{:primary_key, "primary_key"}, [unique: "primary_key"]},
            {{:foreign_key, "posts_user_id_fkey"}, [foreign_key: "posts_user_id_fkey"]},
            {{:check, "age_positive"}, [check: "age_positive"]},
            # as NOT NULL has always been answered: a check named like an index of the column
            {{:not_null, "users_name_index"}, [check: "users_name_index"]}
          ] do
        assert SQL.to_constraints(error(constraint, "UNIQUE constraint failed: x.y"), []) ==
                 expected

        assert SQL.to_constraints(%{constraint: constraint}, []) == expected
      end
    end

    test "a field that names no constraint leaves the message to say it" do
      message = "FOREIGN KEY constraint failed"
      assert SQL.to_constraints(error(nil, message), []) == [foreign_key: :unknown]

      assert SQL.to_constraints(error({:foreign_key, nil}, message), []) == [
               foreign_key: :unknown
             ]

      assert SQL.to_constraints(error({:exclusion, "x"}, "CHECK constraint failed: c"), []) ==
               [check: "c"]

      assert SQL.to_constraints(error(nil, "no such table: t"), []) == []
      assert SQL.to_constraints(%{constraint: nil}, []) == []
    end

    test "the field and the message give the same answer for what SQLite reports" do
      for {constraint, message} <- [
            {{:unique, "posts_title_index"},
             "UNIQUE constraint failed: posts.title (index: posts_title_index)"},
            {{:unique, "posts_a_b_index"}, "UNIQUE constraint failed: posts.a, posts.b"},
            {{:check, "qty_positive"}, "CHECK constraint failed: qty_positive"},
            {{:not_null, "t_n_index"}, "NOT NULL constraint failed: t.n"},
            {{:primary_key, "primary_key"}, "PRIMARY KEY constraint failed"},
            {{:foreign_key, "posts_user_id_fkey"},
             "FOREIGN KEY constraint failed: posts.user_id (foreign key: posts_user_id_fkey)"}
          ] do
        assert SQL.to_constraints(error(constraint, message), []) ==
                 Constraints.from_message(message),
               message
      end
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
