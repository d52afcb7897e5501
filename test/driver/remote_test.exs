# The DBConnection driver in remote mode, against the Hrana test server (every pooled
# connection has its own streams) and against tursodb.
Code.require_file("../support/hrana_server.exs", __DIR__)
Code.require_file("../support/tursodb_server.exs", __DIR__)

defmodule EctoLibSql.Driver.RemoteTest do
  use ExUnit.Case, async: false

  alias EctoLibSql.{Error, HranaServer, Query, Result, TursodbServer}

  if reason = HranaServer.missing() || TursodbServer.missing(), do: @moduletag(skip: reason)
  @moduletag :remote

  defp q(sql), do: %Query{statement: sql}

  setup do
    server = HranaServer.start!(token: "secret")
    on_exit(fn -> HranaServer.stop(server) end)

    {:ok, pool} =
      DBConnection.start_link(EctoLibSql,
        uri: server.url,
        auth_token: "secret",
        pool_size: 4,
        # 200 requests on 4 connections must all be served, however slow the run
        queue_target: 5_000,
        queue_interval: 10_000
      )

    DBConnection.execute!(pool, q("CREATE TABLE t(id INTEGER PRIMARY KEY, x, UNIQUE(x))"), [])
    %{pool: pool, server: server}
  end

  test "execute, prepare and errors", %{pool: pool} do
    assert {:ok, _, %Result{command: :insert, num_rows: 1}} =
             DBConnection.execute(pool, q("INSERT INTO t(x) VALUES (?)"), ["a"])

    assert {:ok, %Query{} = query} = DBConnection.prepare(pool, q("SELECT ? + 1"))
    assert {:ok, _, %Result{rows: [[2]]}} = DBConnection.execute(pool, query, [1])

    assert {:error, %Error{sqlite: %{code: :constraint}}} =
             DBConnection.execute(pool, q("INSERT INTO t(x) VALUES (?)"), ["a"])

    assert %Result{rows: [[1]]} = DBConnection.execute!(pool, q("SELECT count(*) FROM t"), [])
  end

  test "transactions commit and roll back", %{pool: pool} do
    assert {:ok, :done} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t(x) VALUES ('a')"), [])
               :done
             end)

    assert {:error, :undo} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t(x) VALUES ('c')"), [])
               DBConnection.rollback(conn, :undo)
             end)

    assert %Result{rows: [["a"]]} = DBConnection.execute!(pool, q("SELECT x FROM t"), [])
  end

  test "streams page through a result inside a transaction", %{pool: pool} do
    values = Enum.map_join(1..300, ", ", &"(#{&1})")
    DBConnection.execute!(pool, q("INSERT INTO t(x) VALUES " <> values), [])

    {:ok, counts} =
      DBConnection.transaction(pool, fn conn ->
        DBConnection.stream(conn, q("SELECT x FROM t ORDER BY x"), [], max_rows: 100)
        |> Enum.map(fn %Result{num_rows: n} -> n end)
      end)

    assert Enum.sum(counts) == 300
  end

  # The test server runs on one Node thread and cannot wait for SQLite locks, so concurrent
  # writers use autocommit statements; transactions run beside them as readers.
  test "concurrent requests through the pool lose nothing", %{pool: pool} do
    1..200
    |> Task.async_stream(
      fn i ->
        if rem(i, 4) == 0 do
          {:ok, %Result{}} =
            DBConnection.transaction(pool, fn conn ->
              DBConnection.execute!(conn, q("SELECT count(*) FROM t"), [])
            end)
        else
          %Result{num_rows: 1} =
            DBConnection.execute!(pool, q("INSERT INTO t(x) VALUES (?)"), [i])
        end
      end,
      max_concurrency: 8,
      timeout: 60_000
    )
    |> Stream.run()

    assert %Result{rows: [[150]]} = DBConnection.execute!(pool, q("SELECT count(*) FROM t"), [])
  end

  test "a pool against tursodb" do
    server = TursodbServer.start!()
    on_exit(fn -> TursodbServer.stop(server) end)

    {:ok, pool} =
      DBConnection.start_link(EctoLibSql, uri: server.url, auth_token: "t", pool_size: 1)

    DBConnection.execute!(pool, q("CREATE TABLE r(x)"), [])

    {:ok, _} =
      DBConnection.transaction(pool, fn conn ->
        DBConnection.execute!(conn, q("INSERT INTO r VALUES (?)"), [1])
      end)

    assert %Result{rows: [[1]]} = DBConnection.execute!(pool, q("SELECT x FROM r"), [])
  end
end
