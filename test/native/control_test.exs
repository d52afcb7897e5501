defmodule EctoLibSql.Native.ControlTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result}

  describe "busy_timeout/2 (two connections on one file)" do
    setup do
      path = tmp_db()
      holder = connect!(database: path)
      {:ok, _} = Native.execute(holder, "CREATE TABLE t(x)")
      %{path: path, holder: holder}
    end

    test "with 0 a locked database fails at once", %{path: path, holder: holder} do
      waiter = connect!(database: path)
      assert :ok = Native.busy_timeout(waiter, 0)
      {:ok, t} = Native.begin(holder, behavior: :immediate)

      assert {:error, %Error{message: "database is locked", sqlite: %{code: :busy}}} =
               Native.execute(waiter, "INSERT INTO t VALUES (1)")

      {:ok, _} = Native.rollback(t)
      assert {:ok, _} = Native.execute(waiter, "INSERT INTO t VALUES (1)")
    end

    test "a writer waits for the lock to be released within its timeout", %{
      path: path,
      holder: holder
    } do
      waiter = connect!(database: path)
      assert :ok = Native.busy_timeout(waiter, 30_000)
      {:ok, t} = Native.begin(holder, behavior: :immediate)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES ('holder')")
      parent = self()

      writer =
        Task.async(fn ->
          send(parent, :writing)
          Native.execute(waiter, "INSERT INTO t VALUES ('waiter')")
        end)

      assert_receive :writing
      Process.sleep(100)
      # still waiting: the holder has the lock
      assert Task.yield(writer, 0) == nil
      {:ok, _} = Native.commit(t)
      assert {:ok, %Result{num_rows: 1}} = Task.await(writer, 30_000)
      assert rows!(holder, "SELECT x FROM t ORDER BY rowid") == [["holder"], ["waiter"]]
    end

    test "arguments that need encoding wait for the lock too, and are stored encoded", %{
      path: path,
      holder: holder
    } do
      waiter = connect!(database: path, busy_timeout: 30_000)
      {:ok, stmt} = Native.prepare(waiter, "INSERT INTO t VALUES (?) RETURNING x")
      {:ok, t} = Native.begin(holder, behavior: :immediate)
      parent = self()

      calls = [
        fn -> Native.execute(waiter, "INSERT INTO t VALUES (?)", [~D[2024-02-29]]) end,
        fn -> Native.batch(waiter, [{"INSERT INTO t VALUES (?)", [%{"k" => [1]}]}]) end,
        fn -> Native.query_stmt(waiter, stmt, [:null]) end
      ]

      tasks =
        for call <- calls do
          Task.async(fn ->
            send(parent, :calling)
            call.()
          end)
        end

      for _ <- calls, do: assert_receive(:calling)
      Process.sleep(100)
      assert Enum.all?(tasks, &(Task.yield(&1, 0) == nil))
      {:ok, _} = Native.commit(t)

      assert [{:ok, %Result{num_rows: 1}}, {:ok, [%Result{}]}, {:ok, %Result{rows: [[nil]]}}] =
               Task.await_many(tasks, 30_000)

      assert Enum.sort(rows!(holder, "SELECT x FROM t")) ==
               Enum.sort([["2024-02-29"], [~s({"k":[1]})], [nil]])
    end

    test "the timeout expires and the call finishes with busy", %{path: path, holder: holder} do
      waiter = connect!(database: path, busy_timeout: 50)
      {:ok, t} = Native.begin(holder, behavior: :exclusive)
      assert {:error, %Error{sqlite: %{code: :busy}}} = Native.execute(waiter, "SELECT * FROM t")
      assert {:error, "database is locked"} = Native.begin(waiter, behavior: :immediate)
      {:ok, _} = Native.rollback(t)
      assert rows!(waiter, "SELECT count(*) FROM t") == [[0]]
    end

    test "set_busy_timeout/2 (compatibility)", %{path: path, holder: holder} do
      waiter = connect!(database: path)
      assert :ok = Native.set_busy_timeout(waiter.conn_id, 0)
      {:ok, t} = Native.begin(holder, behavior: :immediate)
      assert {:error, %Error{}} = Native.execute(waiter, "INSERT INTO t VALUES (1)")
      {:ok, _} = Native.rollback(t)
      assert_raise ArgumentError, fn -> Native.set_busy_timeout(waiter.conn_id, -1) end
      assert_raise ArgumentError, fn -> Native.set_busy_timeout(waiter.conn_id, "1") end
    end

    test "argument checks", %{holder: holder} do
      assert :ok = Native.busy_timeout(holder)
      assert_raise FunctionClauseError, fn -> Native.busy_timeout(holder, -1) end
      assert_raise FunctionClauseError, fn -> Native.busy_timeout(holder, 1.5) end

      assert_raise ArgumentError, fn ->
        EctoLibSql.NIF.set_busy_timeout(holder.conn_id, 2 ** 40)
      end
    end
  end

  describe "reset/1" do
    test "rolls back an open transaction and keeps the connection usable" do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
      assert :ok = Native.reset(s)
      assert Native.get_is_autocommit(s) == true
      assert {:error, "Transaction not found"} = Native.handle_status_transaction(t.trx_id)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
      assert :ok = Native.reset(s)
      assert :ok = Native.reset_connection(s.conn_id)
    end

    test "ends a read-only transaction too" do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, _} = Native.begin(s, behavior: :read_only)
      assert :ok = Native.reset(s)
      assert {:ok, %Result{num_rows: 1}} = Native.execute(s, "INSERT INTO t VALUES (1)")
    end
  end

  describe "interrupt/1" do
    test "stops a long query run by another process; the connection stays usable" do
      s = connect!()

      endless =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

      task = Task.async(fn -> Native.execute(s, endless) end)
      # interrupt until the query is stopped: a call landing between two statements is a no-op
      result =
        eventually(fn ->
          :ok = Native.interrupt(s)
          Task.yield(task, 20)
        end)

      assert {:ok, {:error, %Error{message: "interrupted", sqlite: %{code: :interrupt}}}} = result
      assert rows!(s, "SELECT 1") == [[1]]
    end

    test "interrupts a transaction's statement; the transaction can go on" do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")

      task =
        Task.async(fn ->
          Native.execute(
            t,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
          )
        end)

      assert {:ok, {:error, %Error{message: "interrupted"}}} =
               eventually(fn ->
                 :ok = Native.interrupt_connection(s.conn_id)
                 Task.yield(task, 20)
               end)

      assert {:ok, _} = Native.commit(t)
      assert rows!(s, "SELECT count(*) FROM t") == [[1]]
    end

    test "is harmless when nothing runs" do
      s = connect!()
      assert :ok = Native.interrupt(s)
      assert rows!(s, "SELECT 1") == [[1]]
    end
  end
end
