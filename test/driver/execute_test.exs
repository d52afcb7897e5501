defmodule EctoLibSql.Driver.ExecuteTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Query, Result}

  setup do
    path = tmp_db()
    {:ok, pool} = DBConnection.start_link(EctoLibSql, database: path, pool_size: 1)
    DBConnection.execute!(pool, q("CREATE TABLE t(id INTEGER PRIMARY KEY, x, at)"), [])
    %{pool: pool, path: path}
  end

  defp q(sql), do: %Query{statement: sql}

  test "execute/4 answers the query and a Result", %{pool: pool} do
    query = q("INSERT INTO t(x) VALUES (?)")

    assert {:ok, ^query, %Result{command: :insert, num_rows: 1}} =
             DBConnection.execute(pool, query, ["a"])

    assert {:ok, _, %Result{command: :select, columns: ["x"], rows: [["a"]], num_rows: 1}} =
             DBConnection.execute(pool, q("SELECT x FROM t"), [])

    assert %Result{rows: [[1]]} = DBConnection.execute!(pool, q("SELECT count(*) FROM t"), [])
  end

  test "prepare/3, prepare_execute/4 and close/3", %{pool: pool} do
    assert {:ok, %Query{} = query} = DBConnection.prepare(pool, q("SELECT ? + 1"))
    assert {:ok, ^query, %Result{rows: [[2]]}} = DBConnection.execute(pool, query, [1])

    assert {:ok, %Query{}, %Result{rows: [[3]]}} =
             DBConnection.prepare_execute(pool, q("SELECT ? + 1"), [2])

    assert {:ok, %Result{}} = DBConnection.close(pool, query)
  end

  test "parameters are encoded: dates, decimals-free maps, booleans, named maps", %{pool: pool} do
    DBConnection.execute!(pool, q("INSERT INTO t(x, at) VALUES (?, ?)"), [
      %{"a" => 1},
      ~D[2024-01-02]
    ])

    assert %Result{rows: [[~s({"a":1}), "2024-01-02"]]} =
             DBConnection.execute!(pool, q("SELECT x, at FROM t"), [])

    assert %Result{rows: [[1, 0, nil]]} =
             DBConnection.execute!(pool, q("SELECT :a, :b, :c"), %{a: true, b: false, c: :null})
  end

  test "iodata statements", %{pool: pool} do
    assert %Result{rows: [[7]]} = DBConnection.execute!(pool, q(["SELECT ", ["7"]]), [])
  end

  test "errors come back as EctoLibSql.Error; the connection stays usable", %{pool: pool} do
    assert {:error, %Error{message: "no such table: nope", sqlite: %{code: :error}}} =
             DBConnection.execute(pool, q("SELECT * FROM nope"), [])

    DBConnection.execute!(pool, q("CREATE UNIQUE INDEX t_x_index ON t(x)"), [])
    DBConnection.execute!(pool, q("INSERT INTO t(x) VALUES (1)"), [])

    assert {:error, %Error{message: "UNIQUE constraint failed: t.x (index: t_x_index)"}} =
             DBConnection.execute(pool, q("INSERT INTO t(x) VALUES (1)"), [])

    assert {:error, %Error{message: "unsupported argument type: " <> _}} =
             DBConnection.execute(pool, q("SELECT ?"), [{:a, :tuple}])

    assert_raise Error, ~r/wrong number of parameters/, fn ->
      DBConnection.execute!(pool, q("SELECT ?"), [])
    end

    assert %Result{rows: [[1]]} = DBConnection.execute!(pool, q("SELECT 1"), [])
    assert DBConnection.status(pool) == :idle
  end

  test "busy_timeout and connection options reach the connection", %{path: path} do
    {:ok, pool} =
      DBConnection.start_link(EctoLibSql,
        database: path,
        pool_size: 1,
        foreign_keys: true,
        journal_mode: :wal
      )

    assert %Result{rows: [[1]]} = DBConnection.execute!(pool, q("PRAGMA foreign_keys"), [])
    assert %Result{rows: [["wal"]]} = DBConnection.execute!(pool, q("PRAGMA journal_mode"), [])
  end

  test "a connection that cannot open keeps failing without crashing the caller" do
    log =
      ExUnit.CaptureLog.capture_log(fn ->
        forward_logs(fn ->
          {:ok, pool} =
            DBConnection.start_link(EctoLibSql,
              database: "/nonexistent/dir/x.db",
              pool_size: 1,
              backoff_min: 10,
              backoff_max: 50,
              queue_target: 50,
              queue_interval: 100
            )

          assert {:error, %DBConnection.ConnectionError{}} =
                   DBConnection.execute(pool, q("SELECT 1"), [], timeout: 500)

          assert_log("/nonexistent/dir/x.db")
          GenServer.stop(pool)
        end)
      end)

    assert log =~ "/nonexistent/dir/x.db"
  end
end
