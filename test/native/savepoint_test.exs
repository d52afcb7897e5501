defmodule EctoLibSql.Native.SavepointTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.Native

  setup do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
    {:ok, t} = Native.begin(s)
    %{s: s, t: t}
  end

  defp values(s), do: rows!(s, "SELECT x FROM t ORDER BY x") |> List.flatten()

  test "nested savepoints roll back and release independently", %{s: s, t: t} do
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
    assert :ok = Native.create_savepoint(t, "outer")
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (2)")
    assert :ok = Native.create_savepoint(t, "inner")
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (3)")
    assert :ok = Native.rollback_to_savepoint_by_name(t, "inner")
    assert values(t) == [1, 2]
    # the savepoint survives a rollback to it
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (4)")
    assert :ok = Native.rollback_to_savepoint_by_name(t, "inner")
    assert :ok = Native.release_savepoint_by_name(t, "inner")
    assert :ok = Native.rollback_to_savepoint_by_name(t, "outer")
    assert values(t) == [1]
    assert :ok = Native.release_savepoint_by_name(t, "outer")
    assert Native.handle_status_transaction(t.trx_id) == :ok
    {:ok, _} = Native.commit(t)
    assert values(s) == [1]
  end

  test "releasing an outer savepoint releases the inner ones", %{t: t} do
    :ok = Native.create_savepoint(t, "a")
    :ok = Native.create_savepoint(t, "b")
    :ok = Native.release_savepoint_by_name(t, "a")

    assert {:error, "Rollback to savepoint failed: no such savepoint: b"} =
             Native.rollback_to_savepoint_by_name(t, "b")
  end

  test "the same name twice refers to the newest", %{t: t} do
    :ok = Native.create_savepoint(t, "sp")
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)")
    :ok = Native.create_savepoint(t, "sp")
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (2)")
    :ok = Native.rollback_to_savepoint_by_name(t, "sp")
    assert values(t) == [1]
  end

  test "unknown savepoints are an error and the transaction goes on", %{t: t} do
    assert {:error, "Release savepoint failed: no such savepoint: nope"} =
             Native.release_savepoint_by_name(t, "nope")

    assert {:error, "Rollback to savepoint failed: no such savepoint: nope"} =
             Native.rollback_to_savepoint_by_name(t, "nope")

    assert Native.handle_status_transaction(t.trx_id) == :ok
  end

  test "names must be SQL identifiers; nothing is run otherwise", %{s: s, t: t} do
    for bad <- ["a b", "1a", "", "x; DROP TABLE t", "é", "a-b", ~s("q"), :atom, 1, nil] do
      assert {:error, "Invalid savepoint name: must be a valid SQL identifier"} =
               Native.create_savepoint(t, bad)

      assert {:error, "Invalid savepoint name: must be a valid SQL identifier"} =
               Native.release_savepoint_by_name(t, bad)

      assert {:error, "Invalid savepoint name: must be a valid SQL identifier"} =
               Native.rollback_to_savepoint_by_name(t, bad)
    end

    for good <- ["_", "a1", "A_b_9", "select"] do
      assert :ok = Native.create_savepoint(t, good)
    end

    assert rows!(s, "SELECT count(*) FROM sqlite_master WHERE name = 't'") == [[1]]
  end

  test "outside a transaction savepoints are refused", %{s: s, t: t} do
    {:ok, _} = Native.rollback(t)

    assert {:error, "No active transaction - cannot create savepoint outside transaction"} =
             Native.create_savepoint(s, "a")

    assert {:error, "No active transaction"} = Native.release_savepoint_by_name(s, "a")
    assert {:error, "No active transaction"} = Native.rollback_to_savepoint_by_name(s, "a")
    # an ended transaction handle is refused too
    assert {:error, "Savepoint failed: Transaction not found: it has already ended"} =
             Native.create_savepoint(t, "a")

    assert Native.get_is_autocommit(s) == true
  end

  test "a transaction handle of another connection is refused", %{t: t} do
    other = connect!()

    assert {:error, "Savepoint failed: Transaction does not belong to this connection"} =
             Native.create_savepoint(%{other | trx_id: t.trx_id}, "a")
  end

  describe "compatibility savepoint/3, release_savepoint/3, rollback_to_savepoint/3" do
    test "work on the given transaction", %{s: s, t: t} do
      assert :ok = Native.savepoint(s.conn_id, t.trx_id, "c")
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (7)")
      assert :ok = Native.rollback_to_savepoint(s.conn_id, t.trx_id, "c")
      assert :ok = Native.release_savepoint(s.conn_id, t.trx_id, "c")
      assert values(t) == []

      assert {:error, "Invalid savepoint name: must be a valid SQL identifier"} =
               Native.savepoint(s.conn_id, t.trx_id, "1")

      assert {:error, "Release savepoint failed: no such savepoint: zz"} =
               Native.release_savepoint(s.conn_id, t.trx_id, "zz")
    end

    test "need a transaction: they never start one themselves", %{s: s, t: t} do
      {:ok, _} = Native.rollback(t)
      assert {:error, "Transaction not found"} = Native.savepoint(s.conn_id, nil, "a")
      assert {:error, "Transaction not found"} = Native.release_savepoint(s.conn_id, nil, "a")
      assert {:error, "Transaction not found"} = Native.rollback_to_savepoint(s.conn_id, nil, "a")
      assert Native.get_is_autocommit(s) == true
    end
  end
end
