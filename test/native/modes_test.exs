# One set of driver behaviours run four times: on a local database file, on a real remote
# server (tursodb --sync-server, npm turso) and on the Hrana 3 test server (streams, batons,
# get_autocommit, describe) over HTTP and over WebSocket, through remote mode.
Code.require_file("../support/tursodb_server.exs", __DIR__)
Code.require_file("../support/hrana_server.exs", __DIR__)

for mode <- [:local, :remote, :hrana, :websocket] do
  defmodule Module.concat(EctoLibSql.Native.ModesTest, Macro.camelize(to_string(mode))) do
    use ExUnit.Case, async: mode == :local

    import EctoLibSql.TestHelpers
    alias EctoLibSql.{Error, Native, Result}

    @mode mode
    if mode == :remote do
      if reason = EctoLibSql.TursodbServer.missing(), do: @moduletag(skip: reason)
      @moduletag :remote
    end

    if mode in [:hrana, :websocket] do
      if reason = EctoLibSql.HranaServer.missing(), do: @moduletag(skip: reason)
      @moduletag :remote
    end

    setup do
      s =
        case @mode do
          :local ->
            connect!(database: tmp_db())

          :remote ->
            server = EctoLibSql.TursodbServer.start!()
            on_exit(fn -> EctoLibSql.TursodbServer.stop(server) end)
            connect!(uri: server.url, auth_token: "token")

          :hrana ->
            server = EctoLibSql.HranaServer.start!(token: "token")
            on_exit(fn -> EctoLibSql.HranaServer.stop(server) end)
            connect!(uri: server.url, auth_token: "token")

          :websocket ->
            server = EctoLibSql.HranaServer.start!(token: "token")
            on_exit(fn -> EctoLibSql.HranaServer.stop(server) end)
            connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "token")
        end

      {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x, UNIQUE(x))", [])

      %{s: s}
    end

    test "mode is reported", %{s: s} do
      assert s.mode == if(@mode == :local, do: :local, else: :remote)
    end

    test "every value type round-trips", %{s: s} do
      big = String.duplicate("é✓", 20_000)
      blob = :crypto.strong_rand_bytes(100_000)

      values = [
        nil,
        0,
        -1,
        9_223_372_036_854_775_807,
        -9_223_372_036_854_775_808,
        1.5,
        -0.25,
        1.0e300,
        "unicode ✓ 日本",
        big,
        <<>>,
        <<0, 255, 1>>,
        blob
      ]

      for {v, i} <- Enum.with_index(values) do
        assert {:ok, %Result{num_rows: 1}} =
                 Native.execute(s, "INSERT INTO t(id, x) VALUES (?, ?)", [i, v])
      end

      assert rows!(s, "SELECT x FROM t ORDER BY id") == Enum.map(values, &[&1])
      assert rows!(s, "SELECT typeof(x) FROM t WHERE id = 3") == [["integer"]]
    end

    test "named parameters with each prefix", %{s: s} do
      {:ok, _} = Native.execute(s, "INSERT INTO t(id, x) VALUES (:id, @x)", %{id: 1, x: "a"})
      {:ok, _} = Native.execute(s, "INSERT INTO t(id, x) VALUES ($id, :x)", %{"id" => 2, x: "b"})
      assert rows!(s, "SELECT id, x FROM t ORDER BY id") == [[1, "a"], [2, "b"]]

      assert {:error, %Error{message: "Missing required parameters: :x" <> _}} =
               Native.execute(s, "INSERT INTO t(x) VALUES (:x)", %{y: 1})

      assert {:error, %Error{message: "wrong number of parameters" <> _}} =
               Native.execute(s, "INSERT INTO t(x) VALUES (?)", [1, 2])
    end

    test "changes and last_insert_rowid", %{s: s} do
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (?)", ["a"])
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (?)", ["b"])
      assert Native.get_last_insert_rowid(s) == 2

      assert {:ok, %Result{command: :update, num_rows: 2}} =
               Native.execute(s, "UPDATE t SET x = x || '!'", [])

      assert Native.get_changes(s) == 2
      assert {:ok, %Result{num_rows: 0}} = Native.execute(s, "DELETE FROM t WHERE id > 10", [])

      assert {:ok, %Result{rows: [[1, "a!"]]}} =
               Native.execute(s, "UPDATE t SET x = 'a!' WHERE id = 1 RETURNING id, x", [])
    end

    test "empty results, errors and constraint codes", %{s: s} do
      assert {:ok, %Result{columns: ["id"], rows: [], num_rows: 0}} =
               Native.execute(s, "SELECT id FROM t", [])

      assert {:error, %Error{sqlite: %{code: :error}}} = Native.execute(s, "SELEC 1", [])
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES ('a')", [])

      assert {:error, %Error{sqlite: %{extended: :constraint_unique}} = e} =
               Native.execute(s, "INSERT INTO t(x) VALUES ('a')", [])

      assert e.message =~ "UNIQUE constraint failed"
      if @mode != :local, do: assert(is_binary(e.sqlite.remote_code))
      assert {:error, %Error{}} = Native.execute(s, "SELECT * FROM missing_table", [])
    end

    test "transactions commit and roll back", %{s: s} do
      {:ok, t} = Native.begin(s)
      assert Native.get_is_autocommit(s) == false
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (1)", [])
      {:ok, _} = Native.commit(t)
      assert Native.get_is_autocommit(s) == true
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (2)", [])
      assert rows!(t, "SELECT count(*) FROM t") == [[2]]
      {:ok, _} = Native.rollback(t)
      assert rows!(s, "SELECT x FROM t") == [[1]]
    end

    test "savepoints inside a transaction", %{s: s} do
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (1)", [])
      :ok = Native.create_savepoint(t, "sp")
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (2)", [])
      :ok = Native.rollback_to_savepoint_by_name(t, "sp")
      :ok = Native.release_savepoint_by_name(t, "sp")
      {:ok, _} = Native.commit(t)
      assert rows!(s, "SELECT x FROM t") == [[1]]
    end

    test "batch runs steps in order and stops at the first failure", %{s: s} do
      assert {:ok, [%Result{num_rows: 1}, %Result{num_rows: 1}, %Result{rows: [["a"], ["b"]]}]} =
               Native.batch(s, [
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"INSERT INTO t(x) VALUES (:x)", %{x: "b"}},
                 {"SELECT x FROM t ORDER BY id", []}
               ])

      assert {:error, "Batch statement error: " <> _} =
               Native.batch(s, [
                 {"INSERT INTO t(x) VALUES ('c')", []},
                 {"INSERT INTO t(x) VALUES ('a')", []},
                 {"INSERT INTO t(x) VALUES ('d')", []}
               ])

      assert rows!(s, "SELECT x FROM t ORDER BY id") == [["a"], ["b"], ["c"]]
    end

    test "transactional batch is all or nothing, also inside a transaction", %{s: s} do
      assert {:error, "Batch statement error: " <> _} =
               Native.batch_transactional(s, [
                 {"INSERT INTO t(x) VALUES ('a')", []},
                 {"INSERT INTO t(x) VALUES ('a')", []}
               ])

      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
      assert Native.get_is_autocommit(s)

      assert {:ok, [_, _]} =
               Native.batch_transactional(s, [
                 {"INSERT INTO t(x) VALUES ('a')", []},
                 {"INSERT INTO t(x) VALUES ('b')", []}
               ])

      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES ('c')", [])

      assert {:error, "Batch statement error: " <> _} =
               Native.batch_transactional(t, [
                 {"INSERT INTO t(x) VALUES ('d')", []},
                 {"INSERT INTO t(x) VALUES ('a')", []}
               ])

      {:ok, _} = Native.commit(t)
      assert rows!(s, "SELECT x FROM t ORDER BY id") == [["a"], ["b"], ["c"]]
    end

    test "scripts split into statements", %{s: s} do
      assert {:ok, _} =
               Native.execute_batch_sql(s, """
               INSERT INTO t(x) VALUES ('a');
               CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = x || '+' WHERE id = new.id; END;
               INSERT INTO t(x) VALUES ('b');
               """)

      assert rows!(s, "SELECT x FROM t ORDER BY id") == [["a"], ["b+"]]
    end

    test "prepared statements run again with new arguments", %{s: s} do
      {:ok, stmt} = Native.prepare(s, "INSERT INTO t(x) VALUES (?)")
      for v <- 1..5, do: assert({:ok, 1} = Native.execute_stmt(s, stmt, "", [v]))
      {:ok, q} = Native.prepare(s, "SELECT x FROM t WHERE x > ? ORDER BY x")
      assert {:ok, %Result{rows: [[4], [5]]}} = Native.query_stmt(s, q, [3])
      assert {:ok, %Result{rows: [[5]]}} = Native.query_stmt(s, q, [4])
      assert Native.stmt_parameter_count(s, q) == {:ok, 1}
      :ok = Native.close_stmt(q)
      assert {:error, "Statement not found: it is closed"} = Native.query_stmt(s, q, [1])
    end

    test "cursors read in pages", %{s: s} do
      values = Enum.map_join(1..250, ", ", &"(#{&1})")
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES " <> values, [])
      {:ok, cursor} = Native.declare_cursor(s, "SELECT x FROM t ORDER BY x", [])
      assert {:cont, %Result{num_rows: 100, rows: [[1] | _]}} = Native.fetch(s, cursor, 100)
      assert {:cont, %Result{num_rows: 100}} = Native.fetch(s, cursor, 100)
      assert {_, %Result{num_rows: 50}} = Native.fetch(s, cursor, 100)
      assert :ok = Native.close_cursor(cursor)
    end

    test "closed connections refuse calls", %{s: s} do
      Native.close(s)
      assert {:error, %Error{}} = Native.execute(s, "SELECT 1", [])
    end
  end
end
