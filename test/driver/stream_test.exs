defmodule EctoLibSql.Driver.StreamTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Query, Result}

  @rows "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i FROM c"

  setup do
    path = tmp_db()
    {:ok, pool} = DBConnection.start_link(EctoLibSql, database: path, pool_size: 1)
    %{pool: pool, path: path}
  end

  defp q(sql), do: %Query{statement: sql}

  test "inside a transaction, in batches of max_rows", %{pool: pool} do
    assert {:ok, batches} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.stream(conn, q(@rows), [1200], max_rows: 500)
               |> Enum.map(fn %Result{command: :select, columns: ["i"], num_rows: n} -> n end)
             end)

    # Every batch of rows is :cont; the fetch after the last row is an empty :halt.
    assert batches == [500, 500, 200, 0]
  end

  test "the default batch is 500 rows, or the connection's :max_rows", %{path: path, pool: pool} do
    {:ok, sizes} =
      DBConnection.transaction(pool, fn conn ->
        DBConnection.stream(conn, q(@rows), [1001]) |> Enum.map(& &1.num_rows)
      end)

    assert Enum.take(sizes, 2) == [500, 500]

    {:ok, small} = DBConnection.start_link(EctoLibSql, database: path, pool_size: 1, max_rows: 7)

    {:ok, sizes} =
      DBConnection.transaction(small, fn conn ->
        DBConnection.stream(conn, q(@rows), [20]) |> Enum.map(& &1.num_rows)
      end)

    assert Enum.take(sizes, 3) == [7, 7, 6]
  end

  test "via run/3 without a transaction", %{pool: pool} do
    values =
      DBConnection.run(pool, fn conn ->
        DBConnection.stream(conn, q(@rows), [1000], max_rows: 333)
        |> Stream.flat_map(& &1.rows)
        |> Enum.map(fn [i] -> i end)
      end)

    assert values == Enum.to_list(1..1000)
  end

  test "sees the transaction's own writes", %{pool: pool} do
    DBConnection.execute!(pool, q("CREATE TABLE t(x)"), [])

    {:ok, rows} =
      DBConnection.transaction(pool, fn conn ->
        DBConnection.execute!(conn, q("INSERT INTO t VALUES (1), (2)"), [])
        DBConnection.stream(conn, q("SELECT x FROM t"), []) |> Enum.flat_map(& &1.rows)
      end)

    assert rows == [[1], [2]]
  end

  test "stopping early closes the cursor", %{pool: pool, path: path} do
    DBConnection.execute!(pool, q("CREATE TABLE t(i)"), [])
    DBConnection.execute!(pool, q("INSERT INTO t " <> @rows), [1000])

    {:ok, first} =
      DBConnection.transaction(pool, fn conn ->
        DBConnection.stream(conn, q("SELECT i FROM t"), [], max_rows: 10) |> Enum.take(1)
      end)

    assert [%Result{num_rows: 10}] = first
    # the cursor's statement was closed: it holds no read lock, so another connection can
    # take an exclusive one at once
    other = connect!(database: path, busy_timeout: 0)
    assert {:ok, t} = EctoLibSql.Native.begin(other, behavior: :exclusive)
    {:ok, _} = EctoLibSql.Native.rollback(t)
  end

  test "errors while declaring or fetching", %{pool: pool} do
    assert_raise Error, "no such table: nope", fn ->
      DBConnection.run(pool, fn conn ->
        DBConnection.stream(conn, q("SELECT * FROM nope"), []) |> Enum.to_list()
      end)
    end

    assert_raise Error, "integer overflow", fn ->
      DBConnection.run(pool, fn conn ->
        DBConnection.stream(conn, q("SELECT abs(-9223372036854775808)"), []) |> Enum.to_list()
      end)
    end

    assert DBConnection.execute!(pool, q("SELECT 1"), []).rows == [[1]]
  end
end
