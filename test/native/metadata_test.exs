defmodule EctoLibSql.Native.MetadataTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.Native

  setup do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
    %{s: s}
  end

  test "last insert rowid, changes, total changes and autocommit", %{s: s} do
    assert Native.get_last_insert_rowid(s) == 0
    assert Native.get_changes(s) == 0
    assert Native.get_total_changes(s) == 0
    assert Native.get_is_autocommit(s) == true

    {:ok, _} = Native.execute(s, "INSERT INTO t(id, x) VALUES (41, 'a')")
    {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES ('b'), ('c')")
    assert Native.get_last_insert_rowid(s) == 43
    assert Native.get_changes(s) == 2
    assert Native.get_total_changes(s) == 3

    {:ok, _} = Native.execute(s, "UPDATE t SET x = 'z'")
    assert Native.get_changes(s) == 3
    assert Native.get_total_changes(s) == 6
    # a SELECT does not reset changes()
    {:ok, _} = Native.execute(s, "SELECT * FROM t")
    assert Native.get_changes(s) == 3

    {:ok, t} = Native.begin(s)
    assert Native.get_is_autocommit(t) == false
    {:ok, _} = Native.execute(t, "INSERT INTO t(id, x) VALUES (-9223372036854775808, 'min')")
    assert Native.get_last_insert_rowid(s) == -9_223_372_036_854_775_808
    {:ok, _} = Native.rollback(t)
    assert Native.get_is_autocommit(s) == true
  end

  test "each connection has its own counters", %{s: s} do
    other = connect!()
    {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1)")
    assert Native.get_total_changes(other) == 0
    assert Native.get_last_insert_rowid(other) == 0
  end

  test "compatibility names take the bare handle", %{s: s} do
    {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1), (2)")
    c = s.conn_id
    assert Native.last_insert_rowid(c) == 2
    assert Native.changes(c) == 2
    assert Native.total_changes(c) == 2
    assert Native.is_autocommit(c) == true
  end

  test "closed and bad handles", %{s: s} do
    :ok = Native.close(s)

    for f <- [
          &Native.get_last_insert_rowid/1,
          &Native.get_changes/1,
          &Native.get_total_changes/1,
          &Native.get_is_autocommit/1
        ] do
      assert {:error, "Connection not found: it is closed"} = f.(s)
    end

    assert {:error, "Connection not found: it is closed"} = Native.changes(s.conn_id)
    assert {:error, "Connection not found: not a connection handle"} = Native.changes(make_ref())
    assert_raise ArgumentError, fn -> EctoLibSql.NIF.info(s.conn_id, :bogus) end
    assert_raise FunctionClauseError, fn -> Native.get_changes(:nope) end
  end
end
