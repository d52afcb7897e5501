defmodule EctoLibSql.Native.ConnectionTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, NIF, Result, State}

  describe "connect/1" do
    test "opens a local file and answers a State" do
      path = tmp_db()

      assert {:ok, %State{conn_id: conn, trx_id: nil, mode: :local, sync: :disable_sync} = s} =
               Native.connect(database: path)

      assert is_reference(conn)
      assert File.exists?(path)
      assert NIF.mode(conn) == :local
      assert :ok = Native.close(s)
    end

    test "opens :memory: databases that are private to each connection" do
      a = connect!()
      b = connect!()
      {:ok, _} = Native.execute(a, "CREATE TABLE t(x)")
      assert {:error, %Error{message: "no such table: t"}} = Native.execute(b, "SELECT * FROM t")
    end

    test "keeps the options in the state" do
      s = connect!(database: ":memory:", busy_timeout: 10, max_rows: 3)
      assert s.opts[:busy_timeout] == 10
      assert s.opts[:max_rows] == 3
    end

    test "applies foreign_keys, journal_mode and synchronous" do
      path = tmp_db()
      s = connect!(database: path, foreign_keys: true, journal_mode: :wal, synchronous: :normal)
      assert rows!(s, "PRAGMA foreign_keys") == [[1]]
      assert rows!(s, "PRAGMA journal_mode") == [["wal"]]
      assert rows!(s, "PRAGMA synchronous") == [[1]]

      s2 = connect!(database: path, foreign_keys: false, synchronous: 3)
      assert rows!(s2, "PRAGMA foreign_keys") == [[0]]
      assert rows!(s2, "PRAGMA synchronous") == [[3]]
    end

    test "read_only: true refuses writes" do
      path = tmp_db()
      rw = connect!(database: path)
      {:ok, _} = Native.execute(rw, "CREATE TABLE t(x)")
      ro = connect!(database: path, read_only: true)
      assert rows!(ro, "SELECT count(*) FROM t") == [[0]]

      assert {:error, %Error{sqlite: %{code: :readonly}}} =
               Native.execute(ro, "INSERT INTO t VALUES (1)")
    end

    test "a read-only connection to a missing file fails with SQLite's reason" do
      path = tmp_db()
      assert {:error, %Error{message: message}} = Native.connect(database: path, read_only: true)
      assert message =~ "unable to open database file"
    end

    test "a path in a missing directory fails cleanly" do
      assert {:error, %Error{message: message, sqlite: %{code: :cantopen}}} =
               Native.connect(database: "/nonexistent/dir/x.db")

      assert message =~ "/nonexistent/dir/x.db"
    end

    test "missing or ill-typed options raise ArgumentError" do
      assert_raise ArgumentError, ~r/must be a string/, fn -> Native.connect(database: 1) end
      assert_raise ArgumentError, ~r/must be a string/, fn -> Native.connect(database: :x) end

      assert_raise ArgumentError, ~r/non-negative integer/, fn ->
        Native.connect(database: ":memory:", busy_timeout: -1)
      end

      assert_raise ArgumentError, ~r/boolean/, fn ->
        Native.connect(database: ":memory:", read_only: "yes")
      end

      assert_raise ArgumentError, ~r/invalid value for :journal_mode/, fn ->
        Native.connect(database: ":memory:", journal_mode: :bogus)
      end

      assert_raise ArgumentError, ~r/invalid value for :synchronous/, fn ->
        Native.connect(database: ":memory:", synchronous: 7)
      end

      assert_raise ArgumentError, ~r/missing required option :auth_token/, fn ->
        Native.open([uri: "libsql://x", database: "x"], :remote)
      end

      assert_raise FunctionClauseError, fn -> Native.connect("database=x") end
    end

    test "an empty database path is refused" do
      assert_raise ArgumentError, fn -> Native.connect(database: "") end
    end

    test "no mode option gives Unknown mode, saying what is missing" do
      assert {:error, %Error{message: "Unknown mode: no :database or :uri option given" <> _}} =
               Native.connect([])

      assert {:error, %Error{message: "Unknown mode: " <> _}} = Native.connect(foo: 1)
    end
  end

  describe "compatibility connect/2" do
    test "answers the bare connection handle" do
      conn = Native.connect([database: ":memory:"], :local)
      assert is_reference(conn)
      assert Native.ping(conn) == true
      assert :ok = Native.close(conn, :conn_id)
    end

    test "answers {:error, message} for an unknown mode" do
      assert {:error, "Unknown mode"} = Native.connect([database: ":memory:"], :bogus)
    end

    test "raises ArgumentError when the mode's options are missing" do
      assert_raise ArgumentError, fn -> Native.connect([], :local) end
      assert_raise ArgumentError, fn -> Native.connect([uri: "libsql://x"], :remote) end
    end
  end

  describe "open/2" do
    test "answers {:ok, conn} or an Error" do
      assert {:ok, conn} = Native.open([database: ":memory:"], :local)
      assert :ok = NIF.close(conn)
      assert {:error, %Error{message: "Unknown mode"}} = Native.open([], :unknown)
    end
  end

  describe "ping/1 and close" do
    test "ping answers true while open and an error once closed" do
      s = connect!()
      assert Native.ping(s.conn_id) == true
      :ok = Native.close(s)
      assert {:error, "Ping error: Connection not found: it is closed"} = Native.ping(s.conn_id)
    end

    test "close/1 is idempotent and every later call answers an error" do
      s = connect!()
      assert :ok = Native.close(s)
      assert :ok = Native.close(s)

      assert {:error, %Error{message: "Connection not found: it is closed"}} =
               Native.execute(s, "SELECT 1")

      assert {:error, "Connection not found: it is closed"} = Native.begin(s)

      assert {:error, "Prepare failed: Connection not found: it is closed"} =
               Native.prepare(s, "SELECT 1")

      assert {:error, "Connection not found: it is closed"} = Native.get_changes(s)
      assert {:error, "Connection not found: it is closed"} = Native.busy_timeout(s, 1)
      assert {:error, "Connection not found: it is closed"} = Native.reset(s)
      assert {:error, "Connection not found: it is closed"} = Native.add_update_hook(s)
      assert {:error, "Connection not found: it is closed"} = Native.enable_extensions(s, true)
      assert {:error, "Sync error: Connection not found: it is closed"} = Native.sync(s)
      assert {:error, %Error{}} = Native.declare_cursor(s, "SELECT 1", [])
      assert {:error, "Batch statement error: " <> _} = Native.batch(s, [{"SELECT 1", []}])
      assert {:error, "batch failed: " <> _} = Native.execute_batch_sql(s, "SELECT 1")
      # interrupt is safe at any time, even on a closed connection
      assert :ok = Native.interrupt(s)
    end

    test "close/2 closes each kind of handle" do
      s = connect!()
      {:ok, stmt} = Native.prepare(s, "SELECT 1")
      {:ok, cursor} = Native.declare_cursor(s, "SELECT 1", [])
      assert :ok = Native.close(stmt, :stmt_id)
      assert {:error, "Statement not found: it is closed"} = Native.query_stmt(s, stmt, [])
      assert :ok = Native.close(cursor, :cursor_id)
      assert {:error, %Error{message: "Cursor not found: it is closed"}} = Native.fetch(s, cursor)
      assert :ok = Native.close(s.conn_id, :conn_id)
      assert {:error, "opt is incorrect"} = Native.close(s.conn_id, :bogus)
    end

    test "close/2 with :trx_id rolls the transaction back" do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
      assert :ok = Native.close(t.trx_id, :trx_id)
      assert Native.get_is_autocommit(s) == true
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
      assert {:error, "Transaction not found"} = Native.close(t.trx_id, :trx_id)
    end

    test "close/2 with a handle of the wrong kind answers that it found none" do
      s = connect!()

      assert {:error, "Statement not found: not a statement handle"} =
               Native.close(s.conn_id, :stmt_id)

      assert {:error, "Cursor not found: not a cursor handle"} =
               Native.close(s.conn_id, :cursor_id)

      assert {:error, "Connection not found: not a connection handle"} =
               Native.close(make_ref(), :conn_id)
    end

    test "close_conn/3 answers :ok or {:error, message, state}" do
      s = connect!()
      {:ok, t} = Native.begin(s)
      :ok = Native.commit(t) |> elem(0)
      assert :ok = Native.close_conn(s.conn_id, :conn_id, s)
      assert {:error, "Transaction not found", ^s} = Native.close_conn(t.trx_id, :trx_id, s)
      assert {:error, "opt is incorrect", ^s} = Native.close_conn(s.conn_id, :nope, s)
    end

    test "closing a connection closes its statements and cursors" do
      {:ok, s} = Native.connect(database: ":memory:")
      {:ok, stmt} = Native.prepare(s, "SELECT 1")
      {:ok, cursor} = Native.declare_cursor(s, "SELECT 1", [])
      :ok = Native.close(s)
      assert {:error, "Statement not found: it is closed"} = Native.query_stmt(s, stmt, [])
      assert {:error, %Error{}} = Native.fetch(s, cursor)
      # closing handles of a closed connection is still fine
      assert :ok = Native.close_stmt(stmt)
      assert :ok = Native.close_cursor(cursor)
    end
  end

  describe "execute/3 basics" do
    test "answers Result structs with a command" do
      s = connect!()

      assert {:ok, %Result{command: :create, columns: nil, rows: nil, num_rows: 0}} =
               Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")

      assert {:ok, %Result{command: :insert, num_rows: 2}} =
               Native.execute(s, "INSERT INTO t(x) VALUES (1), (2)")

      assert {:ok, %Result{command: :update, num_rows: 2}} =
               Native.execute(s, "UPDATE t SET x = 0")

      assert {:ok, %Result{command: :select, columns: ["id", "x"], rows: [[1, 0], [2, 0]]}} =
               Native.execute(s, "SELECT * FROM t ORDER BY id")

      assert {:ok, %Result{command: :delete, num_rows: 1}} =
               Native.execute(s, "DELETE FROM t WHERE id = ?", [1])

      assert {:ok, %Result{command: :select, columns: ["id"], rows: [], num_rows: 0}} =
               Native.execute(s, "SELECT id FROM t WHERE id > 100")
    end

    test "num_rows counts REPLACE and CTE inserts" do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
      assert {:ok, %Result{num_rows: 1}} = Native.execute(s, "REPLACE INTO t VALUES (1, 2)")

      assert {:ok, %Result{command: :insert, num_rows: 2}} =
               Native.execute(
                 s,
                 "WITH v(a) AS (VALUES (5), (6)) INSERT INTO t(x) SELECT a FROM v"
               )
    end

    test "RETURNING answers rows" do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")

      assert {:ok, %Result{command: :insert, columns: ["id", "x"], rows: [[1, "a"]], num_rows: 1}} =
               Native.execute(s, "INSERT INTO t(x) VALUES (?) RETURNING id, x", ["a"])
    end

    test "errors carry SQLite's codes" do
      s = connect!()

      assert {:error, %Error{message: "near \"SELEC\": syntax error", sqlite: %{code: :error}}} =
               Native.execute(s, "SELEC 1")

      assert {:error, %Error{message: "the SQL holds no statement"}} = Native.execute(s, "")
      assert {:error, %Error{message: "the SQL holds no statement"}} = Native.execute(s, "-- c")
    end

    test "a handle that is no handle answers an error; SQL of the wrong type raises" do
      s = connect!()

      assert {:error, %Error{message: "Connection not found: not a connection handle"}} =
               Native.execute(%State{conn_id: make_ref()}, "SELECT 1")

      assert {:error, {:ecto_libsql_error, _, :misuse, _, "Transaction not found" <> _, nil, nil}} =
               NIF.query(s.conn_id, :not_a_trx, "SELECT 1", [])

      assert_raise ArgumentError, fn -> NIF.query(s.conn_id, nil, 123, []) end
      assert_raise FunctionClauseError, fn -> Native.execute(s, :sql) end
    end
  end
end
