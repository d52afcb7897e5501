defmodule EctoLibSql.Driver.PoolTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  import ExUnit.CaptureLog
  alias EctoLibSql.{Native, Query, Result}

  defp q(sql), do: %Query{statement: sql}

  defp start_pool(path, opts) do
    test = self()
    # DBConnection sends {:connected, connection_pid} and {:disconnected, connection_pid}
    {:ok, pool} =
      DBConnection.start_link(
        EctoLibSql,
        Keyword.merge(
          [
            database: path,
            journal_mode: :wal,
            busy_timeout: 30_000,
            connection_listeners: [test],
            # these tests count rows, not load shedding: a slow (sanitized) run must not drop
            # checkouts that queue past DBConnection's default 50 ms target
            queue_target: 5_000,
            queue_interval: 10_000
          ],
          opts
        )
      )

    pool
  end

  test "a pool of several connections serves concurrent clients" do
    path = tmp_db()
    pool = start_pool(path, pool_size: 4)
    for _ <- 1..4, do: assert_receive({:connected, _}, 5_000)
    DBConnection.execute!(pool, q("CREATE TABLE t(worker, n)"), [])
    parent = self()

    1..12
    |> Enum.map(fn worker ->
      Task.async(fn ->
        for n <- 1..25 do
          {:ok, _} =
            DBConnection.transaction(pool, fn conn ->
              DBConnection.execute!(conn, q("INSERT INTO t VALUES (?, ?)"), [worker, n])
              # several clients hold connections at once
              if n == 1, do: send(parent, {:holding, worker})
            end)
        end
      end)
    end)
    |> Task.await_many(60_000)

    for w <- 1..12, do: assert_received({:holding, ^w})

    assert %Result{rows: [[300, 12]]} =
             DBConnection.execute!(pool, q("SELECT count(*), count(DISTINCT worker) FROM t"), [])
  end

  test "disconnect_all reconnects; the data stays" do
    path = tmp_db()
    pool = start_pool(path, pool_size: 1)
    assert_receive {:connected, first}, 5_000
    DBConnection.execute!(pool, q("CREATE TABLE t(x)"), [])
    DBConnection.execute!(pool, q("INSERT INTO t VALUES (1)"), [])
    :ok = DBConnection.disconnect_all(pool, 0)
    # the disconnect happens when the connection is next checked out
    assert %Result{rows: [[1]]} = DBConnection.execute!(pool, q("SELECT count(*) FROM t"), [])
    assert_receive {:disconnected, ^first}, 5_000
    assert_receive {:connected, ^first}, 5_000
    DBConnection.execute!(pool, q("INSERT INTO t VALUES (2)"), [])
    assert %Result{rows: [[2]]} = DBConnection.execute!(pool, q("SELECT count(*) FROM t"), [])
  end

  test "a connection process that dies is replaced" do
    path = tmp_db()
    pool = start_pool(path, pool_size: 1)
    assert_receive {:connected, first}, 5_000
    DBConnection.execute!(pool, q("CREATE TABLE t(x)"), [])

    capture_log(fn ->
      Process.exit(first, :kill)
      assert_receive {:connected, second}, 5_000
      assert second != first
    end)

    assert eventually(fn ->
             match?({:ok, _, _}, DBConnection.execute(pool, q("INSERT INTO t VALUES (1)"), []))
           end)
  end

  test "a client killed during a transaction: the connection comes back clean" do
    path = tmp_db()
    pool = start_pool(path, pool_size: 1)
    assert_receive {:connected, _}, 5_000
    DBConnection.execute!(pool, q("CREATE TABLE t(x)"), [])
    parent = self()

    log =
      capture_log(fn ->
        client =
          spawn(fn ->
            DBConnection.transaction(
              pool,
              fn conn ->
                DBConnection.execute!(conn, q("INSERT INTO t VALUES ('lost')"), [])
                send(parent, :in_transaction)
                Process.sleep(:infinity)
              end,
              mode: :immediate
            )
          end)

        assert_receive :in_transaction, 5_000
        other = connect!(database: path, busy_timeout: 0)
        assert {:error, _} = Native.execute(other, "INSERT INTO t VALUES ('other')")
        Process.exit(client, :kill)

        # the pool's connection is usable again, outside any transaction, and holds no lock
        assert {:ok, :ok} =
                 DBConnection.transaction(pool, fn conn ->
                   assert DBConnection.execute!(conn, q("SELECT count(*) FROM t"), []).rows ==
                            [[0]]

                   :ok
                 end)

        assert DBConnection.status(pool) == :idle
        assert {:ok, _} = Native.execute(other, "INSERT INTO t VALUES ('other')")
        assert rows!(other, "SELECT x FROM t") == [["other"]]
        assert rows!(other, "PRAGMA integrity_check") == [["ok"]]
      end)

    assert is_binary(log)
  end

  test "a client killed while streaming: the cursor and the connection are released" do
    path = tmp_db()
    pool = start_pool(path, pool_size: 1)
    assert_receive {:connected, _}, 5_000
    DBConnection.execute!(pool, q("CREATE TABLE t(x)"), [])

    DBConnection.execute!(
      pool,
      q(
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) INSERT INTO t SELECT i FROM c"
      ),
      []
    )

    parent = self()

    capture_log(fn ->
      client =
        spawn(fn ->
          DBConnection.run(pool, fn conn ->
            DBConnection.stream(conn, q("SELECT x FROM t"), [], max_rows: 10)
            |> Enum.each(fn _ ->
              send(parent, :streaming)
              Process.sleep(:infinity)
            end)
          end)
        end)

      assert_receive :streaming, 5_000
      Process.exit(client, :kill)

      assert %Result{rows: [[5000]]} =
               DBConnection.execute!(pool, q("SELECT count(*) FROM t"), [])
    end)

    # no read lock remains: another connection takes an exclusive lock at once
    other = connect!(database: path, busy_timeout: 0)
    assert eventually(fn -> match?({:ok, _}, Native.begin(other, behavior: :exclusive)) end)
  end
end
