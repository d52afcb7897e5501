defmodule EctoLibSql.Native.SmokeTest do
  use ExUnit.Case, async: true

  alias EctoLibSql.{Native, Result}

  test "connects, writes, reads and closes" do
    {:ok, state} = Native.connect(database: ":memory:")
    assert {:ok, %Result{command: :create}} = Native.execute(state, "CREATE TABLE t(x)")

    assert {:ok, %Result{command: :insert, num_rows: 1}} =
             Native.execute(state, "INSERT INTO t VALUES (?)", [1])

    assert {:ok, %Result{columns: ["x"], rows: [[1]], num_rows: 1}} =
             Native.execute(state, "SELECT x FROM t")

    assert :ok = Native.close(state)

    assert {:error, %EctoLibSql.Error{message: "Connection not found: it is closed"}} =
             Native.execute(state, "SELECT 1")
  end
end
