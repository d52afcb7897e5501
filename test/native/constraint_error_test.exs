# A constraint violation comes back with what it broke as data: `constraint: {kind, name}` in
# %EctoLibSql.Error{}, locally and from a real server (tursodb), the message unchanged.
Code.require_file("../support/tursodb_server.exs", __DIR__)

defmodule EctoLibSql.Native.ConstraintErrorTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, TursodbServer}

  @schema [
    "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT NOT NULL DEFAULT '', " <>
      "age INT CONSTRAINT age_positive CHECK (age > 0))",
    "CREATE UNIQUE INDEX users_email_index ON users(email)",
    "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))",
    "INSERT INTO users(id, email) VALUES (1, 'a@example.com')"
  ]

  defp schema!(s) do
    for sql <- @schema, do: {:ok, _} = Native.execute(s, sql, [])
    s
  end

  describe "locally" do
    setup do
      s = connect!()
      {:ok, _} = Native.execute(s, "PRAGMA foreign_keys = ON", [])
      %{s: schema!(s)}
    end

    test "a unique violation names its index", %{s: s} do
      assert {:error,
              %Error{
                constraint: {:unique, "users_email_index"},
                message: "UNIQUE constraint failed: users.email (index: users_email_index)"
              }} = Native.execute(s, "INSERT INTO users(email) VALUES (?)", ["a@example.com"])
    end

    test "a foreign key, a check, a not null and a primary key violation", %{s: s} do
      assert {:error, %Error{constraint: {:foreign_key, "posts_user_id_fkey"}}} =
               Native.execute(s, "INSERT INTO posts(user_id) VALUES (99)", [])

      assert {:error, %Error{constraint: {:check, "age_positive"}}} =
               Native.execute(s, "INSERT INTO users(age) VALUES (-1)", [])

      assert {:error, %Error{constraint: {:not_null, "users_name_index"}}} =
               Native.execute(s, "INSERT INTO users(name) VALUES (NULL)", [])

      assert {:error, %Error{constraint: {:primary_key, "users_id_index"}}} =
               Native.execute(s, "INSERT INTO users(id) VALUES (1)", [])
    end

    test "other errors have none", %{s: s} do
      assert {:error, %Error{constraint: nil}} = Native.execute(s, "SELECT * FROM missing", [])

      assert {:error, %Error{constraint: nil}} =
               Native.execute(s, "INSERT INTO users(x) VALUES (1)", [])
    end
  end

  describe "remotely (tursodb)" do
    if reason = TursodbServer.missing(), do: @describetag(skip: reason)
    @describetag :remote

    setup do
      server = TursodbServer.start!()
      on_exit(fn -> TursodbServer.stop(server) end)
      %{s: schema!(connect!(uri: server.url, auth_token: "token"))}
    end

    test "a unique violation: the name Ecto gives the columns' index", %{s: s} do
      # The server's message names the columns only ("UNIQUE constraint failed: users.email").
      assert {:error, %Error{constraint: {:unique, "users_email_index"}, message: message}} =
               Native.execute(s, "INSERT INTO users(email) VALUES (?)", ["a@example.com"])

      assert message =~ "UNIQUE constraint failed: users.email"
    end

    test "a check and a not null violation; other errors have none", %{s: s} do
      assert {:error, %Error{constraint: {:check, "age_positive"}}} =
               Native.execute(s, "INSERT INTO users(age) VALUES (-1)", [])

      assert {:error, %Error{constraint: {:not_null, "users_name_index"}}} =
               Native.execute(s, "INSERT INTO users(name) VALUES (NULL)", [])

      assert {:error, %Error{constraint: nil}} = Native.execute(s, "SELECT * FROM missing", [])
    end
  end
end
