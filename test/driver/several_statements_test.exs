# handle_execute/4 with SQL holding several statements, as the original accepted it: without
# parameters they run in order as one unit (all or nothing) and the last one's result is the
# answer; with parameters they are refused. Locally, against a remote server (Hrana test server
# and tursodb) and in an embedded replica (tursodb --sync-server).
Code.require_file("../support/hrana_server.exs", __DIR__)
Code.require_file("../support/tursodb_server.exs", __DIR__)

for mode <- [:local, :hrana, :tursodb, :replica] do
  defmodule Module.concat(EctoLibSql.Driver.SeveralStatementsTest, Macro.camelize("#{mode}")) do
    use ExUnit.Case, async: false

    import EctoLibSql.TestHelpers
    alias EctoLibSql.{Error, HranaServer, Query, Result, TursodbServer}

    @mode mode

    cond do
      mode == :hrana and HranaServer.missing() ->
        @moduletag skip: HranaServer.missing()

      mode == :tursodb and TursodbServer.missing() ->
        @moduletag skip: TursodbServer.missing()

      mode == :replica and TursodbServer.binary() == nil ->
        @moduletag skip: "npm turso (tursodb) is not installed"

      true ->
        :ok
    end

    if mode != :local, do: @moduletag(:remote)

    defp q(sql), do: %Query{statement: sql}

    setup do
      opts =
        case @mode do
          :local ->
            [database: tmp_db()]

          :hrana ->
            server = HranaServer.start!(token: "token")
            on_exit(fn -> HranaServer.stop(server) end)
            [uri: server.url, auth_token: "token"]

          :tursodb ->
            server = TursodbServer.start!()
            on_exit(fn -> TursodbServer.stop(server) end)
            [uri: server.url, auth_token: "token"]

          :replica ->
            server = TursodbServer.start!(database: tmp_db("server"))
            on_exit(fn -> TursodbServer.stop(server) end)
            # a replica bootstraps from a database that has a schema
            TursodbServer.exec!(server, ["CREATE TABLE boot (x)"])
            path = tmp_db("replica")
            on_exit(fn -> File.rm(path <> "-sync") end)
            [database: path, uri: server.url, auth_token: "token", sync: true]
        end

      {:ok, state} = EctoLibSql.connect(opts)
      on_exit(fn -> EctoLibSql.disconnect(:done, state) end)

      {:ok, _, _, state} =
        EctoLibSql.handle_execute(
          q("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"),
          [],
          [],
          state
        )

      %{state: state}
    end

    defp count(state) do
      {:ok, _, %Result{rows: [[n]]}, _} =
        EctoLibSql.handle_execute(q("SELECT count(*) FROM users"), [], [], state)

      n
    end

    test "several statements run in order and answer the last one's result", %{state: state} do
      sql = """
      INSERT INTO users (name) VALUES ('test');
      INSERT INTO users (name) VALUES ('semi;colon');
      SELECT name FROM users ORDER BY id;
      """

      assert {:ok, %Query{}, %Result{command: :select, columns: ["name"], rows: rows}, state} =
               EctoLibSql.handle_execute(q(sql), [], [], state)

      assert rows == [["test"], ["semi;colon"]]

      # the last statement writes: its count is the answer
      assert {:ok, _, %Result{command: :delete, num_rows: 2}, _} =
               EctoLibSql.handle_execute(
                 "SELECT 1; DELETE FROM users WHERE name LIKE '%e%'",
                 [],
                 [],
                 state
               )
    end

    test "outside a transaction they are all or nothing", %{state: state} do
      sql = "INSERT INTO users (name) VALUES ('a'); INSERT INTO users (name) VALUES ('a')"

      assert {:error, %Error{message: message}, state} =
               EctoLibSql.handle_execute(q(sql), [], [], state)

      assert message =~ "UNIQUE constraint failed"
      assert count(state) == 0
      assert {:idle, state} = EctoLibSql.handle_status([], state)

      # the connection goes on as before
      assert {:ok, _, %Result{num_rows: 1}, _} =
               EctoLibSql.handle_execute("INSERT INTO users (name) VALUES ('b')", [], [], state)
    end

    test "inside a transaction a failure undoes them and leaves the transaction usable", %{
      state: state
    } do
      {:ok, :begin, t} = EctoLibSql.handle_begin([], state)

      {:ok, _, _, t} =
        EctoLibSql.handle_execute("INSERT INTO users (name) VALUES ('x')", [], [], t)

      sql = "INSERT INTO users (name) VALUES ('y'); INSERT INTO users (name) VALUES ('x')"
      assert {:error, %Error{}, t} = EctoLibSql.handle_execute(q(sql), [], [], t)
      assert {:transaction, t} = EctoLibSql.handle_status([], t)
      assert count(t) == 1

      {:ok, _, _, t} =
        EctoLibSql.handle_execute(
          "INSERT INTO users (name) VALUES ('y'); INSERT INTO users (name) VALUES ('z')",
          [],
          [],
          t
        )

      {:ok, _, state} = EctoLibSql.handle_commit([], t)
      assert count(state) == 3
    end

    test "with parameters they are refused, and nothing runs", %{state: state} do
      sql = "INSERT INTO users (name) VALUES (?); INSERT INTO users (name) VALUES (?)"

      assert {:error, %Error{message: message}, state} =
               EctoLibSql.handle_execute(q(sql), ["a", "b"], [], state)

      assert message =~ "the SQL holds 2 statements: parameters bind to one statement"
      assert count(state) == 0

      assert {:error, %Error{message: "the SQL holds 2 statements" <> _}, _} =
               EctoLibSql.handle_execute(
                 "SELECT :a; SELECT :b",
                 %{a: 1, b: 2},
                 [],
                 state
               )
    end

    test "statements are split where SQLite splits them", %{state: state} do
      # (A replica prepares statements on its local file, where a table created in the same
      # unit does not exist yet: the table comes first.)
      {:ok, _, _, state} =
        EctoLibSql.handle_execute("CREATE TABLE log (name TEXT)", [], [], state)

      sql = """
      CREATE TRIGGER users_log AFTER INSERT ON users BEGIN
        INSERT INTO log VALUES (NEW.name);
        INSERT INTO log VALUES (NEW.name || ';');
      END;
      -- a comment; not a statement
      INSERT INTO users (name) VALUES ('t') /* ; */;
      SELECT name FROM log ORDER BY rowid;
      """

      assert {:ok, _, %Result{rows: [["t"], ["t;"]]}, _} =
               EctoLibSql.handle_execute(q(sql), [], [], state)
    end

    # A trailing semicolon or comment does not make a second statement.
    test "one statement with a trailing semicolon is one statement", %{state: state} do
      assert {:ok, _, %Result{rows: [[1]]}, _} =
               EctoLibSql.handle_execute("SELECT ?; -- done", [1], [], state)
    end
  end
end

defmodule EctoLibSql.Driver.SeveralStatementsTest.ScriptTransactions do
  # Statements that control transactions themselves run as written.
  use ExUnit.Case, async: true

  alias EctoLibSql.{Error, Query, Result}

  setup do
    {:ok, state} = EctoLibSql.connect(database: ":memory:")
    {:ok, _, _, state} = EctoLibSql.handle_execute("CREATE TABLE t (x UNIQUE)", [], [], state)
    %{state: state}
  end

  test "BEGIN ... COMMIT in the SQL commits", %{state: state} do
    sql =
      "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); COMMIT; SELECT count(*) FROM t"

    assert {:ok, _, %Result{rows: [[2]]}, state} =
             EctoLibSql.handle_execute(%Query{statement: sql}, [], [], state)

    assert {:idle, _} = EctoLibSql.handle_status([], state)
  end

  test "a failure inside the SQL's own transaction rolls it back", %{state: state} do
    sql = "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (1); COMMIT"

    assert {:error, %Error{message: "UNIQUE constraint failed" <> _}, state} =
             EctoLibSql.handle_execute(%Query{statement: sql}, [], [], state)

    assert {:idle, state} = EctoLibSql.handle_status([], state)

    assert {:ok, _, %Result{rows: [[0]]}, _} =
             EctoLibSql.handle_execute("SELECT count(*) FROM t", [], [], state)
  end
end
