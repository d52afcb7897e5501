defmodule EctoLibSql.PragmaTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, Pragma, Result}

  setup do
    s = connect!(database: tmp_db())

    {:ok, _} =
      Native.execute(s, "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL)")

    %{s: s}
  end

  test "query/2", %{s: s} do
    assert {:ok, %Result{command: :pragma, columns: ["user_version"], rows: [[0]], num_rows: 1}} =
             Pragma.query(s, "PRAGMA user_version")

    assert {:ok, %Result{command: :pragma, rows: []}} = Pragma.query(s, "PRAGMA optimize")

    assert {:error, "PRAGMA query failed: near \"PRAGM\": syntax error"} =
             Pragma.query(s, "PRAGM x")

    assert_raise FunctionClauseError, fn -> Pragma.query(s, :sql) end
  end

  test "foreign keys", %{s: s} do
    assert {:ok, %Result{rows: [[0]]}} = Pragma.foreign_keys(s)
    assert :ok = Pragma.enable_foreign_keys(s)
    assert {:ok, %Result{rows: [[1]]}} = Pragma.foreign_keys(s)
    {:ok, _} = Native.execute(s, "CREATE TABLE posts(user_id REFERENCES users(id))")

    assert {:error,
            %EctoLibSql.Error{
              message:
                "FOREIGN KEY constraint failed: posts.user_id (foreign key: posts_user_id_fkey)",
              sqlite: %{extended: :constraint_foreignkey}
            }} = Native.execute(s, "INSERT INTO posts VALUES (9)")

    assert :ok = Pragma.disable_foreign_keys(s)
    assert {:ok, %Result{rows: [[0]]}} = Pragma.foreign_keys(s)
    assert {:ok, _} = Native.execute(s, "INSERT INTO posts VALUES (9)")
  end

  test "journal mode", %{s: s} do
    assert {:ok, %Result{rows: [["delete"]]}} = Pragma.journal_mode(s)

    for mode <- [:wal, :truncate, :persist, :memory, :off, :delete] do
      expected = Atom.to_string(mode)
      assert {:ok, %Result{rows: [[^expected]]}} = Pragma.set_journal_mode(s, mode)
      assert {:ok, %Result{rows: [[^expected]]}} = Pragma.journal_mode(s)
    end

    assert_raise FunctionClauseError, fn -> Pragma.set_journal_mode(s, :bogus) end

    assert_raise FunctionClauseError, fn ->
      Pragma.set_journal_mode(s, "wal; DROP TABLE users")
    end
  end

  test "an in-memory database keeps the memory journal", _ do
    mem = connect!()
    assert {:ok, %Result{rows: [["memory"]]}} = Pragma.set_journal_mode(mem, :wal)
  end

  test "synchronous", %{s: s} do
    for {level, n} <- [off: 0, normal: 1, full: 2, extra: 3] do
      assert {:ok, %Result{}} = Pragma.set_synchronous(s, level)
      assert {:ok, %Result{rows: [[^n]]}} = Pragma.synchronous(s)
      assert {:ok, %Result{}} = Pragma.set_synchronous(s, n)
      assert {:ok, %Result{rows: [[^n]]}} = Pragma.synchronous(s)
    end

    for bad <- [4, -1, :fast, "1", nil] do
      assert_raise FunctionClauseError, fn -> Pragma.set_synchronous(s, bad) end
    end
  end

  test "table_info/2 and index_list/2", %{s: s} do
    {:ok, _} = Native.execute(s, "CREATE UNIQUE INDEX users_email_index ON users(email)")

    assert {:ok,
            %Result{columns: ["cid", "name", "type", "notnull", "dflt_value", "pk"], rows: rows}} =
             Pragma.table_info(s, :users)

    assert rows == [[0, "id", "INTEGER", 0, nil, 1], [1, "email", "TEXT", 1, nil, 0]]
    assert {:ok, %Result{rows: ^rows}} = Pragma.table_info(s, "users")
    assert {:ok, %Result{rows: ^rows}} = Pragma.table_info(s, "main.users")
    assert {:ok, %Result{rows: []}} = Pragma.table_info(s, "missing")

    assert {:ok, %Result{rows: [[0, "users_email_index", 1, "c", 0]]}} =
             Pragma.index_list(s, "users")

    for bad <- [
          "users; DROP TABLE users",
          "1users",
          "",
          "a b",
          "a.b.c",
          ".users",
          "users.",
          nil,
          1
        ] do
      assert {:error, {:invalid_identifier, ^bad}} = Pragma.table_info(s, bad)
      assert {:error, {:invalid_identifier, ^bad}} = Pragma.index_list(s, bad)
    end

    assert {:ok, %Result{rows: [_, _]}} = Pragma.table_info(s, "users")
  end

  test "table_list/1", %{s: s} do
    assert {:ok, %Result{columns: ["schema", "name", "type", "ncol", "wr", "strict"], rows: rows}} =
             Pragma.table_list(s)

    assert ["main", "users", "table", 2, 0, 0] in rows
  end

  test "user_version", %{s: s} do
    assert {:ok, %Result{rows: [[0]]}} = Pragma.user_version(s)
    assert {:ok, %Result{}} = Pragma.set_user_version(s, 42)
    assert {:ok, %Result{rows: [[42]]}} = Pragma.user_version(s)
    assert {:ok, _} = Pragma.set_user_version(s, -5)
    assert {:ok, %Result{rows: [[-5]]}} = Pragma.user_version(s)

    assert {:error, "user_version must fit in a signed 32-bit integer, got: 2147483648"} =
             Pragma.set_user_version(s, 2_147_483_648)

    assert_raise FunctionClauseError, fn -> Pragma.set_user_version(s, "1") end
  end

  test "cache size", %{s: s} do
    assert {:ok, %Result{rows: [[default]]}} = Pragma.cache_size(s)
    assert is_integer(default)
    assert {:ok, _} = Pragma.set_cache_size(s, 500)
    assert {:ok, %Result{rows: [[500]]}} = Pragma.cache_size(s)
    assert {:ok, _} = Pragma.set_cache_size(s, -10_000)
    assert {:ok, %Result{rows: [[-10_000]]}} = Pragma.cache_size(s)
    assert {:ok, _} = Pragma.set_cache_size(s, kilobytes: 2048)
    assert {:ok, %Result{rows: [[-2048]]}} = Pragma.cache_size(s)
    assert {:ok, _} = Pragma.set_cache_size(s, megabytes: 64)
    assert {:ok, %Result{rows: [[-65_536]]}} = Pragma.cache_size(s)

    for bad <- [[megabytes: 0], [kilobytes: -1], [gigabytes: 1], 1.5, "1"] do
      assert_raise FunctionClauseError, fn -> Pragma.set_cache_size(s, bad) end
    end
  end

  test "errors on a closed connection", %{s: s} do
    :ok = Native.close(s)

    assert {:error, "PRAGMA query failed: Connection not found: it is closed"} =
             Pragma.user_version(s)

    assert {:error, "PRAGMA query failed: Connection not found: it is closed"} =
             Pragma.enable_foreign_keys(s)
  end
end
