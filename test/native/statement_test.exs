defmodule EctoLibSql.Native.StatementTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result}

  setup do
    s = connect!()

    {:ok, _} =
      Native.execute(
        s,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email VARCHAR(255) UNIQUE, n)"
      )

    {:ok, _} = Native.execute(s, "INSERT INTO users(email, n) VALUES ('a@x', 1), ('b@x', 2)")
    %{s: s}
  end

  test "prepare/2 then query_stmt/3 many times with list and map arguments", %{s: s} do
    assert {:ok, stmt} = Native.prepare(s, "SELECT email FROM users WHERE id = :id")
    assert is_reference(stmt)

    assert {:ok, %Result{command: :select, columns: ["email"], rows: [["a@x"]], num_rows: 1}} =
             Native.query_stmt(s, stmt, [1])

    assert {:ok, %Result{rows: [["b@x"]]}} = Native.query_stmt(s, stmt, %{id: 2})
    assert {:ok, %Result{rows: [["b@x"]]}} = Native.query_stmt(s, stmt, %{"id" => 2})
    assert {:ok, %Result{rows: []}} = Native.query_stmt(s, stmt, [99])

    assert {:error, "Missing required parameters: :id. SQL requires: :id"} =
             Native.query_stmt(s, stmt, %{})

    assert {:error, "wrong number of parameters: the statement takes 1, 2 given"} =
             Native.query_stmt(s, stmt, [1, 2])

    assert {:error, "arguments must be a list or map"} = Native.query_stmt(s, stmt, "x")
    # a failed call leaves the statement usable
    assert {:ok, %Result{rows: [["a@x"]]}} = Native.query_stmt(s, stmt, [1])
  end

  test "execute_stmt/4 answers changed rows, or a Result for queries", %{s: s} do
    {:ok, ins} = Native.prepare(s, "INSERT INTO users(email) VALUES (?)")
    assert {:ok, 1} = Native.execute_stmt(s, ins, "ignored", ["c@x"])
    assert {:ok, 1} = Native.execute_stmt(s, ins, "ignored", ["d@x"])

    assert {:error, "UNIQUE constraint failed: users.email"} =
             Native.execute_stmt(s, ins, "ignored", ["c@x"])

    {:ok, upd} = Native.prepare(s, "UPDATE users SET n = n + 1")
    assert {:ok, 4} = Native.execute_stmt(s, upd, "", [])

    {:ok, sel} = Native.prepare(s, "SELECT count(*) FROM users")
    assert {:ok, %Result{rows: [[4]]}} = Native.execute_stmt(s, sel, "", [])

    {:ok, ret} = Native.prepare(s, "DELETE FROM users WHERE email = ? RETURNING id")
    assert {:ok, %Result{columns: ["id"], rows: [[3]]}} = Native.execute_stmt(s, ret, "", ["c@x"])
  end

  test "UNIQUE errors name a matching CREATE UNIQUE INDEX", %{s: s} do
    {:ok, _} = Native.execute(s, "CREATE TABLE t(a, b)")
    {:ok, _} = Native.execute(s, "CREATE UNIQUE INDEX t_a_b_index ON t(a, b)")
    {:ok, _} = Native.execute(s, "INSERT INTO t VALUES (1, 2)")
    {:ok, ins} = Native.prepare(s, "INSERT INTO t VALUES (?, ?)")

    assert {:error, "UNIQUE constraint failed: t.a, t.b (index: t_a_b_index)"} =
             Native.execute_stmt(s, ins, "", [1, 2])

    {:ok, t} = Native.begin(s)

    assert {:error, %Error{message: "UNIQUE constraint failed: t.a, t.b (index: t_a_b_index)"}} =
             Native.execute(t, "INSERT INTO t VALUES (1, 2)")

    {:ok, _} = Native.rollback(t)
  end

  test "introspection: columns, origin names, declared types and parameters", %{s: s} do
    {:ok, stmt} =
      Native.prepare(
        s,
        "SELECT u.id AS ident, email, n, 1 + 1 AS two, ? FROM users u WHERE id = :id OR id = @other"
      )

    assert {:ok, 5} = Native.stmt_column_count(s, stmt)
    assert {:ok, "ident"} = Native.stmt_column_name(s, stmt, 0)
    assert {:ok, "two"} = Native.stmt_column_name(s, stmt, 3)

    assert {:error, "Column index 5 out of bounds (statement has 5 columns)"} =
             Native.stmt_column_name(s, stmt, 5)

    assert {:ok, 3} = Native.stmt_parameter_count(s, stmt)
    assert {:ok, nil} = Native.stmt_parameter_name(s, stmt, 1)
    assert {:ok, ":id"} = Native.stmt_parameter_name(s, stmt, 2)
    assert {:ok, "@other"} = Native.stmt_parameter_name(s, stmt, 3)

    assert {:error, "Parameter index 4 out of bounds (statement has 3 parameters)"} =
             Native.stmt_parameter_name(s, stmt, 4)

    assert {:ok,
            [
              {"ident", "id", "INTEGER"},
              {"email", "email", "VARCHAR(255)"},
              {"n", "n", nil},
              {"two", "two", nil},
              {"?", "?", nil}
            ]} = Native.get_stmt_columns(s, stmt)

    # guards: indices must be in range for their kind
    assert_raise FunctionClauseError, fn -> Native.stmt_column_name(s, stmt, -1) end
    assert_raise FunctionClauseError, fn -> Native.stmt_parameter_name(s, stmt, 0) end
  end

  test "statements without columns or parameters", %{s: s} do
    {:ok, stmt} = Native.prepare(s, "DELETE FROM users")
    assert {:ok, 0} = Native.stmt_column_count(s, stmt)
    assert {:ok, 0} = Native.stmt_parameter_count(s, stmt)
    assert {:ok, []} = Native.get_stmt_columns(s, stmt)
  end

  test "reset_stmt/2 releases the statement; close_stmt/1 is idempotent", %{s: s} do
    {:ok, stmt} = Native.prepare(s, "SELECT * FROM users")
    assert :ok = Native.reset_stmt(s, stmt)
    assert :ok = Native.close_stmt(stmt)
    assert :ok = Native.close_stmt(stmt)
    assert {:error, "Statement not found: it is closed"} = Native.query_stmt(s, stmt, [])
    assert {:error, "Statement not found: it is closed"} = Native.reset_stmt(s, stmt)
    assert {:error, "Statement not found: it is closed"} = Native.stmt_column_count(s, stmt)
    assert {:error, "Statement not found: it is closed"} = Native.get_stmt_columns(s, stmt)
  end

  test "prepare/2 errors", %{s: s} do
    # The original's wording: "Prepare failed: <SQLite's message>".
    assert {:error, "Prepare failed: near \"SELEC\": syntax error"} = Native.prepare(s, "SELEC 1")

    assert {:error, "Prepare failed: no such table: nope"} =
             Native.prepare(s, "SELECT * FROM nope")

    assert {:error, "Prepare failed: the SQL holds no statement"} = Native.prepare(s, "  ")

    assert {:error, "Prepare failed: the SQL holds more than one statement" <> _} =
             Native.prepare(s, "SELECT 1; SELECT 2")

    # a trailing semicolon or comment is not a second statement
    assert {:ok, _} = Native.prepare(s, "SELECT 1; -- done")
    assert_raise FunctionClauseError, fn -> Native.prepare(s, :sql) end
  end

  test "a statement of another connection is refused", %{s: s} do
    other = connect!()
    {:ok, stmt} = Native.prepare(s, "SELECT 1")

    for result <- [
          Native.query_stmt(other, stmt, []),
          Native.reset_stmt(other, stmt),
          Native.stmt_column_count(other, stmt),
          Native.stmt_parameter_count(other, stmt),
          Native.get_stmt_columns(other, stmt)
        ] do
      assert result == {:error, "Statement does not belong to connection"}
    end

    assert {:ok, %Result{rows: [[1]]}} = Native.query_stmt(s, stmt, [])
  end

  test "handles of the wrong kind answer that no statement was found", %{s: s} do
    {:ok, cursor} = Native.declare_cursor(s, "SELECT 1", [])
    message = "Statement not found: not a statement handle"
    assert {:error, ^message} = Native.query_stmt(s, cursor, [])
    assert {:error, ^message} = Native.close_stmt(s.conn_id)
    assert {:error, ^message} = Native.stmt_column_count(s, make_ref())
  end

  test "a schema change re-prepares the statement", %{s: s} do
    {:ok, stmt} = Native.prepare(s, "SELECT * FROM users WHERE id = 1")
    assert {:ok, %Result{columns: ["id", "email", "n"]}} = Native.query_stmt(s, stmt, [])
    {:ok, _} = Native.execute(s, "ALTER TABLE users ADD COLUMN extra DEFAULT 'x'")
    assert {:ok, %Result{columns: ["id", "email", "n", "extra"]}} = Native.query_stmt(s, stmt, [])
  end

  test "a statement prepared outside a transaction runs inside one", %{s: s} do
    {:ok, ins} = Native.prepare(s, "INSERT INTO users(email) VALUES (?)")
    {:ok, t} = Native.begin(s)
    {:ok, 1} = Native.execute_stmt(t, ins, "", ["t@x"])
    {:ok, _} = Native.rollback(t)
    assert rows!(s, "SELECT count(*) FROM users WHERE email = 't@x'") == [[0]]
  end

  describe "compatibility functions" do
    test "prepare_statement, query_prepared, execute_prepared and introspection", %{s: s} do
      c = s.conn_id
      stmt = Native.prepare_statement(c, "SELECT id, email FROM users WHERE id = $id")
      assert is_reference(stmt)

      assert %{"columns" => ["id", "email"], "rows" => [[1, "a@x"]], "num_rows" => 1} =
               Native.query_prepared(c, stmt, :local, :disable_sync, %{id: 1})

      assert Native.statement_column_count(c, stmt) == 2
      assert Native.statement_column_name(c, stmt, 1) == "email"
      assert Native.statement_parameter_count(c, stmt) == 1
      assert Native.statement_parameter_name(c, stmt, 1) == "$id"

      assert Native.get_statement_columns(c, stmt) == [
               {"id", "id", "INTEGER"},
               {"email", "email", "VARCHAR(255)"}
             ]

      assert :ok = Native.reset_statement(c, stmt)

      assert {:error, "Column index 2 out of bounds (statement has 2 columns)"} =
               Native.statement_column_name(c, stmt, 2)

      ins = Native.prepare_statement(c, "INSERT INTO users(email) VALUES (?)")
      assert 1 = Native.execute_prepared(c, ins, :local, :disable_sync, "sql", ["z@x"])

      assert {:error, "Execute failed: UNIQUE constraint failed: users.email"} =
               Native.execute_prepared(c, ins, :local, :disable_sync, "sql", ["z@x"])

      assert {:error, "Prepare failed: near \"SELEC\": syntax error"} =
               Native.prepare_statement(c, "SELEC")

      :ok = Native.close(stmt, :stmt_id)

      assert {:error, "Statement not found: it is closed"} =
               Native.query_prepared(c, stmt, :local, :disable_sync, [])
    end
  end
end
