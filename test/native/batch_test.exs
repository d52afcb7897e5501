defmodule EctoLibSql.Native.BatchTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, Result}

  setup do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x TEXT UNIQUE)")
    %{s: s}
  end

  defp xs(s), do: rows!(s, "SELECT x FROM t ORDER BY id") |> List.flatten()

  describe "batch/2" do
    test "runs each statement with its arguments", %{s: s} do
      assert {:ok,
              [
                %Result{command: :batch, columns: [], rows: [], num_rows: 1},
                %Result{command: :batch, columns: [], rows: [], num_rows: 1},
                %Result{command: :batch, columns: ["x"], rows: [["a"], ["b"]], num_rows: 2}
              ]} =
               Native.batch(s, [
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"INSERT INTO t(x) VALUES (:x)", %{x: "b"}},
                 {"SELECT x FROM t ORDER BY id", []}
               ])
    end

    test "stops at the first failure; earlier statements stay applied", %{s: s} do
      assert {:error, "Batch statement error: UNIQUE constraint failed: t.x"} =
               Native.batch(s, [
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"INSERT INTO t(x) VALUES (?)", ["c"]}
               ])

      assert xs(s) == ["a"]
    end

    test "empty batches and malformed entries", %{s: s} do
      assert {:ok, []} = Native.batch(s, [])

      for bad <- [[{"SELECT 1"}], [:x], [{"SELECT 1", [], 3}]] do
        assert {:error,
                "Batch statement error: Failed to decode statement: each batch entry must be {sql, args}"} =
                 Native.batch(s, bad)
      end

      assert {:error, "Batch statement error: unsupported argument type: " <> _} =
               Native.batch(s, [{"SELECT ?", [self()]}])

      assert_raise ArgumentError, fn -> Native.batch(s, [{:not_sql, []}]) end
      assert_raise ArgumentError, fn -> Native.batch(s, :not_a_list) end
    end

    test "runs inside the open transaction", %{s: s} do
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.batch(t, [{"INSERT INTO t(x) VALUES ('in')", []}])
      {:ok, _} = Native.rollback(t)
      assert xs(s) == []
    end
  end

  describe "batch_transactional/2" do
    test "is all or nothing", %{s: s} do
      assert {:error, "Batch statement error: UNIQUE constraint failed: t.x"} =
               Native.batch_transactional(s, [
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"INSERT INTO t(x) VALUES (?)", ["b"]},
                 {"INSERT INTO t(x) VALUES (?)", ["a"]}
               ])

      assert xs(s) == []
      assert Native.get_is_autocommit(s) == true

      assert {:ok, [_, _]} =
               Native.batch_transactional(s, [
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"INSERT INTO t(x) VALUES (?)", ["b"]}
               ])

      assert xs(s) == ["a", "b"]
    end

    test "inside a transaction it undoes only its own statements", %{s: s} do
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES ('before')")

      assert {:error, _} =
               Native.batch_transactional(t, [
                 {"INSERT INTO t(x) VALUES ('mine')", []},
                 {"INSERT INTO nope VALUES (1)", []}
               ])

      assert Native.handle_status_transaction(t.trx_id) == :ok
      {:ok, _} = Native.commit(t)
      assert xs(s) == ["before"]
    end
  end

  describe "execute_batch_sql/2" do
    test "runs a script; triggers keep their inner semicolons", %{s: s} do
      script = """
      CREATE TABLE log(msg TEXT);
      CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
        INSERT INTO log VALUES ('a;b');
        INSERT INTO log VALUES (new.x || ';');
      END;
      -- a comment; with a semicolon
      INSERT INTO t(x) VALUES ('semi;colon');
      SELECT msg FROM log ORDER BY rowid;
      """

      assert {:ok, [nil, nil, nil, %{"columns" => ["msg"], "rows" => rows, "num_rows" => 2}]} =
               Native.execute_batch_sql(s, script)

      assert rows == [["a;b"], ["semi;colon;"]]
    end

    test "stops at the first failure; earlier statements stay", %{s: s} do
      assert {:error, "batch failed: UNIQUE constraint failed: t.x"} =
               Native.execute_batch_sql(
                 s,
                 "INSERT INTO t(x) VALUES ('a'); INSERT INTO t(x) VALUES ('a'); INSERT INTO t(x) VALUES ('c')"
               )

      assert xs(s) == ["a"]

      assert {:error, "batch failed: near \"SELEC\": syntax error"} =
               Native.execute_batch_sql(s, "INSERT INTO t(x) VALUES ('z'); SELEC 1")

      assert xs(s) == ["a", "z"]
    end

    test "empty scripts and statements with parameters", %{s: s} do
      assert {:ok, []} = Native.execute_batch_sql(s, "")
      assert {:ok, []} = Native.execute_batch_sql(s, " ; ;; -- nothing\n")

      assert {:error, "batch failed: wrong number of parameters" <> _} =
               Native.execute_batch_sql(s, "SELECT ?")
    end
  end

  describe "execute_transactional_batch_sql/2" do
    test "is all or nothing", %{s: s} do
      assert {:error, "transactional batch failed: UNIQUE constraint failed: t.x"} =
               Native.execute_transactional_batch_sql(
                 s,
                 "INSERT INTO t(x) VALUES ('a'); INSERT INTO t(x) VALUES ('b'); INSERT INTO t(x) VALUES ('a');"
               )

      assert xs(s) == []
      assert Native.get_is_autocommit(s) == true

      assert {:ok, [nil, nil]} =
               Native.execute_transactional_batch_sql(
                 s,
                 "INSERT INTO t(x) VALUES ('a'); INSERT INTO t(x) VALUES ('b')"
               )

      assert xs(s) == ["a", "b"]
    end
  end

  describe "compatibility functions" do
    test "execute_batch/4 and execute_transactional_batch/4", %{s: s} do
      c = s.conn_id

      assert [
               %{"columns" => [], "rows" => [], "num_rows" => 1},
               %{"columns" => ["x"], "rows" => [["a"]], "num_rows" => 1}
             ] =
               Native.execute_batch(c, :local, :disable_sync, [
                 {"INSERT INTO t(x) VALUES (?)", ["a"]},
                 {"SELECT x FROM t", []}
               ])

      assert {:error, "Batch statement error: UNIQUE constraint failed: t.x"} =
               Native.execute_transactional_batch(c, :local, :disable_sync, [
                 {"INSERT INTO t(x) VALUES (?)", ["b"]},
                 {"INSERT INTO t(x) VALUES (?)", ["a"]}
               ])

      assert xs(s) == ["a"]
    end

    test "execute_batch_native/2 and execute_transactional_batch_native/2", %{s: s} do
      c = s.conn_id

      assert [nil, %{"columns" => ["n"], "rows" => [[1]], "num_rows" => 1}] =
               Native.execute_batch_native(c, "INSERT INTO t(x) VALUES ('a'); SELECT 1 AS n")

      assert {:error, "transactional batch failed: UNIQUE constraint failed: t.x"} =
               Native.execute_transactional_batch_native(
                 c,
                 "INSERT INTO t(x) VALUES ('q'); INSERT INTO t(x) VALUES ('a')"
               )

      assert {:error, "batch failed: no such table: nope"} =
               Native.execute_batch_native(c, "SELECT * FROM nope")

      assert xs(s) == ["a"]
    end
  end
end
