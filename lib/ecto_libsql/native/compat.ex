defmodule EctoLibSql.Native.Compat do
  @moduledoc false
  # The NIF-level functions of ecto_libsql 0.9 (COMPAT.md, section 1.2), with their names,
  # argument orders and answers: bare values or `{:error, message}` instead of `{:ok, ...}`
  # tuples, string-keyed result maps, and the messages 0.9 gave. EctoLibSql.Native delegates
  # to them; new code uses the State-based functions of EctoLibSql.Native.

  import EctoLibSql.Native.Calls

  alias EctoLibSql.{Error, Native, NIF, Query, Result, State}

  @typedoc "A failure as 0.9 answered it: its message."
  @type error :: {:error, String.t()}

  @typedoc "A result as 0.9 answered it: `%{\"columns\" => ..., \"rows\" => ..., \"num_rows\" => n}`."
  @type result_map :: %{String.t() => term()}

  # The transaction, statement or cursor is checked before the connection, as earlier releases
  # did.
  @not_a_transaction "Transaction not found: not a transaction handle"
  @not_a_statement "Statement not found: not a statement handle"
  @not_a_cursor "Cursor not found: not a cursor handle"

  ## Connections

  @spec connect(keyword(), State.mode()) :: reference() | error()
  def connect(opts, mode) do
    case Native.open(opts, mode) do
      {:ok, conn} -> conn
      {:error, %Error{message: m}} -> {:error, m}
    end
  end

  @spec ping(reference()) :: true | error()
  def ping(conn) do
    case NIF.ping(conn) do
      :ok -> true
      {:error, native} -> {:error, "Ping error: " <> message(native)}
    end
  end

  @spec close(reference(), :conn_id | :stmt_id | :cursor_id | :trx_id | term()) :: :ok | error()
  def close(id, :conn_id), do: ok_or_message(NIF.close(id))
  def close(id, :stmt_id), do: ok_or_message(NIF.stmt_close(id))
  def close(id, :cursor_id), do: ok_or_message(NIF.cursor_close(id))

  # Closing an open transaction handle rolls the transaction back.
  def close(id, :trx_id) do
    case NIF.transaction_status(id) do
      :ok -> ok_or_message(NIF.rollback(nil, id))
      {:error, _} -> {:error, "Transaction not found"}
    end
  end

  def close(_id, _opt), do: {:error, "opt is incorrect"}

  @spec close_conn(reference(), atom(), State.t()) :: :ok | {:error, String.t(), State.t()}
  def close_conn(id, opt, state) do
    case close(id, opt) do
      :ok -> :ok
      {:error, message} -> {:error, message, state}
    end
  end

  @spec set_busy_timeout(reference(), non_neg_integer()) :: :ok | error()
  def set_busy_timeout(conn, ms) when is_integer(ms) and ms >= 0,
    do: ok_or_message(NIF.set_busy_timeout(conn, ms))

  def set_busy_timeout(_conn, ms),
    do: raise(ArgumentError, "busy timeout must be a non-negative integer, got: #{inspect(ms)}")

  @spec reset_connection(reference()) :: :ok | error()
  def reset_connection(conn), do: ok_or_message(NIF.reset(conn))

  @spec interrupt_connection(reference()) :: :ok | error()
  def interrupt_connection(conn), do: ok_or_message(NIF.interrupt(conn))

  @spec enable_load_extension(reference(), boolean()) :: :ok | error()
  def enable_load_extension(conn, enabled),
    do: ok_or_message(NIF.enable_load_extension(conn, enabled))

  @spec load_extension(reference(), String.t(), String.t() | nil) :: :ok | error()
  def load_extension(conn, path, entry), do: ok_or_message(NIF.load_extension(conn, path, entry))

  ## Queries

  # The DBConnection-style calls of 0.9, both the same query now.
  @spec execute_non_trx(Query.t(), State.t(), list() | map()) ::
          {:ok, Query.t(), Result.t(), State.t()} | {:error, Error.t(), State.t()}
  def execute_non_trx(query, state, args), do: Native.query(state, query, args)

  @spec execute_with_trx(State.t(), Query.t(), list() | map()) ::
          {:ok, Query.t(), Result.t(), State.t()} | {:error, Error.t(), State.t()}
  def execute_with_trx(state, query, args), do: Native.query(state, query, args)

  @spec query_args(reference(), atom(), atom(), String.t(), list() | map()) ::
          result_map() | error()
  def query_args(conn, _mode, _sync, sql, args), do: query_map(conn, nil, sql, args)

  @spec query_with_trx_args(reference(), reference(), String.t(), list() | map()) ::
          result_map() | error()
  def query_with_trx_args(trx, _conn, _sql, _args) when not is_reference(trx),
    do: {:error, @not_a_transaction}

  def query_with_trx_args(trx, conn, sql, args), do: query_map(conn, trx, sql, args)

  defp query_map(conn, trx, sql, args) do
    case NIF.query(conn, trx, sql, args) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, message(native)}
    end
  end

  @spec execute_with_transaction(reference(), reference(), String.t(), list() | map()) ::
          non_neg_integer() | error()
  def execute_with_transaction(trx, _conn, _sql, _args) when not is_reference(trx),
    do: {:error, @not_a_transaction}

  def execute_with_transaction(trx, conn, sql, args) do
    case NIF.query(conn, trx, sql, args) do
      {:ok, %Result{num_rows: n}} -> n
      {:error, native} -> {:error, message(native)}
    end
  end

  @spec pragma_query(reference(), String.t()) :: result_map() | error()
  def pragma_query(conn, sql) do
    case NIF.query(conn, nil, sql, []) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, "PRAGMA query failed: " <> message(native)}
    end
  end

  @spec do_sync(reference(), atom()) :: {:ok, String.t()} | error()
  def do_sync(conn, _mode), do: Native.sync(%State{conn_id: conn})

  ## Batches

  @spec execute_batch(reference(), atom(), atom(), [{String.t(), list()}]) ::
          [result_map()] | error()
  def execute_batch(conn, _mode, _sync, statements), do: compat_batch(conn, statements, false)

  @spec execute_transactional_batch(reference(), atom(), atom(), [{String.t(), list()}]) ::
          [result_map()] | error()
  def execute_transactional_batch(conn, _mode, _sync, statements),
    do: compat_batch(conn, statements, true)

  defp compat_batch(conn, statements, transactional) do
    case NIF.batch(conn, nil, statements, transactional) do
      {:ok, results} -> Enum.map(results, &result_map/1)
      {:error, native} -> {:error, "Batch statement error: " <> message(native)}
    end
  end

  @spec execute_batch_native(reference(), String.t()) :: [result_map() | nil] | error()
  def execute_batch_native(conn, sql) do
    case script(conn, nil, sql, false, "batch failed: ") do
      {:ok, results} -> results
      error -> error
    end
  end

  @spec execute_transactional_batch_native(reference(), String.t()) ::
          [result_map() | nil] | error()
  def execute_transactional_batch_native(conn, sql) do
    case script(conn, nil, sql, true, "transactional batch failed: ") do
      {:ok, results} -> results
      error -> error
    end
  end

  ## Cursors

  # The form of Native.declare_cursor/3 that takes a connection handle instead of a state.
  @spec declare_cursor(reference(), String.t(), list() | map()) :: reference() | error()
  def declare_cursor(conn, sql, args), do: open_cursor(conn, nil, sql, args)

  @spec declare_cursor_with_context(
          reference(),
          reference(),
          :transaction | :connection,
          String.t(),
          list() | map()
        ) :: reference() | error()
  def declare_cursor_with_context(conn, id, id_type, sql, args) do
    trx =
      case id_type do
        :transaction -> id
        :connection -> nil
        _ -> :invalid
      end

    cond do
      trx == :invalid ->
        {:error, "Invalid id_type for cursor"}

      id_type == :connection and id != conn ->
        {:error, "Connection ID mismatch: provided conn_id does not match cursor connection ID"}

      true ->
        open_cursor(conn, trx, sql, args)
    end
  end

  defp open_cursor(conn, trx, sql, args) do
    case NIF.cursor_open(conn, trx, sql, args) do
      {:ok, cursor} -> cursor
      {:error, native} -> {:error, message(native)}
    end
  end

  @spec fetch_cursor(reference(), reference(), pos_integer()) ::
          {[String.t()], [list()], non_neg_integer()} | error()
  def fetch_cursor(_conn, cursor, _max_rows) when not is_reference(cursor),
    do: {:error, @not_a_cursor}

  def fetch_cursor(conn, cursor, max_rows) do
    case NIF.cursor_fetch(conn, cursor, max_rows) do
      {_status, columns, rows} -> {columns, rows, length(rows)}
      {:error, native} -> {:error, message(native)}
    end
  end

  ## Hooks and metadata

  @spec set_update_hook(reference(), pid()) :: :ok | error()
  def set_update_hook(conn, pid) when is_pid(pid),
    do: ok_or_message(NIF.set_update_hook(conn, pid))

  @spec clear_update_hook(reference()) :: :ok | error()
  def clear_update_hook(conn), do: ok_or_message(NIF.set_update_hook(conn, nil))

  @spec set_authorizer(reference(), pid()) :: :ok | error()
  def set_authorizer(conn, pid) when is_pid(pid),
    do: ok_or_message(NIF.set_authorizer(conn, pid, 5000))

  @spec last_insert_rowid(reference()) :: integer() | error()
  def last_insert_rowid(conn), do: info_value(NIF.info(conn, :last_insert_rowid))

  @spec changes(reference()) :: non_neg_integer() | error()
  def changes(conn), do: info_value(NIF.info(conn, :changes))

  @spec total_changes(reference()) :: non_neg_integer() | error()
  def total_changes(conn), do: info_value(NIF.info(conn, :total_changes))

  @spec is_autocommit(reference()) :: boolean() | error()
  def is_autocommit(conn), do: info_value(NIF.info(conn, :autocommit))

  ## Replication

  @spec get_frame_number(reference()) :: non_neg_integer() | error()
  def get_frame_number(conn), do: unwrap(replication(conn, :frame_number, nil))

  @spec sync_until(reference(), non_neg_integer()) :: :ok | error()
  def sync_until(conn, frame), do: Native.sync_until_frame(conn, frame)

  @spec flush_replicator(reference()) :: non_neg_integer() | error()
  def flush_replicator(conn), do: unwrap(replication(conn, :flush, nil))

  @spec max_write_replication_index(reference()) :: non_neg_integer() | error()
  def max_write_replication_index(conn), do: unwrap(Native.get_max_write_frame(conn))

  # `:unsupported` (a bare atom, as earlier releases answered) for connections that are not
  # replicas.
  @spec freeze_database(reference()) :: :ok | :unsupported | error()
  def freeze_database(conn) do
    case NIF.mode(conn) do
      :remote_replica -> with {:ok, :ok} <- replication(conn, :freeze, nil), do: :ok
      mode when mode in [:local, :remote] -> :unsupported
      {:error, native} -> {:error, message(native)}
    end
  end

  defp unwrap({:ok, value}), do: value
  defp unwrap(error), do: error

  ## Savepoints

  @spec savepoint(reference(), reference(), String.t()) :: :ok | error()
  def savepoint(conn, trx, name),
    do:
      savepoint_sql(%State{conn_id: conn, trx_id: trx}, name, "SAVEPOINT ", "Savepoint failed: ")

  @spec release_savepoint(reference(), reference(), String.t()) :: :ok | error()
  def release_savepoint(conn, trx, name),
    do:
      savepoint_sql(
        %State{conn_id: conn, trx_id: trx},
        name,
        "RELEASE SAVEPOINT ",
        "Release savepoint failed: "
      )

  @spec rollback_to_savepoint(reference(), reference(), String.t()) :: :ok | error()
  def rollback_to_savepoint(conn, trx, name),
    do:
      savepoint_sql(
        %State{conn_id: conn, trx_id: trx},
        name,
        "ROLLBACK TO SAVEPOINT ",
        "Rollback to savepoint failed: "
      )

  ## Prepared statements

  @spec prepare_statement(reference(), String.t()) :: reference() | error()
  def prepare_statement(conn, sql) do
    case NIF.prepare(conn, sql) do
      {:ok, stmt} -> stmt
      {:error, native} -> {:error, prepare_failed(native)}
    end
  end

  @spec query_prepared(reference(), reference(), atom(), atom(), list() | map()) ::
          result_map() | error()
  def query_prepared(_conn, stmt, _mode, _sync, _args) when not is_reference(stmt),
    do: {:error, @not_a_statement}

  def query_prepared(conn, stmt, _mode, _sync, args) do
    case NIF.stmt_query(conn, stmt, args) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, message(native)}
    end
  end

  @spec execute_prepared(reference(), reference(), atom(), atom(), String.t(), list() | map()) ::
          non_neg_integer() | error()
  def execute_prepared(_conn, stmt, _mode, _sync, _sql, _args) when not is_reference(stmt),
    do: {:error, @not_a_statement}

  def execute_prepared(conn, stmt, _mode, _sync, _sql, args) do
    case NIF.stmt_query(conn, stmt, args) do
      {:ok, %Result{num_rows: n}} -> n
      {:error, native} -> {:error, "Execute failed: " <> message(native)}
    end
  end

  @spec statement_column_count(reference(), reference()) :: non_neg_integer() | error()
  def statement_column_count(conn, stmt), do: statement_info(conn, stmt, :column_count, 0)

  @spec statement_column_name(reference(), reference(), non_neg_integer()) ::
          String.t() | error()
  def statement_column_name(conn, stmt, index),
    do: statement_info(conn, stmt, :column_name, index)

  @spec statement_parameter_count(reference(), reference()) :: non_neg_integer() | error()
  def statement_parameter_count(conn, stmt), do: statement_info(conn, stmt, :parameter_count, 0)

  @spec statement_parameter_name(reference(), reference(), pos_integer()) ::
          String.t() | nil | error()
  def statement_parameter_name(conn, stmt, index),
    do: statement_info(conn, stmt, :parameter_name, index)

  @spec get_statement_columns(reference(), reference()) ::
          [{String.t(), String.t(), String.t() | nil}] | error()
  def get_statement_columns(conn, stmt), do: statement_info(conn, stmt, :columns, 0)

  defp statement_info(conn, stmt, what, index),
    do: unwrap(ok_or_message(NIF.stmt_info(conn, stmt, what, index)))

  @spec reset_statement(reference(), reference()) :: :ok | error()
  def reset_statement(conn, stmt), do: ok_or_message(NIF.stmt_reset(conn, stmt))

  ## Transactions

  @spec begin_transaction(reference()) :: reference() | error()
  def begin_transaction(conn), do: begin_transaction_with_behavior(conn, :deferred)

  @spec begin_transaction_with_behavior(reference(), atom()) :: reference() | error()
  def begin_transaction_with_behavior(conn, behavior) do
    case NIF.begin(conn, behavior) do
      {:ok, trx} -> trx
      {:error, native} -> {:error, "Begin failed: " <> message(native)}
    end
  end

  @spec handle_status_transaction(reference()) :: :ok | error()
  def handle_status_transaction(trx), do: ok_or_message(NIF.transaction_status(trx))

  @spec commit_or_rollback_transaction(reference(), reference(), atom(), atom(), String.t()) ::
          {:ok, String.t()} | error()
  def commit_or_rollback_transaction(trx, conn, _mode, _sync, "commit") do
    case NIF.commit(conn, trx) do
      :ok -> {:ok, "commit success"}
      {:error, native} -> {:error, "Commit error: " <> message(native)}
    end
  end

  def commit_or_rollback_transaction(trx, conn, _mode, _sync, _other) do
    case NIF.rollback(conn, trx) do
      :ok -> {:ok, "rollback success"}
      {:error, native} -> {:error, "Rollback error: " <> message(native)}
    end
  end
end
