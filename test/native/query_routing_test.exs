defmodule EctoLibSql.Native.QueryRoutingTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Query, Result}

  test "detect_command/1 reads the statement the way SQLite does" do
    cases = [
      {"SELECT 1", :select},
      {"  -- comment\n /* block */ select 1", :select},
      {"WITH x AS (SELECT 1) SELECT * FROM x", :select},
      {"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", :insert},
      {"VALUES (1)", :select},
      {"EXPLAIN SELECT 1", :select},
      {"insert into t values (1)", :insert},
      {"REPLACE INTO t VALUES (1)", :insert},
      {"UPDATE t SET a = 1", :update},
      {"DELETE FROM t", :delete},
      {"BEGIN", :begin},
      {"COMMIT", :commit},
      {"END", :commit},
      {"ROLLBACK", :rollback},
      {"CREATE TABLE t(x)", :create},
      {"DROP TABLE t", :create},
      {"ALTER TABLE t ADD COLUMN y", :create},
      {"PRAGMA user_version", :pragma},
      {"SAVEPOINT a", :savepoint},
      {"RELEASE a", :release},
      {"VACUUM", :unknown},
      {"", :unknown},
      {"'SELECT'", :unknown}
    ]

    for {sql, expected} <- cases do
      assert {sql, Native.detect_command(sql)} == {sql, expected}
    end

    assert Native.detect_command(nil) == :unknown
    assert Native.detect_command(:select) == :unknown
  end

  test "should_use_query_path/1 is true for statements that return rows" do
    for sql <- [
          "SELECT 1",
          "  with x as (select 1) select * from x",
          "EXPLAIN QUERY PLAN SELECT 1",
          "PRAGMA table_info(t)",
          "VALUES (1)",
          "INSERT INTO t VALUES (1) RETURNING id",
          "UPDATE t SET x = 1 RETURNING *",
          "DELETE FROM t\nRETURNING\tid"
        ] do
      assert {sql, Native.should_use_query_path(sql)} == {sql, true}
    end

    for sql <- [
          "INSERT INTO t VALUES ('RETURNING')",
          "INSERT INTO t VALUES (1) -- RETURNING id",
          ~s[INSERT INTO "returning" VALUES (1)],
          "UPDATE t SET x = 1",
          "CREATE TABLE returning_t(x)",
          "BEGIN",
          ""
        ] do
      assert {sql, Native.should_use_query_path(sql)} == {sql, false}
    end

    assert_raise FunctionClauseError, fn -> Native.should_use_query_path(1) end
  end

  describe "query_args/5, pragma_query/2 (compatibility)" do
    setup do
      s = connect!()
      {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
      %{s: s}
    end

    test "answer string-keyed result maps", %{s: s} do
      c = s.conn_id

      assert %{"columns" => [], "rows" => [], "num_rows" => 2} =
               Native.query_args(c, :local, :disable_sync, "INSERT INTO t(x) VALUES (?), (?)", [
                 1,
                 2
               ])

      assert %{"columns" => ["x"], "rows" => [[1], [2]], "num_rows" => 2} =
               Native.query_args(c, :local, :disable_sync, "SELECT x FROM t ORDER BY x", [])

      # columns are known even without rows
      assert %{"columns" => ["x"], "rows" => [], "num_rows" => 0} =
               Native.query_args(c, :local, :disable_sync, "SELECT x FROM t WHERE 0", [])

      assert %{"columns" => ["x"], "rows" => [[1]]} =
               Native.query_args(c, nil, nil, "SELECT x FROM t WHERE x = :x", %{x: 1})

      assert {:error, "no such table: nope"} =
               Native.query_args(c, :local, :disable_sync, "SELECT * FROM nope", [])

      assert %{"columns" => ["user_version"], "rows" => [[0]], "num_rows" => 1} =
               Native.pragma_query(c, "PRAGMA user_version")

      assert {:error, "PRAGMA query failed: no such table: nope"} =
               Native.pragma_query(c, "SELECT * FROM nope")
    end
  end

  describe "query/3 (DBConnection shape)" do
    test "answers the query, a Result and the state" do
      s = connect!()
      q = %Query{statement: ["SELECT ", "?"]}
      assert {:ok, ^q, %Result{command: :select, rows: [[1]]}, ^s} = Native.query(s, q, [1])

      assert {:error, %Error{message: "unsupported argument type: " <> _}, ^s} =
               Native.query(s, q, [self()])

      assert {:error, %Error{message: "Cannot encode map parameter to JSON: " <> _}, ^s} =
               Native.query(s, q, [%{bad: <<0xFF>>}])
    end
  end
end
