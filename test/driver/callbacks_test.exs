defmodule EctoLibSql.Driver.CallbacksTest do
  # The DBConnection callbacks called directly, for the shapes DBConnection relies on.
  use ExUnit.Case, async: true

  alias EctoLibSql.{Error, Query, Result, State}

  setup do
    {:ok, state} = EctoLibSql.connect(database: ":memory:")
    on_exit(fn -> EctoLibSql.disconnect(:test, state) end)
    %{state: state}
  end

  test "connect/1, ping/1, checkout/1, disconnect/2", %{state: state} do
    assert %State{mode: :local, trx_id: nil} = state
    assert {:ok, ^state} = EctoLibSql.ping(state)
    assert {:ok, ^state} = EctoLibSql.checkout(state)
    assert :ok = EctoLibSql.disconnect(%RuntimeError{}, state)

    assert {:disconnect, %Error{message: "Connection not found: it is closed"}, ^state} =
             EctoLibSql.ping(state)

    assert {:error, %Error{message: "Unknown mode: " <> _}} = EctoLibSql.connect([])
  end

  test "handle_execute/4 with a query or a binary", %{state: state} do
    query = %Query{statement: "SELECT ?"}

    assert {:ok, ^query, %Result{rows: [[1]]}, ^state} =
             EctoLibSql.handle_execute(query, [1], [], state)

    assert {:ok, %Query{statement: "SELECT 2"}, %Result{rows: [[2]]}, ^state} =
             EctoLibSql.handle_execute("SELECT 2", [], [], state)

    assert {:error, %Error{message: "no such table: x"}, ^state} =
             EctoLibSql.handle_execute(%Query{statement: "SELECT * FROM x"}, [], [], state)
  end

  test "an error on a closed connection asks DBConnection to reconnect", %{state: state} do
    :ok = EctoLibSql.disconnect(:test, state)

    assert {:disconnect, %Error{message: "Connection not found: it is closed"}, ^state} =
             EctoLibSql.handle_execute(%Query{statement: "SELECT 1"}, [], [], state)
  end

  test "handle_prepare/3 and handle_close/3", %{state: state} do
    query = %Query{statement: "SELECT 1"}
    assert {:ok, ^query, ^state} = EctoLibSql.handle_prepare(query, [], state)
    assert {:ok, %Result{}, ^state} = EctoLibSql.handle_close(query, [], state)
  end

  test "savepoint mode inside a transaction, as DBConnection's sandbox uses it", %{state: state} do
    {:ok, _, _, state} =
      EctoLibSql.handle_execute(%Query{statement: "CREATE TABLE sp(x)"}, [], [], state)

    {:ok, _, t} = EctoLibSql.handle_begin([], state)
    insert = %Query{statement: "INSERT INTO sp VALUES (1)"}
    count = %Query{statement: "SELECT count(*) FROM sp"}

    {:ok, :begin, t} = EctoLibSql.handle_begin([mode: :savepoint], t)
    {:ok, _, _, t} = EctoLibSql.handle_execute(insert, [], [], t)
    {:ok, %Result{command: :rollback}, t} = EctoLibSql.handle_rollback([mode: :savepoint], t)
    assert {:ok, _, %Result{rows: [[0]]}, t} = EctoLibSql.handle_execute(count, [], [], t)
    assert {:transaction, t} = EctoLibSql.handle_status([], t)

    {:ok, _, t} = EctoLibSql.handle_begin([mode: :savepoint], t)
    {:ok, _, _, t} = EctoLibSql.handle_execute(insert, [], [], t)
    {:ok, %Result{command: :commit}, t} = EctoLibSql.handle_commit([mode: :savepoint], t)
    {:ok, _, state} = EctoLibSql.handle_commit([], t)
    assert {:ok, _, %Result{rows: [[1]]}, _} = EctoLibSql.handle_execute(count, [], [], state)
  end

  test "a transaction begun with plain SQL shows in the status", %{state: state} do
    {:ok, _, _, state} = EctoLibSql.handle_execute(%Query{statement: "BEGIN"}, [], [], state)
    assert {:transaction, state} = EctoLibSql.handle_status([], state)
    {:ok, _, _, state} = EctoLibSql.handle_execute(%Query{statement: "ROLLBACK"}, [], [], state)
    assert {:idle, _} = EctoLibSql.handle_status([], state)
  end

  test "foreign key enforcement switches inside a transaction", %{state: state} do
    fk = %Query{statement: "PRAGMA foreign_keys"}
    {:ok, _, t} = EctoLibSql.handle_begin([], state)
    {:ok, _, _, t} = EctoLibSql.handle_execute(fk, [], [foreign_keys_enforced: true], t)
    assert {:ok, _, %Result{rows: [[1]]}, t} = EctoLibSql.handle_execute(fk, [], [], t)
    {:ok, _, _, t} = EctoLibSql.handle_execute(fk, [], [foreign_keys_enforced: false], t)
    assert {:ok, _, %Result{rows: [[0]]}, t} = EctoLibSql.handle_execute(fk, [], [], t)
    {:ok, _, state} = EctoLibSql.handle_rollback([], t)

    # Switched off, it comes back on when a transaction or a savepoint rolls back (a failed
    # table rebuild cannot leave the connection without enforcement).
    assert {:ok, _, %Result{rows: [[1]]}, state} = EctoLibSql.handle_execute(fk, [], [], state)
    {:ok, _, t} = EctoLibSql.handle_begin([], state)
    {:ok, _, t} = EctoLibSql.handle_begin([mode: :savepoint], t)
    {:ok, _, _, t} = EctoLibSql.handle_execute(fk, [], [foreign_keys_enforced: false], t)
    {:ok, _, t} = EctoLibSql.handle_rollback([mode: :savepoint], t)
    assert {:ok, _, %Result{rows: [[1]]}, t} = EctoLibSql.handle_execute(fk, [], [], t)
    {:ok, _, _} = EctoLibSql.handle_commit([], t)
  end

  test "begin, status, commit, rollback", %{state: state} do
    assert {:idle, ^state} = EctoLibSql.handle_status([], state)

    assert {:ok, :begin, %State{trx_id: trx} = t} = EctoLibSql.handle_begin([], state)

    assert trx != nil
    assert {:transaction, ^t} = EctoLibSql.handle_status([], t)

    assert {:ok, %Result{command: :commit}, %State{trx_id: nil} = after_commit} =
             EctoLibSql.handle_commit([], t)

    # mode and options survive the transaction
    assert after_commit.mode == :local and after_commit.opts == state.opts

    {:ok, _, t} = EctoLibSql.handle_begin([mode: :immediate], state)

    assert {:ok, %Result{command: :rollback}, %State{trx_id: nil}} =
             EctoLibSql.handle_rollback([], t)

    assert {:error, %Error{message: "no active transaction"}, ^state} =
             EctoLibSql.handle_commit([], state)

    assert {:ok, %Result{command: :rollback}, ^state} = EctoLibSql.handle_rollback([], state)

    assert {:error, %Error{message: "Invalid transaction behavior" <> _}, ^state} =
             EctoLibSql.handle_begin([mode: :nonsense], state)

    # DBConnection's savepoint mode: only inside a transaction.
    assert {:error, %Error{message: "a savepoint needs an open transaction"}, ^state} =
             EctoLibSql.handle_begin([mode: :savepoint], state)
  end

  test "handle_status/2 after SQLite ended the transaction itself", %{state: state} do
    {:ok, _, t} = EctoLibSql.handle_begin([], state)
    {:ok, _, _, _} = EctoLibSql.handle_execute("ROLLBACK", [], [], t)
    assert {:error, ^t} = EctoLibSql.handle_status([], t)
    assert {:error, ^t} = EctoLibSql.handle_commit([], t)
    assert {:ok, _, %State{trx_id: nil}} = EctoLibSql.handle_rollback([], t)
  end

  test "handle_declare/4, handle_fetch/4, handle_deallocate/4", %{state: state} do
    query = %Query{statement: "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"}
    assert {:ok, ^query, cursor, ^state} = EctoLibSql.handle_declare(query, [], [], state)

    assert {:cont, %Result{rows: [[1], [2]], num_rows: 2}, ^state} =
             EctoLibSql.handle_fetch(query, cursor, [max_rows: 2], state)

    # Rows are :cont; the fetch after the last row is an empty :halt (as in earlier releases).
    assert {:cont, %Result{rows: [[3]]}, ^state} =
             EctoLibSql.handle_fetch(query, cursor, [max_rows: 2], state)

    assert {:halt, %Result{rows: [], num_rows: 0, columns: ["1"]}, ^state} =
             EctoLibSql.handle_fetch(query, cursor, [max_rows: 2], state)

    assert {:ok, %Result{}, ^state} = EctoLibSql.handle_deallocate(query, cursor, [], state)

    assert {:error, %Error{message: "Cursor not found: it is closed"}, ^state} =
             EctoLibSql.handle_fetch(query, cursor, [], state)

    assert {:error, %Error{message: "no such table: nope"}, ^state} =
             EctoLibSql.handle_declare(%Query{statement: "SELECT * FROM nope"}, [], [], state)
  end
end
