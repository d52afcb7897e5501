defmodule EctoLibSql.Native.ConcurrencyTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, Result}

  @processes 50
  @rows_each 40

  test "50 processes on 50 connections to one WAL file lose nothing" do
    path = tmp_db()
    setup = connect!(database: path, journal_mode: :wal)
    {:ok, _} = Native.execute(setup, "CREATE TABLE t(worker INT, n INT, PRIMARY KEY (worker, n))")
    {:ok, _} = Native.execute(setup, "CREATE TABLE counter(id INTEGER PRIMARY KEY, value INT)")
    {:ok, _} = Native.execute(setup, "INSERT INTO counter VALUES (1, 0)")

    results =
      1..@processes
      |> Enum.map(fn worker ->
        Task.async(fn ->
          {:ok, s} = Native.connect(database: path, busy_timeout: 60_000)

          for n <- 1..@rows_each do
            # alternate plain writes, transactions and reads
            case rem(n, 3) do
              0 ->
                {:ok, %Result{num_rows: 1}} =
                  Native.execute(s, "INSERT INTO t VALUES (?, ?)", [worker, n])

              1 ->
                {:ok, t} = Native.begin(s, behavior: :immediate)
                {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (?, ?)", [worker, n])
                {:ok, _} = Native.execute(t, "UPDATE counter SET value = value + 1 WHERE id = 1")
                {:ok, _} = Native.commit(t)

              2 ->
                {:ok, _} =
                  Native.batch_transactional(s, [
                    {"INSERT INTO t VALUES (?, ?)", [worker, n]},
                    {"SELECT count(*) FROM t WHERE worker = ?", [worker]}
                  ])
            end
          end

          [[mine]] = rows!(s, "SELECT count(*) FROM t WHERE worker = ?", [worker])
          :ok = Native.close(s)
          mine
        end)
      end)
      |> Task.await_many(120_000)

    assert results == List.duplicate(@rows_each, @processes)
    assert rows!(setup, "SELECT count(*) FROM t") == [[@processes * @rows_each]]
    increments = Enum.count(1..@rows_each, &(rem(&1, 3) == 1)) * @processes
    assert rows!(setup, "SELECT value FROM counter") == [[increments]]
    assert rows!(setup, "PRAGMA integrity_check") == [["ok"]]
  end

  test "more processes waiting for a lock than dirty schedulers do not starve its holder" do
    path = tmp_db()
    holder = connect!(database: path, journal_mode: :wal)
    {:ok, _} = Native.execute(holder, "CREATE TABLE t(x)")
    waiters = :erlang.system_info(:dirty_io_schedulers) + 5
    {:ok, t} = Native.begin(holder, behavior: :immediate)
    parent = self()

    tasks =
      for i <- 1..waiters do
        Task.async(fn ->
          {:ok, s} = Native.connect(database: path, busy_timeout: 120_000)
          send(parent, :waiting)
          {:ok, w} = Native.begin(s, behavior: :immediate)
          {:ok, _} = Native.execute(w, "INSERT INTO t VALUES (?)", [i])
          {:ok, _} = Native.commit(w)
          :ok = Native.close(s)
        end)
      end

    for _ <- 1..waiters, do: assert_receive(:waiting, 10_000)
    Process.sleep(50)
    # every waiter is blocked on the lock; the holder still gets a dirty scheduler to commit
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (0)")
    assert {:ok, "commit success"} = Native.commit(t)
    assert Task.await_many(tasks, 30_000) == List.duplicate(:ok, waiters)
    assert rows!(holder, "SELECT count(*) FROM t") == [[waiters + 1]]
  end

  test "many processes share one connection safely" do
    s = connect!(database: tmp_db())
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")

    1..20
    |> Enum.map(fn i ->
      Task.async(fn ->
        for j <- 1..50 do
          {:ok, _} = Native.execute(s, "INSERT INTO t VALUES (?)", [i * 1000 + j])
          {:ok, %Result{rows: [[_]]}} = Native.execute(s, "SELECT count(*) FROM t")
        end
      end)
    end)
    |> Task.await_many(60_000)

    assert rows!(s, "SELECT count(*), count(DISTINCT x) FROM t") == [[1000, 1000]]
  end

  test "statements of one connection used from many processes" do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
    {:ok, ins} = Native.prepare(s, "INSERT INTO t VALUES (?)")

    1..10
    |> Enum.map(fn i ->
      Task.async(fn ->
        for j <- 1..100, do: {:ok, 1} = Native.execute_stmt(s, ins, "", [i * j])
      end)
    end)
    |> Task.await_many(60_000)

    assert rows!(s, "SELECT count(*) FROM t") == [[1000]]
  end

  # While another connection holds the lock, SQLite cannot check the schema it cached, and a
  # table created since looked missing. The call waits for the lock instead, then finds it.
  test "a table another connection created is found while a third holds the lock" do
    db = "file:/concurrency_#{System.unique_integer([:positive])}?vfs=memdb"
    writer = connect!(database: db)
    reader = connect!(database: db, busy_timeout: 10_000)
    {:ok, _} = Native.execute(writer, "CREATE TABLE first(x)")
    assert rows!(reader, "SELECT count(*) FROM first") == [[0]]
    {:ok, _} = Native.execute(writer, "CREATE TABLE t(x)")
    {:ok, _} = Native.execute(writer, "BEGIN EXCLUSIVE")

    insert = Task.async(fn -> Native.execute(reader, "INSERT INTO t VALUES (1)") end)
    prepare = Task.async(fn -> Native.prepare(reader, "SELECT x FROM t") end)
    assert Task.yield(insert, 100) == nil
    {:ok, _} = Native.execute(writer, "COMMIT")

    assert {:ok, %Result{num_rows: 1}} = Task.await(insert)
    assert {:ok, _stmt} = Task.await(prepare)
    assert rows!(reader, "SELECT x FROM t") == [[1]]
  end
end
