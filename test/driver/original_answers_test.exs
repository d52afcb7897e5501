defmodule EctoLibSql.Driver.OriginalAnswersTest do
  # The DBConnection callbacks answer what the original driver (ecto_libsql 0.9) answered to
  # code that calls them directly.
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog
  import EctoLibSql.TestHelpers, only: [forward_logs: 1, assert_log: 1]
  alias EctoLibSql.{Error, Query, Result, State}

  setup do
    {:ok, state} = EctoLibSql.connect(database: ":memory:")
    on_exit(fn -> EctoLibSql.disconnect(:test, state) end)

    {:ok, _, _, state} =
      EctoLibSql.handle_execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, age INTEGER)",
        [],
        [],
        state
      )

    %{state: state}
  end

  test "handle_begin/2 answers {:ok, :begin, state}", %{state: state} do
    assert {:ok, :begin, %State{trx_id: trx} = t} = EctoLibSql.handle_begin([], state)
    assert is_reference(trx)
    # a savepoint inside it (DBConnection's sandbox) answers the same
    assert {:ok, :begin, t} = EctoLibSql.handle_begin([mode: :savepoint], t)
    assert {:ok, %Result{}, t} = EctoLibSql.handle_commit([mode: :savepoint], t)
    assert {:ok, %Result{}, %State{trx_id: nil}} = EctoLibSql.handle_commit([], t)
  end

  describe "named parameters in handle_execute/4" do
    test "a map binds by name", %{state: state} do
      {:ok, _, _, state} =
        EctoLibSql.handle_execute(
          "INSERT INTO users (id, name, email, age) VALUES (:id, @name, $email, :age)",
          %{id: 1, name: "Jack", email: "jack@example.com", age: nil, extra: "ignored"},
          [],
          state
        )

      assert {:ok, _, %Result{rows: [[1, "Jack", "jack@example.com", nil]]}, _} =
               EctoLibSql.handle_execute(
                 "SELECT * FROM users WHERE id = :id",
                 %{"id" => 1},
                 [],
                 state
               )
    end

    test "missing parameters raise ArgumentError naming them", %{state: state} do
      assert_raise ArgumentError, ~r/Missing required parameters: :email, :age/, fn ->
        EctoLibSql.handle_execute(
          "INSERT INTO users (id, name, email, age) VALUES (:id, :name, :email, :age)",
          %{id: 1, name: "Jack"},
          [],
          state
        )
      end

      # names are case-sensitive
      assert_raise ArgumentError, ~r/Missing required parameters: :Name/, fn ->
        EctoLibSql.handle_execute(
          "SELECT * FROM users WHERE name = :Name",
          %{name: "x"},
          [],
          state
        )
      end

      # nothing was written
      assert {:ok, _, %Result{rows: [[0]]}, _} =
               EctoLibSql.handle_execute("SELECT count(*) FROM users", [], [], state)
    end

    test "a map with positional SQL raises ArgumentError", %{state: state} do
      assert_raise ArgumentError,
                   ~r/Cannot use named parameter map with SQL that has positional parameters/,
                   fn ->
                     EctoLibSql.handle_execute(
                       "INSERT INTO users (id, name) VALUES (?, ?)",
                       %{id: 1, name: "Test"},
                       [],
                       state
                     )
                   end
    end

    test "SQL that does not prepare answers the driver's error, not a raise", %{state: state} do
      assert {:error, %Error{message: "no such table: nope"}, _} =
               EctoLibSql.handle_execute("SELECT * FROM nope WHERE id = :id", %{id: 1}, [], state)
    end
  end

  describe "cursors" do
    test "the cursor is %{ref: _}; the last rows are :cont, then an empty :halt", %{
      state: state
    } do
      {:ok, _, _, state} =
        EctoLibSql.handle_execute(
          "INSERT INTO users (name) VALUES ('a'), ('b'), ('c')",
          [],
          [],
          state
        )

      query = %Query{statement: "SELECT name FROM users ORDER BY id"}

      assert {:ok, ^query, %{ref: ref} = cursor, ^state} =
               EctoLibSql.handle_declare(query, [], [], state)

      assert is_reference(ref)

      assert {:cont, %Result{rows: [["a"], ["b"]]}, _} =
               EctoLibSql.handle_fetch(query, cursor, [max_rows: 2], state)

      assert {:cont, %Result{rows: [["c"]], num_rows: 1}, _} =
               EctoLibSql.handle_fetch(query, cursor, [max_rows: 2], state)

      assert {:halt, %Result{command: :select, columns: ["name"], rows: [], num_rows: 0}, _} =
               EctoLibSql.handle_fetch(query, cursor, [max_rows: 2], state)

      # the fetch_cursor/3 of earlier releases takes the ref
      assert {["name"], [], 0} = EctoLibSql.Native.fetch_cursor(state.conn_id, cursor.ref, 10)
      assert {:ok, %Result{}, _} = EctoLibSql.handle_deallocate(query, cursor, [], state)
    end

    test "an empty result is one empty :halt", %{state: state} do
      query = %Query{statement: "SELECT name FROM users"}
      {:ok, _, cursor, _} = EctoLibSql.handle_declare(query, [], [], state)

      assert {:halt, %Result{rows: [], num_rows: 0}, _} =
               EctoLibSql.handle_fetch(query, cursor, [], state)
    end
  end

  describe "database: \":memory:\"" do
    test "a pool of several connections is refused: each would have its own database" do
      assert {:error, %Error{message: message}} =
               EctoLibSql.connect(database: ":memory:", pool_size: 3)

      assert message =~ ~s{database: ":memory:" with pool_size: 3}
      assert message =~ "its own empty database"

      log =
        capture_log(fn ->
          forward_logs(fn ->
            {:ok, pool} =
              DBConnection.start_link(EctoLibSql,
                database: ":memory:",
                pool_size: 2,
                backoff_min: 10,
                backoff_max: 50
              )

            assert {:error, %DBConnection.ConnectionError{}} =
                     DBConnection.execute(pool, %Query{statement: "SELECT 1"}, [],
                       queue_target: 50,
                       timeout: 300
                     )

            assert_log("its own empty database")
            GenServer.stop(pool)
          end)
        end)

      assert log =~ "its own empty database"
    end

    test "one connection, or a shared memdb name, works" do
      {:ok, pool} = DBConnection.start_link(EctoLibSql, database: ":memory:", pool_size: 1)
      assert %Result{rows: [[1]]} = DBConnection.execute!(pool, %Query{statement: "SELECT 1"}, [])

      name = "file:/ecto_libsql_driver_#{System.unique_integer([:positive])}?vfs=memdb"
      {:ok, shared} = DBConnection.start_link(EctoLibSql, database: name, pool_size: 2)
      DBConnection.execute!(shared, %Query{statement: "CREATE TABLE t (x)"}, [])

      results =
        for _ <- 1..2 do
          Task.async(fn ->
            DBConnection.run(shared, fn conn ->
              Process.sleep(20)
              DBConnection.execute!(conn, %Query{statement: "SELECT count(*) FROM t"}, [])
            end)
          end)
        end
        |> Task.await_many()

      assert Enum.all?(results, &match?(%Result{rows: [[0]]}, &1))
    end
  end
end
