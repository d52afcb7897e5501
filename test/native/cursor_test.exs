defmodule EctoLibSql.Native.CursorTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result}

  setup do
    path = tmp_db()
    s = connect!(database: path)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")

    {:ok, _} =
      Native.execute(
        s,
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) " <>
          "INSERT INTO t(x) SELECT 'row ' || i FROM c"
      )

    %{s: s, path: path}
  end

  defp drain(s, cursor, max_rows, acc \\ []) do
    case Native.fetch(s, cursor, max_rows) do
      {:cont, %Result{rows: rows}} -> drain(s, cursor, max_rows, acc ++ [length(rows)])
      {:halt, %Result{rows: rows}} -> acc ++ [length(rows)]
    end
  end

  test "declare, fetch in batches, close", %{s: s} do
    assert {:ok, cursor} = Native.declare_cursor(s, "SELECT id, x FROM t WHERE id <= ?", [250])
    assert is_reference(cursor)

    assert {:cont, %Result{command: :select, columns: ["id", "x"], rows: rows, num_rows: 100}} =
             Native.fetch(s, cursor, 100)

    assert hd(rows) == [1, "row 1"]
    assert drain(s, cursor, 100) == [100, 50]
    # exhausted: further fetches answer no rows
    assert {:halt, %Result{rows: [], num_rows: 0, columns: ["id", "x"]}} = Native.fetch(s, cursor)
    assert :ok = Native.close_cursor(cursor)
    assert :ok = Native.close_cursor(cursor)

    assert {:error, %Error{message: "Cursor not found: it is closed"}} =
             Native.fetch(s, cursor, 10)
  end

  test "default batch is 500 rows", %{s: s} do
    {:ok, cursor} = Native.declare_cursor(s, "SELECT * FROM t", [])
    assert {:cont, %Result{num_rows: 500}} = Native.fetch(s, cursor)
    assert {:cont, %Result{num_rows: 500}} = Native.fetch(s, cursor)
    assert {:halt, %Result{num_rows: 0}} = Native.fetch(s, cursor)
  end

  test "named parameters, empty results and statements that fail later", %{s: s} do
    {:ok, cursor} = Native.declare_cursor(s, "SELECT x FROM t WHERE id = :id", %{id: 3})
    assert {:halt, %Result{rows: [["row 3"]]}} = Native.fetch(s, cursor, 10)

    {:ok, empty} = Native.declare_cursor(s, "SELECT x FROM t WHERE 0", [])
    assert {:halt, %Result{columns: ["x"], rows: []}} = Native.fetch(s, empty, 10)

    {:ok, bad} = Native.declare_cursor(s, "SELECT abs(-9223372036854775808) FROM t", [])

    assert {:error, %Error{message: "integer overflow"}} = Native.fetch(s, bad, 10)
    # An errored cursor stays ended and keeps answering its error, so a result cut short never
    # reads as complete; the statement is not run again.
    assert {:error, %Error{message: "integer overflow"}} = Native.fetch(s, bad, 10)
    :ok = Native.close_cursor(bad)
  end

  test "declare errors", %{s: s} do
    assert {:error, %Error{message: "no such table: nope"}} =
             Native.declare_cursor(s, "SELECT * FROM nope", [])

    assert {:error, %Error{message: "Missing required parameters: :a. SQL requires: :a"}} =
             Native.declare_cursor(s, "SELECT :a", %{})

    assert {:error, %Error{message: "Prepare failed: the SQL holds more than one statement" <> _}} =
             Native.declare_cursor(s, "SELECT 1; SELECT 2", [])

    assert {:error, %Error{message: "unsupported argument type: " <> _}} =
             Native.declare_cursor(s, "SELECT ?", [{:tuple}])

    assert_raise FunctionClauseError, fn -> Native.declare_cursor(s, :sql, []) end
  end

  test "max_rows must be a positive integer", %{s: s} do
    {:ok, cursor} = Native.declare_cursor(s, "SELECT 1", [])

    assert {:error, %Error{message: "max_rows must be a positive integer"}} =
             Native.fetch(s, cursor, 0)

    assert_raise ArgumentError, fn -> Native.fetch(s, cursor, :all) end
    assert {:halt, %Result{rows: [[1]]}} = Native.fetch(s, cursor, 1_000_000_000)
  end

  test "a cursor of another connection is refused", %{s: s} do
    other = connect!()
    {:ok, cursor} = Native.declare_cursor(s, "SELECT 1", [])

    assert {:error, %Error{message: "Cursor does not belong to connection"}} =
             Native.fetch(other, cursor, 10)

    assert {:halt, %Result{rows: [[1]]}} = Native.fetch(s, cursor, 10)
  end

  test "handles of the wrong kind answer that no cursor was found", %{s: s} do
    {:ok, stmt} = Native.prepare(s, "SELECT 1")

    assert {:error, %Error{message: "Cursor not found: not a cursor handle"}} =
             Native.fetch(s, stmt, 1)

    assert {:error, "Cursor not found: not a cursor handle"} = Native.close_cursor(stmt)
    assert {:error, "Cursor not found: not a cursor handle"} = Native.close_cursor(:nope)
  end

  test "inside a transaction the cursor sees the transaction's writes", %{s: s} do
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "DELETE FROM t WHERE id > 10")
    {:ok, cursor} = Native.declare_cursor(t, "SELECT count(*) FROM t", [])
    assert {:halt, %Result{rows: [[10]]}} = Native.fetch(t, cursor, 10)
    {:ok, _} = Native.rollback(t)
    assert rows!(s, "SELECT count(*) FROM t") == [[1000]]
  end

  test "a cursor with an ended transaction is refused at declare", %{s: s} do
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.commit(t)

    assert {:error, %Error{message: "Transaction not found: it has already ended"}} =
             Native.declare_cursor(t, "SELECT 1", [])
  end

  test "a cursor open across its transaction's rollback is stopped, not crashed", %{s: s} do
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES ('new')")
    {:ok, cursor} = Native.declare_cursor(t, "SELECT * FROM t", [])
    {:cont, _} = Native.fetch(t, cursor, 10)
    {:ok, _} = Native.rollback(t)

    # SQLite lets a reader go on after a ROLLBACK that changed no schema: it reads the
    # rolled-back state, without the row the transaction had inserted.
    assert Enum.sum([10 | drain(s, cursor, 100)]) == 1000

    assert rows!(s, "SELECT count(*) FROM t") == [[1000]]
  end

  test "outside a transaction, an unfinished cursor does not block writers (WAL)", %{
    s: s,
    path: path
  } do
    assert rows!(s, "PRAGMA journal_mode = WAL") == [["wal"]]
    writer = connect!(database: path, busy_timeout: 0)
    {:ok, cursor} = Native.declare_cursor(s, "SELECT * FROM t", [])
    {:cont, _} = Native.fetch(s, cursor, 10)
    assert {:ok, _} = Native.execute(writer, "INSERT INTO t(x) VALUES ('w')")
    # the cursor reads its snapshot: 1000 rows in total
    assert Enum.sum([10 | drain(s, cursor, 100)]) == 1000
  end

  test "the connection stays usable while a cursor is open", %{s: s} do
    {:ok, cursor} = Native.declare_cursor(s, "SELECT id FROM t", [])
    {:cont, _} = Native.fetch(s, cursor, 10)
    assert rows!(s, "SELECT count(*) FROM t") == [[1000]]
    {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES ('more')")
    {:cont, %Result{rows: [[11] | _]}} = Native.fetch(s, cursor, 10)
  end

  describe "compatibility functions" do
    test "declare_cursor/3 with a bare connection and fetch_cursor/3", %{s: s} do
      cursor = Native.declare_cursor(s.conn_id, "SELECT id FROM t WHERE id <= 3", [])
      assert is_reference(cursor)
      assert {["id"], [[1], [2]], 2} = Native.fetch_cursor(s.conn_id, cursor, 2)
      assert {["id"], [[3]], 1} = Native.fetch_cursor(s.conn_id, cursor, 2)
      assert {["id"], [], 0} = Native.fetch_cursor(s.conn_id, cursor, 2)
      assert :ok = Native.close(cursor, :cursor_id)

      assert {:error, "Cursor not found: it is closed"} =
               Native.fetch_cursor(s.conn_id, cursor, 2)

      assert {:error, "no such table: nope"} =
               Native.declare_cursor(s.conn_id, "SELECT * FROM nope", [])
    end

    test "declare_cursor_with_context/5", %{s: s} do
      c = s.conn_id
      cursor = Native.declare_cursor_with_context(c, c, :connection, "SELECT 1", [])
      assert {["1"], [[1]], 1} = Native.fetch_cursor(c, cursor, 5)

      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "DELETE FROM t")

      cursor =
        Native.declare_cursor_with_context(
          c,
          t.trx_id,
          :transaction,
          "SELECT count(*) FROM t",
          []
        )

      assert {_, [[0]], 1} = Native.fetch_cursor(c, cursor, 5)
      {:ok, _} = Native.rollback(t)

      assert {:error, "Invalid id_type for cursor"} =
               Native.declare_cursor_with_context(c, c, :bogus, "SELECT 1", [])

      other = connect!()

      assert {:error,
              "Connection ID mismatch: provided conn_id does not match cursor connection ID"} =
               Native.declare_cursor_with_context(c, other.conn_id, :connection, "SELECT 1", [])

      {:ok, t2} = Native.begin(other)

      assert {:error, "Transaction does not belong to this connection"} =
               Native.declare_cursor_with_context(c, t2.trx_id, :transaction, "SELECT 1", [])

      assert {:error, "Transaction not found: it has already ended"} =
               Native.declare_cursor_with_context(c, t.trx_id, :transaction, "SELECT 1", [])
    end
  end
end
