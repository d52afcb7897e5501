# One connection used by several processes, lock waits and interrupt/1, and connections opening
# a new WAL file together.
defmodule EctoLibSql.Native.SharedConnectionTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native}

  defp elapsed_ms(fun) do
    started = System.monotonic_time(:millisecond)
    result = fun.()
    {System.monotonic_time(:millisecond) - started, result}
  end

  describe "a transaction another process began" do
    test "a statement outside it waits for it to end and is not rolled back with it" do
      s = connect!(database: tmp_db(), busy_timeout: 5_000)
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, trx} = Native.begin(s)
      {:ok, _} = Native.execute(trx, "INSERT INTO t VALUES ('a')")

      outsider = Task.async(fn -> Native.execute(s, "INSERT INTO t VALUES ('b')") end)
      # It waits: the transaction is not its own.
      assert Task.yield(outsider, 300) == nil
      {:ok, _} = Native.rollback(trx)
      assert {:ok, %{num_rows: 1}} = Task.await(outsider, 5_000)
      assert rows!(s, "SELECT x FROM t") == [["b"]]
    end

    test "the wait ends with SQLITE_BUSY after busy_timeout, naming the reason" do
      s = connect!(database: tmp_db(), busy_timeout: 300)
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, trx} = Native.begin(s)

      {ms, result} =
        elapsed_ms(fn ->
          Task.async(fn -> Native.execute(s, "INSERT INTO t VALUES (1)") end) |> Task.await()
        end)

      assert {:error, %Error{message: message, sqlite: %{code: :busy}}} = result
      assert message =~ "inside a transaction that another process began"
      assert ms >= 250
      # Nothing joined the transaction.
      {:ok, _} = Native.commit(trx)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
    end

    test "prepared statements and begin/1 of another process wait too" do
      s = connect!(database: tmp_db(), busy_timeout: 300)
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, stmt} = Native.prepare(s, "INSERT INTO t VALUES (?)")
      {:ok, trx} = Native.begin(s)

      assert {:error, error} =
               Task.async(fn -> Native.execute_stmt(s, stmt, "INSERT INTO t VALUES (?)", [1]) end)
               |> Task.await()

      assert inspect(error) =~ "database is locked"
      assert {:error, message} = Task.async(fn -> Native.begin(s) end) |> Task.await()
      assert message =~ "database is locked"

      # In its own process, a statement runs in the transaction (as before).
      assert {:ok, _} = Native.execute_stmt(s, stmt, "INSERT INTO t VALUES (?)", [2])
      {:ok, _} = Native.rollback(trx)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
    end

    test "another process given the transaction runs in it" do
      s = connect!(database: tmp_db())
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, trx} = Native.begin(s)

      assert {:ok, _} =
               Task.async(fn -> Native.execute(trx, "INSERT INTO t VALUES (1)") end)
               |> Task.await()

      {:ok, _} = Native.rollback(trx)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
    end

    test "interrupt/1 ends the wait at once" do
      s = connect!(database: tmp_db(), busy_timeout: 8_000)
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, trx} = Native.begin(s)
      outsider = Task.async(fn -> elapsed_ms(fn -> Native.execute(s, "SELECT 1") end) end)
      {ms, result} = interrupt_until_done(outsider, fn -> Native.interrupt(s) end)
      assert {:error, %Error{sqlite: %{code: :interrupt}}} = result
      assert ms < 4_000, "took #{ms} ms"
      {:ok, _} = Native.rollback(trx)
      assert rows!(s, "SELECT 1") == [[1]]
    end
  end

  describe "interrupt/1 during a lock wait" do
    test "ends a wait for another connection's write lock at once" do
      path = tmp_db()
      holder = connect!(database: path)
      waiter = connect!(database: path, busy_timeout: 8_000)
      {:ok, _} = Native.execute(holder, "CREATE TABLE t(x)")
      {:ok, trx} = Native.begin(holder, behavior: :immediate)

      task =
        Task.async(fn ->
          elapsed_ms(fn -> Native.execute(waiter, "INSERT INTO t VALUES (1)") end)
        end)

      {ms, result} = interrupt_until_done(task, fn -> Native.interrupt(waiter) end)
      assert {:error, %Error{message: "interrupted", sqlite: %{code: :interrupt}}} = result
      assert ms < 4_000, "took #{ms} ms"
      {:ok, _} = Native.rollback(trx)
      # The interrupt does not stay pending: the next statement runs.
      assert {:ok, _} = Native.execute(waiter, "INSERT INTO t VALUES (2)")
      assert rows!(waiter, "SELECT x FROM t") == [[2]]
    end

    test "an interrupt before the wait began does not end it" do
      path = tmp_db()
      holder = connect!(database: path)
      waiter = connect!(database: path, busy_timeout: 5_000)
      {:ok, _} = Native.execute(holder, "CREATE TABLE t(x)")
      :ok = Native.interrupt(waiter)
      {:ok, trx} = Native.begin(holder, behavior: :immediate)
      task = Task.async(fn -> Native.execute(waiter, "INSERT INTO t VALUES (1)") end)
      Process.sleep(200)
      {:ok, _} = Native.commit(trx)
      assert {:ok, _} = Task.await(task, 6_000)
    end
  end

  test "ten connections opening a new WAL file at once all succeed" do
    for _round <- 1..5 do
      path = tmp_db()

      results =
        1..10
        |> Enum.map(fn _ ->
          Task.async(fn ->
            Native.connect(database: path, journal_mode: :wal, busy_timeout: 5_000)
          end)
        end)
        |> Task.await_many(20_000)

      assert Enum.all?(results, &match?({:ok, _}, &1)), inspect(results)
      Enum.each(results, fn {:ok, s} -> Native.close(s) end)
    end
  end
end
