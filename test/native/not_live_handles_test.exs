defmodule EctoLibSql.Native.NotLiveHandlesTest do
  # Every public function of EctoLibSql.Native, called with a state whose handles are not live
  # (the UUID strings of the original release, nil, handles that were closed), answers an error
  # and never raises. The list of functions comes from the module itself: a new function must
  # be added to calls/0 (or to @takes_no_handle) before this test passes.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, Query, State}

  @uuid "00000000-0000-0000-0000-000000000000"

  # {name, arity} => how to call it with the not-live handles `h`.
  defp calls do
    %{
      {:add_authorizer, 1} => &Native.add_authorizer(&1.state),
      {:add_authorizer, 2} => &Native.add_authorizer(&1.state, self()),
      {:add_authorizer, 3} => &Native.add_authorizer(&1.state, self(), 100),
      {:add_update_hook, 1} => &Native.add_update_hook(&1.state),
      {:add_update_hook, 2} => &Native.add_update_hook(&1.state, self()),
      {:batch, 2} => &Native.batch(&1.state, [{"SELECT 1", []}]),
      {:batch_transactional, 2} => &Native.batch_transactional(&1.state, [{"SELECT 1", []}]),
      {:begin, 1} => &Native.begin(&1.state),
      {:begin, 2} => &Native.begin(&1.state, behavior: :immediate),
      {:begin_transaction, 1} => &Native.begin_transaction(&1.conn),
      {:begin_transaction_with_behavior, 2} =>
        &Native.begin_transaction_with_behavior(&1.conn, :deferred),
      {:busy_timeout, 1} => &Native.busy_timeout(&1.state),
      {:busy_timeout, 2} => &Native.busy_timeout(&1.state, 10),
      {:changes, 1} => &Native.changes(&1.conn),
      {:clear_update_hook, 1} => &Native.clear_update_hook(&1.conn),
      {:close, 1} => &Native.close(&1.state),
      {:close, 2} => &Native.close(&1.conn, :conn_id),
      {:close_conn, 3} => &Native.close_conn(&1.conn, :conn_id, &1.state),
      {:close_cursor, 1} => &Native.close_cursor(&1.cursor),
      {:close_stmt, 1} => &Native.close_stmt(&1.stmt),
      {:commit, 1} => &Native.commit(&1.state),
      {:commit_or_rollback_transaction, 5} =>
        &Native.commit_or_rollback_transaction(&1.trx, &1.conn, :local, :disable_sync, "commit"),
      {:create_savepoint, 2} => &Native.create_savepoint(&1.state, "sp"),
      {:declare_cursor, 3} => &Native.declare_cursor(&1.state, "SELECT 1", []),
      {:declare_cursor_with_context, 5} =>
        &Native.declare_cursor_with_context(&1.conn, &1.conn, :connection, "SELECT 1", []),
      {:do_sync, 2} => &Native.do_sync(&1.conn, :remote_replica),
      {:enable_extensions, 2} => &Native.enable_extensions(&1.state, false),
      {:enable_load_extension, 2} => &Native.enable_load_extension(&1.conn, false),
      {:execute, 2} => &Native.execute(&1.state, "SELECT 1"),
      {:execute, 3} => &Native.execute(&1.state, "SELECT ?", [1]),
      {:execute_batch, 4} =>
        &Native.execute_batch(&1.conn, :local, :disable_sync, [{"SELECT 1", []}]),
      {:execute_batch_native, 2} => &Native.execute_batch_native(&1.conn, "SELECT 1; SELECT 2"),
      {:execute_batch_sql, 2} => &Native.execute_batch_sql(&1.state, "SELECT 1; SELECT 2"),
      {:execute_non_trx, 3} =>
        &Native.execute_non_trx(%Query{statement: "SELECT 1"}, &1.state, []),
      {:execute_prepared, 6} =>
        &Native.execute_prepared(&1.conn, &1.stmt, :local, :disable_sync, "SELECT 1", []),
      {:execute_stmt, 4} => &Native.execute_stmt(&1.state, &1.stmt, "SELECT 1", []),
      {:execute_transactional_batch, 4} =>
        &Native.execute_transactional_batch(&1.conn, :local, :disable_sync, [{"SELECT 1", []}]),
      {:execute_transactional_batch_native, 2} =>
        &Native.execute_transactional_batch_native(&1.conn, "SELECT 1; SELECT 2"),
      {:execute_transactional_batch_sql, 2} =>
        &Native.execute_transactional_batch_sql(&1.state, "SELECT 1; SELECT 2"),
      {:execute_with_transaction, 4} =>
        &Native.execute_with_transaction(&1.trx, &1.conn, "SELECT 1", []),
      {:execute_with_trx, 3} =>
        &Native.execute_with_trx(&1.state, %Query{statement: "SELECT 1"}, []),
      {:fetch, 2} => &Native.fetch(&1.state, &1.cursor),
      {:fetch, 3} => &Native.fetch(&1.state, &1.cursor, 10),
      {:fetch_cursor, 3} => &Native.fetch_cursor(&1.conn, &1.cursor, 10),
      {:flush_and_get_frame, 1} => &Native.flush_and_get_frame(&1.state),
      {:flush_replicator, 1} => &Native.flush_replicator(&1.conn),
      {:freeze_database, 1} => &Native.freeze_database(&1.conn),
      {:freeze_replica, 1} => &Native.freeze_replica(&1.state),
      {:get_changes, 1} => &Native.get_changes(&1.state),
      {:get_frame_number, 1} => &Native.get_frame_number(&1.conn),
      {:get_frame_number_for_replica, 1} => &Native.get_frame_number_for_replica(&1.state),
      {:get_is_autocommit, 1} => &Native.get_is_autocommit(&1.state),
      {:get_last_insert_rowid, 1} => &Native.get_last_insert_rowid(&1.state),
      {:get_max_write_frame, 1} => &Native.get_max_write_frame(&1.state),
      {:get_statement_columns, 2} => &Native.get_statement_columns(&1.conn, &1.stmt),
      {:get_stmt_columns, 2} => &Native.get_stmt_columns(&1.state, &1.stmt),
      {:get_total_changes, 1} => &Native.get_total_changes(&1.state),
      {:handle_status_transaction, 1} => &Native.handle_status_transaction(&1.trx),
      {:interrupt, 1} => &Native.interrupt(&1.state),
      {:interrupt_connection, 1} => &Native.interrupt_connection(&1.conn),
      {:is_autocommit, 1} => &Native.is_autocommit(&1.conn),
      {:last_insert_rowid, 1} => &Native.last_insert_rowid(&1.conn),
      {:load_ext, 2} => &Native.load_ext(&1.state, "/nonexistent/ext"),
      {:load_ext, 3} => &Native.load_ext(&1.state, "/nonexistent/ext", "init"),
      {:load_extension, 3} => &Native.load_extension(&1.conn, "/nonexistent/ext", nil),
      {:max_write_replication_index, 1} => &Native.max_write_replication_index(&1.conn),
      # A map of named arguments needs the connection (a list does not).
      {:normalise_arguments, 3} =>
        &Native.normalise_arguments(&1.state, "SELECT :not_live_#{&1.kind}", %{a: 1}),
      {:normalise_arguments_for_stmt, 3} =>
        &Native.normalise_arguments_for_stmt(&1.conn, &1.stmt, %{a: 1}),
      {:ping, 1} => &Native.ping(&1.conn),
      {:pragma_query, 2} => &Native.pragma_query(&1.conn, "PRAGMA user_version"),
      {:prepare, 2} => &Native.prepare(&1.state, "SELECT 1"),
      {:prepare_statement, 2} => &Native.prepare_statement(&1.conn, "SELECT 1"),
      {:query, 3} => &Native.query(&1.state, %Query{statement: "SELECT 1"}, []),
      {:query_args, 5} => &Native.query_args(&1.conn, :local, :disable_sync, "SELECT 1", []),
      {:query_prepared, 5} => &Native.query_prepared(&1.conn, &1.stmt, :local, :disable_sync, []),
      {:query_stmt, 3} => &Native.query_stmt(&1.state, &1.stmt, []),
      {:query_with_trx_args, 4} => &Native.query_with_trx_args(&1.trx, &1.conn, "SELECT 1", []),
      {:release_savepoint, 3} => &Native.release_savepoint(&1.conn, &1.trx, "sp"),
      {:release_savepoint_by_name, 2} => &Native.release_savepoint_by_name(&1.state, "sp"),
      {:remove_authorizer, 1} => &Native.remove_authorizer(&1.state),
      {:remove_update_hook, 1} => &Native.remove_update_hook(&1.state),
      {:reset, 1} => &Native.reset(&1.state),
      {:reset_connection, 1} => &Native.reset_connection(&1.conn),
      {:reset_statement, 2} => &Native.reset_statement(&1.conn, &1.stmt),
      {:reset_stmt, 2} => &Native.reset_stmt(&1.state, &1.stmt),
      {:rollback, 1} => &Native.rollback(&1.state),
      {:rollback_to_savepoint, 3} => &Native.rollback_to_savepoint(&1.conn, &1.trx, "sp"),
      {:rollback_to_savepoint_by_name, 2} =>
        &Native.rollback_to_savepoint_by_name(&1.state, "sp"),
      {:savepoint, 3} => &Native.savepoint(&1.conn, &1.trx, "sp"),
      {:set_authorizer, 2} => &Native.set_authorizer(&1.conn, self()),
      {:set_busy_timeout, 2} => &Native.set_busy_timeout(&1.conn, 10),
      {:set_update_hook, 2} => &Native.set_update_hook(&1.conn, self()),
      {:statement_column_count, 2} => &Native.statement_column_count(&1.conn, &1.stmt),
      {:statement_column_name, 3} => &Native.statement_column_name(&1.conn, &1.stmt, 0),
      {:statement_parameter_count, 2} => &Native.statement_parameter_count(&1.conn, &1.stmt),
      {:statement_parameter_name, 3} => &Native.statement_parameter_name(&1.conn, &1.stmt, 1),
      {:stmt_column_count, 2} => &Native.stmt_column_count(&1.state, &1.stmt),
      {:stmt_column_name, 3} => &Native.stmt_column_name(&1.state, &1.stmt, 0),
      {:stmt_parameter_count, 2} => &Native.stmt_parameter_count(&1.state, &1.stmt),
      {:stmt_parameter_name, 3} => &Native.stmt_parameter_name(&1.state, &1.stmt, 1),
      {:sync, 1} => &Native.sync(&1.state),
      {:sync_until, 2} => &Native.sync_until(&1.conn, 1),
      {:sync_until_frame, 2} => &Native.sync_until_frame(&1.state, 1),
      {:total_changes, 1} => &Native.total_changes(&1.conn)
    }
  end

  # Functions that take no connection, transaction, statement or cursor handle.
  @takes_no_handle [
    authorize_reply: 2,
    clear_param_cache: 0,
    connect: 1,
    connect: 2,
    decrypt_database: 3,
    detect_command: 1,
    encrypt_database: 3,
    open: 2,
    param_cache_size: 0,
    rekey: 3,
    should_use_query_path: 1,
    vector: 1,
    vector_distance_cos: 2,
    vector_type: 1,
    vector_type: 2
  ]

  # Idempotent on a handle that was closed: closing it again, rolling back a transaction that
  # has ended, or interrupting (safe at any time, from any process) succeeds.
  @idempotent_when_closed [
    close: 1,
    close: 2,
    close_conn: 3,
    close_cursor: 1,
    close_stmt: 1,
    interrupt: 1,
    interrupt_connection: 1,
    rollback: 1
  ]

  defp not_live(:uuid) do
    %{
      kind: :uuid,
      conn: @uuid,
      trx: "11111111-1111-1111-1111-111111111111",
      stmt: "22222222-2222-2222-2222-222222222222",
      cursor: "33333333-3333-3333-3333-333333333333"
    }
  end

  defp not_live(nil), do: %{kind: nil, conn: nil, trx: nil, stmt: nil, cursor: nil}

  defp not_live(:closed) do
    {:ok, state} = Native.connect(database: ":memory:")
    {:ok, stmt} = Native.prepare(state, "SELECT 1")
    {:ok, cursor} = Native.declare_cursor(state, "SELECT 1", [])
    {:ok, in_trx} = Native.begin(state)
    {:ok, _} = Native.commit(in_trx)
    :ok = Native.close_stmt(stmt)
    :ok = Native.close_cursor(cursor)
    :ok = Native.close(state)
    %{kind: :closed, conn: state.conn_id, trx: in_trx.trx_id, stmt: stmt, cursor: cursor}
  end

  defp with_state(h),
    do: Map.put(h, :state, %State{conn_id: h.conn, trx_id: h.trx, mode: :local})

  test "every public function is called below, or takes no handle" do
    functions = EctoLibSql.Native.__info__(:functions)
    known = Map.keys(calls()) ++ @takes_no_handle

    assert functions -- known == [],
           "add these functions of EctoLibSql.Native to calls/0 or @takes_no_handle"

    assert known -- functions == [], "these are no longer functions of EctoLibSql.Native"
  end

  for kind <- [:uuid, nil, :closed] do
    test "every function answers an error, never a raise, for #{inspect(kind)} handles" do
      h = with_state(not_live(unquote(kind)))

      for {{name, arity} = function, call} <- Enum.sort(calls()) do
        result =
          try do
            call.(h)
          rescue
            e -> flunk("#{name}/#{arity} raised #{inspect(e)} for #{inspect(h.kind)} handles")
          end

        idempotent? = h.kind == :closed and function in @idempotent_when_closed

        assert error?(result) or (idempotent? and ok?(result)),
               "#{name}/#{arity} answered #{inspect(result)} for #{inspect(h.kind)} handles"
      end
    end
  end

  test "the messages name what was not found, as the original's did" do
    h = with_state(not_live(:uuid))

    assert {:error, "Ping error: Connection not found" <> _} = Native.ping(h.conn)
    assert {:error, "Connection not found" <> _} = Native.close(h.conn, :conn_id)
    assert {:error, "Statement not found" <> _} = Native.close(h.stmt, :stmt_id)
    assert {:error, "Cursor not found" <> _} = Native.close(h.cursor, :cursor_id)
    assert {:error, "Transaction not found" <> _} = Native.close(h.trx, :trx_id)

    assert {:error, "Cursor not found" <> _} =
             Native.fetch_cursor(connect!().conn_id, h.cursor, 1)

    assert {:error, "Transaction not found" <> _} =
             Native.execute_with_transaction(h.trx, h.conn, "SELECT 1", [])

    assert {:error, "Commit error: Transaction not found" <> _} =
             Native.commit_or_rollback_transaction(h.trx, h.conn, :local, :disable_sync, "commit")

    assert {:error, message} = Native.query_args(h.conn, :local, :disable_sync, "SELECT 1", [])
    assert message =~ "Connection not found"
    assert {:error, "Statement not found" <> _} = Native.query_stmt(connect!(), h.stmt, [])
  end

  test "a live connection next to a handle of another connection's kind still answers" do
    s = connect!()
    # A connection handle where a statement handle belongs, and the reverse.
    assert {:error, "Statement not found" <> _} = Native.query_stmt(s, s.conn_id, [])
    {:ok, stmt} = Native.prepare(s, "SELECT 1")
    assert {:error, "Ping error: Connection not found" <> _} = Native.ping(stmt)
    assert {:ok, %{rows: [[1]]}} = Native.query_stmt(s, stmt, [])
  end

  defp error?({:error, _}), do: true
  defp error?({:error, _, _}), do: true
  defp error?(_), do: false

  defp ok?(:ok), do: true
  defp ok?({:ok, _}), do: true
  defp ok?(_), do: false
end
