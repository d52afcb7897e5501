defmodule EctoLibSql.Native.TransactionTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result, State}

  setup do
    path = tmp_db()
    s = connect!(database: path, busy_timeout: 0)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
    %{s: s, path: path}
  end

  defp count(s), do: rows!(s, "SELECT count(*) FROM t") |> hd() |> hd()

  test "begin/2, commit/1 and rollback/1", %{s: s} do
    assert {:ok, %State{trx_id: trx} = t} = Native.begin(s)
    assert is_reference(trx)
    assert t.conn_id == s.conn_id and t.mode == s.mode and t.sync == s.sync
    assert Native.get_is_autocommit(s) == false
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
    assert {:ok, "commit success"} = Native.commit(t)
    assert Native.get_is_autocommit(s) == true
    assert count(s) == 1

    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (2)")
    assert {:ok, "rollback success"} = Native.rollback(t)
    assert count(s) == 1
  end

  test "commit/1 and rollback/1 without a transaction", %{s: s} do
    assert {:error, "Transaction not found"} = Native.commit(s)
    assert {:error, "Transaction not found"} = Native.rollback(s)
  end

  test "an ended transaction handle is refused", %{s: s} do
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.commit(t)
    assert {:error, "Transaction not found: it has already ended"} = Native.commit(t)
    # rolling back what has ended is a no-op, so clean-up code can always call it
    assert {:ok, "rollback success"} = Native.rollback(t)

    assert {:error, %Error{message: "Transaction not found: it has already ended"}} =
             Native.execute(t, "SELECT 1")

    # a later transaction on the same connection does not revive the old handle
    {:ok, t2} = Native.begin(s)

    assert {:error, %Error{message: "Transaction not found: it has already ended"}} =
             Native.execute(t, "SELECT 1")

    {:ok, _} = Native.rollback(t2)
  end

  test "a transaction cannot begin inside another", %{s: s} do
    {:ok, t} = Native.begin(s)
    assert {:error, "cannot start a transaction within a transaction"} = Native.begin(t)
    {:ok, _} = Native.rollback(t)
  end

  test "invalid behaviours are refused", %{s: s} do
    for b <- [:savepoint, :bogus, "immediate", nil, 1] do
      assert {:error, "Invalid transaction behavior" <> _} = Native.begin(s, behavior: b)
    end

    assert Native.get_is_autocommit(s) == true
  end

  test "the mode: option is read like behavior:", %{s: s, path: path} do
    other = connect!(database: path, busy_timeout: 0)
    {:ok, t} = Native.begin(s, mode: :immediate)
    assert {:error, "database is locked"} = Native.begin(other, behavior: :immediate)
    {:ok, _} = Native.rollback(t)
  end

  describe "locking behaviours (a second connection on the same file)" do
    setup %{path: path} do
      %{other: connect!(database: path, busy_timeout: 0)}
    end

    test ":deferred takes no lock until the first write", %{s: s, other: other} do
      {:ok, t} = Native.begin(s, behavior: :deferred)
      assert {:ok, _} = Native.execute(other, "INSERT INTO t VALUES (1)")
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (2)")

      assert {:error, %Error{sqlite: %{code: :busy}}} =
               Native.execute(other, "INSERT INTO t VALUES (3)")

      {:ok, _} = Native.commit(t)
      assert count(other) == 2
    end

    test ":immediate takes the write lock at once; readers still read", %{s: s, other: other} do
      {:ok, t} = Native.begin(s, behavior: :immediate)

      assert {:error, %Error{sqlite: %{code: :busy}}} =
               Native.execute(other, "INSERT INTO t VALUES (1)")

      assert count(other) == 0
      {:ok, _} = Native.rollback(t)
      assert {:ok, _} = Native.execute(other, "INSERT INTO t VALUES (1)")
    end

    test ":exclusive also keeps readers out (rollback journal)", %{s: s, other: other} do
      {:ok, t} = Native.begin(s, behavior: :exclusive)
      assert {:error, %Error{sqlite: %{code: :busy}}} = Native.execute(other, "SELECT * FROM t")
      {:ok, _} = Native.commit(t)
      assert count(other) == 0
    end

    test ":read_only reads and refuses writes, then the connection writes again", %{
      s: s,
      other: other
    } do
      # WAL, so that the reader's snapshot does not keep the other connection from committing
      assert rows!(s, "PRAGMA journal_mode = WAL") == [["wal"]]
      {:ok, _} = Native.execute(s, "INSERT INTO t VALUES (1)")
      {:ok, t} = Native.begin(s, behavior: :read_only)
      assert count(t) == 1

      assert {:error, %Error{message: "attempt to write a readonly database"}} =
               Native.execute(t, "INSERT INTO t VALUES (2)")

      # it holds no write lock
      assert {:ok, _} = Native.execute(other, "INSERT INTO t VALUES (3)")
      {:ok, _} = Native.commit(t)
      assert {:ok, %Result{num_rows: 1}} = Native.execute(s, "INSERT INTO t VALUES (4)")

      {:ok, t} = Native.begin(s, behavior: :read_only)
      {:ok, _} = Native.rollback(t)
      assert {:ok, %Result{num_rows: 1}} = Native.execute(s, "INSERT INTO t VALUES (5)")
      assert count(s) == 4
    end
  end

  # SQLite takes the write lock for a deferred transaction that has read without its busy
  # handler. In WAL mode the driver waits for it (the busy timeout), so the write runs once the
  # holder rolls back; once the holder commits the read is stale (SQLITE_BUSY_SNAPSHOT).
  describe "the first write of a deferred transaction that has read" do
    setup %{path: path} do
      wal = connect!(database: path, journal_mode: :wal, busy_timeout: 5_000)
      %{wal: wal, holder: connect!(database: path, busy_timeout: 0)}
    end

    defp read_then_write(state) do
      {:ok, t} = Native.begin(state)
      assert count(t) == 0
      {t, Task.async(fn -> Native.execute(t, "INSERT INTO t VALUES (1)") end)}
    end

    defp hold_write_lock(holder) do
      {:ok, h} = Native.begin(holder)
      {:ok, _} = Native.execute(h, "INSERT INTO t VALUES (2)")
      h
    end

    test "waits for the lock and runs when its holder rolls back", %{wal: wal, holder: holder} do
      h = hold_write_lock(holder)
      {t, write} = read_then_write(wal)
      refute Task.yield(write, 200)
      {:ok, _} = Native.rollback(h)
      assert {:ok, %Result{num_rows: 1}} = Task.await(write)
      {:ok, _} = Native.commit(t)
      assert rows!(holder, "SELECT x FROM t") == [[1]]
    end

    test "waits in place when the call cannot start over", %{wal: wal, holder: holder} do
      h = hold_write_lock(holder)
      {:ok, t} = Native.begin(wal)
      assert count(t) == 0
      # After its first step a batch that is not all-or-nothing cannot run again from the start.
      steps = [{"SELECT count(*) FROM t", []}, {"INSERT INTO t VALUES (1)", []}]
      write = Task.async(fn -> Native.batch(t, steps) end)
      refute Task.yield(write, 200)
      {:ok, _} = Native.rollback(h)
      assert {:ok, [%Result{rows: [[0]]}, %Result{num_rows: 1}]} = Task.await(write)
      {:ok, _} = Native.commit(t)
    end

    test "fails with SQLITE_BUSY_SNAPSHOT when its holder commits", %{wal: wal, holder: holder} do
      h = hold_write_lock(holder)
      {t, write} = read_then_write(wal)
      refute Task.yield(write, 200)
      {:ok, _} = Native.commit(h)

      assert {:error, %Error{sqlite: %{extended: :busy_snapshot}}} = Task.await(write)
      {:ok, _} = Native.rollback(t)
    end

    test "fails with SQLITE_BUSY after the busy timeout", %{path: path, holder: holder} do
      h = hold_write_lock(holder)
      short = connect!(database: path, busy_timeout: 300)
      {t, write} = read_then_write(short)
      started = System.monotonic_time(:millisecond)

      assert {:error, %Error{sqlite: %{extended: :busy}}} = Task.await(write)
      assert System.monotonic_time(:millisecond) - started >= 250
      {:ok, _} = Native.rollback(t)
      {:ok, _} = Native.rollback(h)
    end

    test "fails at once in rollback-journal mode (waiting could deadlock)" do
      path = tmp_db()
      # a wait would last a minute: an answer within 20 s (however slow the run) came at once
      reader = connect!(database: path, busy_timeout: 60_000)
      {:ok, _} = Native.execute(reader, "CREATE TABLE t(x)")
      h = hold_write_lock(connect!(database: path, busy_timeout: 0))
      {t, write} = read_then_write(reader)

      assert {:error, %Error{sqlite: %{extended: :busy}}} = Task.await(write, 20_000)
      {:ok, _} = Native.rollback(t)
      {:ok, _} = Native.rollback(h)
    end
  end

  test "handles of another connection are refused", %{s: s} do
    other = connect!()
    {:ok, t} = Native.begin(s)
    foreign = %State{other | trx_id: t.trx_id}

    assert {:error, %Error{message: "Transaction does not belong to this connection"}} =
             Native.execute(foreign, "SELECT 1")

    assert {:error, "Transaction does not belong to this connection"} = Native.commit(foreign)
    assert {:error, "Transaction does not belong to this connection"} = Native.rollback(foreign)
    assert Native.handle_status_transaction(t.trx_id) == :ok
    {:ok, _} = Native.rollback(t)
  end

  test "a statement error inside a transaction keeps the transaction", %{s: s} do
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
    assert {:error, %Error{}} = Native.execute(t, "INSERT INTO missing VALUES (1)")
    assert Native.handle_status_transaction(t.trx_id) == :ok
    {:ok, _} = Native.commit(t)
    assert count(s) == 1
  end

  test "an SQL ROLLBACK inside the transaction ends the handle", %{s: s} do
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
    {:ok, %Result{command: :rollback}} = Native.execute(t, "ROLLBACK")
    assert {:error, "Transaction not found"} = Native.handle_status_transaction(t.trx_id)
    assert {:ok, "rollback success"} = Native.rollback(t)
    assert count(s) == 0
  end

  test "a failed COMMIT (deferred foreign key) leaves the transaction open", %{s: s} do
    {:ok, _} = Native.execute(s, "PRAGMA foreign_keys = ON")
    {:ok, _} = Native.execute(s, "CREATE TABLE p(id INTEGER PRIMARY KEY)")

    {:ok, _} =
      Native.execute(
        s,
        "CREATE TABLE c(p_id REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"
      )

    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO c VALUES (42)")

    assert {:error, "FOREIGN KEY constraint failed: c.p_id (foreign key: c_p_id_fkey)"} =
             Native.commit(t)

    assert Native.handle_status_transaction(t.trx_id) == :ok
    assert {:ok, "rollback success"} = Native.rollback(t)
    assert Native.get_is_autocommit(s) == true
    assert rows!(s, "SELECT count(*) FROM c") == [[0]]
  end

  test "commit on a closed connection says so", %{s: s} do
    {:ok, t} = Native.begin(s)
    :ok = Native.close(s)
    assert {:error, "Connection not found: it is closed"} = Native.commit(t)
    assert {:ok, "rollback success"} = Native.rollback(t)
    assert {:error, "Transaction not found"} = Native.handle_status_transaction(t.trx_id)
  end

  describe "compatibility functions" do
    test "begin_transaction/1 and begin_transaction_with_behavior/2", %{s: s} do
      trx = Native.begin_transaction(s.conn_id)
      assert is_reference(trx)
      assert Native.handle_status_transaction(trx) == :ok

      assert {:error, "Begin failed: cannot start a transaction within a transaction"} =
               Native.begin_transaction(s.conn_id)

      assert {:ok, "rollback success"} =
               Native.commit_or_rollback_transaction(trx, s.conn_id, :local, :disable_sync, "x")

      trx = Native.begin_transaction_with_behavior(s.conn_id, :immediate)
      assert is_reference(trx)

      assert 1 = Native.execute_with_transaction(trx, s.conn_id, "INSERT INTO t VALUES (?)", [1])

      assert %{"columns" => ["x"], "rows" => [[1]], "num_rows" => 1} =
               Native.query_with_trx_args(trx, s.conn_id, "SELECT x FROM t", [])

      assert {:ok, "commit success"} =
               Native.commit_or_rollback_transaction(
                 trx,
                 s.conn_id,
                 :local,
                 :disable_sync,
                 "commit"
               )

      assert {:error, "Commit error: Transaction not found: it has already ended"} =
               Native.commit_or_rollback_transaction(
                 trx,
                 s.conn_id,
                 :local,
                 :disable_sync,
                 "commit"
               )

      assert {:error, "Transaction not found"} = Native.handle_status_transaction(trx)

      assert {:error, "Begin failed: Invalid transaction behavior" <> _} =
               Native.begin_transaction_with_behavior(s.conn_id, :nope)
    end

    test "errors come back as messages", %{s: s} do
      trx = Native.begin_transaction(s.conn_id)

      assert {:error, "no such table: nope"} =
               Native.execute_with_transaction(trx, s.conn_id, "INSERT INTO nope VALUES (1)", [])

      assert {:error, "no such table: nope"} =
               Native.query_with_trx_args(trx, s.conn_id, "SELECT * FROM nope", [])

      assert {:error, "Transaction not found: not a transaction handle"} =
               Native.handle_status_transaction(s.conn_id)

      {:ok, _} = Native.commit_or_rollback_transaction(trx, s.conn_id, :local, :disable_sync, "r")
    end

    test "execute_with_trx/3 and execute_non_trx/3 answer DBConnection shapes", %{s: s} do
      q = %EctoLibSql.Query{statement: "INSERT INTO t VALUES (?)"}
      {:ok, t} = Native.begin(s)

      assert {:ok, ^q, %Result{command: :insert, num_rows: 1}, ^t} =
               Native.execute_with_trx(t, q, [1])

      {:ok, _} = Native.commit(t)
      assert {:ok, ^q, %Result{num_rows: 1}, ^s} = Native.execute_non_trx(q, s, [2])

      assert {:error, %Error{message: "no such table: nope"}, ^s} =
               Native.query(s, %EctoLibSql.Query{statement: "SELECT * FROM nope"}, [])

      assert {:error, %Error{message: "Missing required parameters" <> _}, ^s} =
               Native.query(s, %EctoLibSql.Query{statement: "SELECT :a"}, %{})
    end
  end
end
