defmodule EctoLibSql.Driver.TransactionTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Query, Result}

  setup do
    path = tmp_db()
    {:ok, pool} = DBConnection.start_link(EctoLibSql, database: path, pool_size: 1)
    DBConnection.execute!(pool, q("CREATE TABLE t(x UNIQUE)"), [])
    # a second connection, outside the pool, that never waits for a lock
    other = connect!(database: path, busy_timeout: 0)
    %{pool: pool, path: path, other: other}
  end

  defp q(sql), do: %Query{statement: sql}
  defp count(pool), do: DBConnection.execute!(pool, q("SELECT count(*) FROM t"), []).rows
  defp write(other), do: Native.execute(other, "INSERT INTO t VALUES (random())")

  test "commit and rollback", %{pool: pool} do
    assert {:ok, :done} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t VALUES (1)"), [])
               assert DBConnection.status(conn) == :transaction
               :done
             end)

    assert {:error, :changed_mind} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t VALUES (2)"), [])
               DBConnection.rollback(conn, :changed_mind)
             end)

    assert_raise RuntimeError, "boom", fn ->
      DBConnection.transaction(pool, fn conn ->
        DBConnection.execute!(conn, q("INSERT INTO t VALUES (3)"), [])
        raise "boom"
      end)
    end

    assert count(pool) == [[1]]
    assert DBConnection.status(pool) == :idle
  end

  test "mode: :deferred takes the write lock at the first write", %{pool: pool, other: other} do
    DBConnection.transaction(
      pool,
      fn conn ->
        assert {:ok, _} = write(other)
        DBConnection.execute!(conn, q("INSERT INTO t VALUES (1)"), [])
        assert {:error, %Error{sqlite: %{code: :busy}}} = write(other)
      end,
      mode: :deferred
    )

    assert {:ok, _} = write(other)
  end

  test "mode: :immediate takes the write lock at BEGIN", %{pool: pool, other: other} do
    DBConnection.transaction(
      pool,
      fn _conn ->
        assert {:error, %Error{sqlite: %{code: :busy}}} = write(other)
        assert {:ok, %Result{}} = Native.execute(other, "SELECT count(*) FROM t")
      end,
      mode: :immediate
    )

    assert {:ok, _} = write(other)
  end

  test "mode: :exclusive keeps readers out too", %{pool: pool, other: other} do
    DBConnection.transaction(
      pool,
      fn _conn ->
        assert {:error, %Error{sqlite: %{code: :busy}}} = Native.execute(other, "SELECT * FROM t")
      end,
      mode: :exclusive
    )

    assert {:ok, _} = Native.execute(other, "SELECT * FROM t")
  end

  test "default_transaction_mode applies when a transaction gives no mode", %{
    path: path,
    other: other
  } do
    {:ok, pool} =
      DBConnection.start_link(EctoLibSql,
        database: path,
        pool_size: 1,
        default_transaction_mode: :immediate
      )

    DBConnection.transaction(pool, fn _ ->
      assert {:error, %Error{sqlite: %{code: :busy}}} = write(other)
    end)

    DBConnection.transaction(pool, fn _ -> assert {:ok, _} = write(other) end, mode: :deferred)
  end

  test "an unknown mode fails to begin and leaves the connection idle", %{pool: pool} do
    assert_raise Error, ~r/Invalid transaction behavior/, fn ->
      DBConnection.transaction(pool, fn _ -> :never end, mode: :bogus)
    end

    assert DBConnection.status(pool) == :idle
    assert {:ok, :ok} = DBConnection.transaction(pool, fn _ -> :ok end)
  end

  test "a failed COMMIT (deferred foreign key) raises and leaves the connection clean", %{
    pool: pool,
    other: other
  } do
    DBConnection.execute!(pool, q("PRAGMA foreign_keys = ON"), [])
    DBConnection.execute!(pool, q("CREATE TABLE p(id INTEGER PRIMARY KEY)"), [])

    DBConnection.execute!(
      pool,
      q("CREATE TABLE c(p_id REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"),
      []
    )

    assert_raise Error,
                 ~r/^FOREIGN KEY constraint failed: c.p_id \(foreign key: c_p_id_fkey\)$/,
                 fn ->
                   DBConnection.transaction(pool, fn conn ->
                     DBConnection.execute!(conn, q("INSERT INTO c VALUES (42)"), [])
                   end)
                 end

    assert DBConnection.status(pool) == :idle
    assert DBConnection.execute!(pool, q("SELECT count(*) FROM c"), []).rows == [[0]]
    # nothing is left locked or open
    assert {:ok, _} = write(other)
    assert {:ok, :ok} = DBConnection.transaction(pool, fn _ -> :ok end)
  end

  test "a statement error inside a transaction keeps the transaction", %{pool: pool} do
    assert {:ok, :kept} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t VALUES (1)"), [])

               assert {:error, %Error{}} =
                        DBConnection.execute(conn, q("INSERT INTO t VALUES (1)"), [])

               assert DBConnection.status(conn) == :transaction
               :kept
             end)

    assert count(pool) == [[1]]
  end

  test "a transaction SQLite rolled back itself reports :error and ends in {:error, :rollback}",
       %{pool: pool} do
    assert {:error, :rollback} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t VALUES (1)"), [])

               assert {:error, %Error{}} =
                        DBConnection.execute(conn, q("INSERT OR ROLLBACK INTO t VALUES (1)"), [])

               assert DBConnection.status(conn) == :error
               :would_commit
             end)

    assert count(pool) == [[0]]
    assert DBConnection.status(pool) == :idle
    assert {:ok, :ok} = DBConnection.transaction(pool, fn _ -> :ok end)
  end

  test "nested transactions run inside the outer one", %{pool: pool} do
    assert {:error, :rollback} =
             DBConnection.transaction(pool, fn conn ->
               DBConnection.execute!(conn, q("INSERT INTO t VALUES (1)"), [])

               assert {:error, :inner} =
                        DBConnection.transaction(conn, fn inner ->
                          DBConnection.rollback(inner, :inner)
                        end)

               :outer
             end)

    assert count(pool) == [[0]]
  end
end
