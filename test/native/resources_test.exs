defmodule EctoLibSql.Native.ResourcesTest do
  # Counts handles alive in the whole VM: must not run beside other tests.
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, NIF, Result}

  defp baseline do
    eventually(fn ->
      c = resource_counts()
      c.connections == 0 and c.statements == 0 and c.cursors == 0 and c.transactions == 0 and c
    end)
  end

  setup do
    # leftovers of earlier tests are collected once their processes are gone
    assert %{connections: 0, statements: 0, cursors: 0, transactions: 0} = baseline()
    :ok
  end

  test "resource_counts/0 follows handles as they are made and closed" do
    {:ok, s} = Native.connect(database: ":memory:")
    {:ok, stmt} = Native.prepare(s, "SELECT 1")
    {:ok, cursor} = Native.declare_cursor(s, "SELECT 1", [])
    {:ok, t} = Native.begin(s)

    assert %{connections: 1, statements: 1, cursors: 1, transactions: 1} = NIF.resource_counts()
    {:ok, _} = Native.rollback(t)
    :ok = Native.close_cursor(cursor)
    :ok = Native.close_stmt(stmt)
    :ok = Native.close(s)
    # closing frees the native objects; the handle terms live as long as someone holds them
    assert %{connections: 1, statements: 1, cursors: 1, transactions: 1} = NIF.resource_counts()
  end

  test "handles dropped by a process that ends are garbage collected, memory included" do
    memory_before = resource_counts().sqlite_memory_used
    path = tmp_db()

    in_process(fn ->
      {:ok, s} = Native.connect(database: path)
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)")
      {:ok, _} = Native.execute(s, "INSERT INTO t VALUES (zeroblob(100000))")
      {:ok, _} = Native.prepare(s, "SELECT * FROM t")
      {:ok, c} = Native.declare_cursor(s, "SELECT * FROM t", [])
      {:cont, _} = Native.fetch(s, c, 1)
      {:ok, _} = Native.begin(s)
      assert %{connections: 1, statements: 1, cursors: 1, transactions: 1} = NIF.resource_counts()
      :done
    end)

    assert %{connections: 0, statements: 0, cursors: 0, transactions: 0} = baseline()
    assert resource_counts().sqlite_memory_used <= memory_before + 4096
  end

  test "a process killed while holding a cursor and a transaction leaves no trace" do
    path = tmp_db()
    {:ok, s} = Native.connect(database: path, journal_mode: :wal)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")

    {:ok, _} =
      Native.execute(
        s,
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000) " <>
          "INSERT INTO t(x) SELECT i FROM c"
      )

    parent = self()

    # one process owns its connection, another shares ours: both die holding everything
    owner =
      spawn(fn ->
        {:ok, own} = Native.connect(database: path)
        {:ok, t} = Native.begin(own, behavior: :immediate)
        {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (-1)")
        {:ok, c} = Native.declare_cursor(t, "SELECT * FROM t", [])
        {:cont, _} = Native.fetch(t, c, 10)
        send(parent, :owner_ready)
        Process.sleep(:infinity)
      end)

    assert_receive :owner_ready, 5_000
    other = connect!(database: path, busy_timeout: 0)

    assert {:error, %Error{sqlite: %{code: :busy}}} =
             Native.execute(other, "INSERT INTO t(x) VALUES (0)")

    Process.exit(owner, :kill)

    # the write lock is gone as soon as the handles are collected
    assert {:ok, %Result{num_rows: 1}} =
             eventually(fn ->
               match?({:ok, _}, r = Native.execute(other, "INSERT INTO t(x) VALUES (0)")) && r
             end)

    sharer =
      spawn(fn ->
        {:ok, t} = Native.begin(s, behavior: :immediate)
        {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (-2)")
        {:ok, c} = Native.declare_cursor(t, "SELECT * FROM t", [])
        {:cont, _} = Native.fetch(t, c, 10)
        send(parent, :sharer_ready)
        Process.sleep(:infinity)
      end)

    assert_receive :sharer_ready, 5_000
    assert Native.get_is_autocommit(s) == false
    Process.exit(sharer, :kill)

    assert eventually(fn ->
             match?({:ok, _}, Native.execute(other, "INSERT INTO t(x) VALUES (0)"))
           end)

    assert Native.get_is_autocommit(s) == true
    assert rows!(other, "SELECT count(*), sum(x < 0) FROM t") == [[10_002, 0]]
    assert rows!(other, "PRAGMA integrity_check") == [["ok"]]
    # our connection is fine and alone holds handles now
    assert rows!(s, "SELECT count(*) FROM t") == [[10_002]]
    assert %{connections: 2, cursors: 0, transactions: 0} = resource_counts()
    :ok = Native.close(s)
  end

  test "named arguments of many SQL texts hold nothing on the Elixir side" do
    s = connect!()

    for i <- 1..2000 do
      [^i] = Native.normalise_arguments(s, "SELECT :p#{i}", %{"p#{i}" => i})
    end

    # The engine's statement cache is bounded; 0.9's ETS cache is gone (the API answers 0).
    assert Native.param_cache_size() == 0
    assert :ok = Native.clear_param_cache()
    assert rows!(s, "SELECT :p2000", %{"p2000" => 7}) == [[7]]
  end
end
