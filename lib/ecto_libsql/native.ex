defmodule EctoLibSql.Native do
  @moduledoc """
  The low-level API: connections, queries, transactions, savepoints, prepared statements,
  batches, cursors, hooks, replication and connection metadata.

  Most functions take an `EctoLibSql.State` (as returned by `EctoLibSql.connect/1`, or built
  with `connect/1` here) and answer `{:ok, ...}` or `{:error, reason}`. Handles (`conn_id`,
  `trx_id`, statement and cursor ids) are opaque references to native resources: they are
  freed when closed, when their connection closes, or when no process holds them any more.
  A closed handle, or one used with a connection it does not belong to, gives an error.

  Functions marked "compatibility" keep the names and shapes of the NIF-level functions of
  earlier releases; new code should not need them.
  """

  # Over 800 lines: this module is the whole low-level API by name (COMPAT.md 1.2), every
  # function with its documentation and @spec. The work is done elsewhere: option checking in
  # EctoLibSql.Options, named parameters in EctoLibSql.NamedParams, vector SQL in
  # EctoLibSql.Vector, the 0.9 compatibility functions in EctoLibSql.Native.Compat (delegated
  # to below, one line each) and the calls both share in EctoLibSql.Native.Calls.

  import EctoLibSql.Native.Calls

  alias EctoLibSql.{Error, NamedParams, NIF, Options, Query, Result, State}
  alias EctoLibSql.Native.Compat

  @default_busy_timeout 5000
  @default_max_rows 500

  # ------------------------------------------------------------------------------------------
  # Connecting
  # ------------------------------------------------------------------------------------------

  @doc """
  Opens a connection and answers a `%EctoLibSql.State{}`.

  Options: `:database` (path or `":memory:"`), `:uri`, `:auth_token`, `:sync`,
  `:sync_interval` (ms), `:encryption_key` (at least 32 characters; see
  `EctoLibSql.Encryption`), `:remote_encryption_key`, `:busy_timeout`
  (ms, default 5000), `:read_only`, `:connect_timeout` and `:request_timeout` (ms),
  `:transport` (`:http` or `:websocket`), `:sync_protocol` (replicas: `:auto` (default),
  `:libsql_http`, `:libsql_grpc` or `:turso`), `:offline` (replicas: `true` writes to the local
  file and `sync/1` pushes; see docs/replica.md), `:tls_ca_file` (PEM file of the certificate
  authorities trusted for `https://`, `libsql://` and `wss://` instead of the system store; remote
  connections and replica sync), `:foreign_keys` (boolean), `:journal_mode`, `:synchronous`, `:attach`
  (local and replica modes: `[name: path]`, databases attached on every connection with
  `ATTACH DATABASE path AS name`, before the pragmas, so `:journal_mode` applies to them too).
  The mode follows from the options (see `EctoLibSql.State.detect_mode/1`).
  """
  @spec connect(keyword()) :: {:ok, State.t()} | {:error, Error.t()}
  def connect(opts) when is_list(opts) do
    case Options.mode(opts) do
      {:ok, mode} ->
        Options.warn_unknown(opts, mode)
        open_state(opts, mode, Keyword.get(opts, :attach, []))

      {:error, message} ->
        {:error, %Error{message: "Unknown mode: " <> message}}
    end
  end

  defp open_state(opts, mode, attach) do
    # The statements run after open are checked before anything opens.
    attach = Options.attach_statements(mode, attach)
    pragmas = Options.pragma_statements(opts)

    with {:ok, conn} <- open(opts, mode),
         # No secret is kept in the state, which shows up in logs and crash reports.
         state = %State{
           conn_id: conn,
           mode: mode,
           sync: State.detect_sync(opts),
           opts: Options.printable(opts)
         },
         :ok <- apply_settings(state, attach ++ pragmas, opts) do
      {:ok, state}
    end
  end

  @doc false
  # Opens the native connection. Raises ArgumentError when the mode's required options are
  # missing; answers {:error, %Error{}} for everything the engine refuses.
  @spec open(keyword(), State.mode()) :: {:ok, reference()} | {:error, Error.t()}
  def open(opts, mode) do
    case NIF.open(Options.open_options(opts, mode)) do
      {:ok, conn} -> {:ok, conn}
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  # Connection settings applied after open: the busy timeout, then the ATTACH and PRAGMA
  # statements. A failure closes the connection.
  defp apply_settings(%State{} = state, statements, opts) do
    timeout = Keyword.get(opts, :busy_timeout, @default_busy_timeout)

    with :ok <-
           if(state.mode == :local or state.mode == :remote_replica,
             do: set_timeout(state, timeout),
             else: :ok
           ),
         :ok <- run_statements(state, statements) do
      :ok
    else
      {:error, %Error{} = error} ->
        NIF.close(state.conn_id)
        {:error, error}
    end
  end

  defp set_timeout(state, timeout) do
    case NIF.set_busy_timeout(state.conn_id, timeout) do
      :ok -> :ok
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  defp run_statements(_state, []), do: :ok

  defp run_statements(state, [sql | rest]) do
    case NIF.query(state.conn_id, nil, sql, []) do
      {:ok, _} -> run_statements(state, rest)
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  @doc """
  Closes the connection of `state` with its statements and cursors. Idempotent; a state whose
  `conn_id` is no connection handle answers `{:error, reason}`.
  """
  @spec close(State.t()) :: :ok | {:error, String.t()}
  def close(%State{conn_id: conn}), do: ok_or_message(NIF.close(conn))

  # ------------------------------------------------------------------------------------------
  # Queries
  # ------------------------------------------------------------------------------------------

  @doc """
  Runs SQL with positional (list) or named (map) arguments and answers
  `{:ok, %EctoLibSql.Result{}}`. Inside a transaction begun with `begin/2` it runs in that
  transaction.

  SQL holding several statements (`"INSERT ...; SELECT ..."`, split where SQLite splits them,
  so a trigger body stays whole) runs them in order as one unit and answers the last one's
  result, all or nothing: a transaction of its own, or a savepoint inside an open transaction,
  which a failure leaves usable. Statements that control transactions themselves (`BEGIN`,
  `COMMIT`, `SAVEPOINT`) run as written instead; a transaction they began is rolled back when
  one of them fails. Parameters bind to one statement: several statements take none (an error
  says so). Every mode (local, remote, replica) runs them the same way.
  """
  @spec execute(State.t(), String.t(), list() | map()) :: {:ok, Result.t()} | {:error, Error.t()}
  def execute(%State{conn_id: conn, trx_id: trx}, sql, args \\ []) when is_binary(sql) do
    case NIF.query(conn, trx, sql, args) do
      {:ok, %Result{}} = ok -> ok
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  @doc false
  # DBConnection-style query: {:ok, query, result, state} | {:error, %Error{}, state}.
  @spec query(State.t(), Query.t(), list() | map()) ::
          {:ok, Query.t(), Result.t(), State.t()} | {:error, Error.t(), State.t()}
  def query(%State{conn_id: conn, trx_id: trx} = state, %Query{statement: sql} = query, args) do
    case NIF.query(conn, trx, IO.iodata_to_binary(sql), args) do
      {:ok, result} -> {:ok, query, result, state}
      {:error, native} -> {:error, Error.from_native(native), state}
    end
  rescue
    e in ArgumentError -> {:error, %Error{message: Exception.message(e)}, state}
  end

  @doc """
  What a statement is: `:select`, `:insert`, `:update`, `:delete`, `:begin`, `:commit`,
  `:rollback`, `:create` (CREATE, DROP, ALTER), `:pragma`, `:savepoint`, `:release` or
  `:unknown`. Comments and common table expressions are read the way SQLite reads them.
  """
  @spec detect_command(term()) :: atom()
  def detect_command(sql) when is_binary(sql) do
    {command, _rows?} = NIF.classify(sql)
    command
  end

  def detect_command(_), do: :unknown

  @doc """
  True when the statement returns rows: SELECT, VALUES, EXPLAIN, PRAGMA, or a RETURNING
  clause (found with SQLite's tokenizer, so never inside a string or comment).
  """
  @spec should_use_query_path(String.t()) :: boolean()
  def should_use_query_path(sql) when is_binary(sql) do
    {_command, rows?} = NIF.classify(sql)
    rows?
  end

  # ------------------------------------------------------------------------------------------
  # Named parameters
  # ------------------------------------------------------------------------------------------

  @doc """
  Turns arguments into a positional list: a list is answered as it is; a map is ordered by
  the statement's parameter names (`:name`, `@name`, `$name`; atom or string keys), which are
  read from SQLite and cached. Raises ArgumentError when a parameter has no value.
  """
  @spec normalise_arguments(State.t() | reference(), String.t(), list() | map()) ::
          list() | {:error, term()}
  defdelegate normalise_arguments(conn, sql, args), to: NamedParams

  @doc false
  @spec normalise_arguments_for_stmt(reference(), reference(), list() | map()) ::
          list() | {:error, term()}
  defdelegate normalise_arguments_for_stmt(conn, stmt, args), to: NamedParams

  @doc """
  Compatibility (0.9 kept parameter names in an ETS cache): answers `:ok`. Names are resolved
  by the engine, whose statement cache does that work.
  """
  @spec clear_param_cache() :: :ok
  defdelegate clear_param_cache, to: NamedParams

  @doc "Compatibility (see `clear_param_cache/0`): answers `0`."
  @spec param_cache_size() :: non_neg_integer()
  defdelegate param_cache_size, to: NamedParams

  # ------------------------------------------------------------------------------------------
  # Transactions and savepoints
  # ------------------------------------------------------------------------------------------

  @doc """
  Begins a transaction. `behavior:` is `:deferred` (default), `:immediate`, `:exclusive` or
  `:read_only` (writes fail until it ends). Answers the state with its `trx_id` set.
  """
  @spec begin(State.t(), keyword()) :: {:ok, State.t()} | {:error, String.t()}
  def begin(%State{conn_id: conn} = state, opts \\ []) do
    behavior = Keyword.get(opts, :behavior, Keyword.get(opts, :mode, :deferred))

    case NIF.begin(conn, behavior) do
      {:ok, trx} -> {:ok, %State{state | trx_id: trx}}
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc "Commits the transaction of `state`: `{:ok, \"commit success\"}`."
  @spec commit(State.t()) :: {:ok, String.t()} | {:error, String.t()}
  def commit(%State{trx_id: nil}), do: {:error, "Transaction not found"}

  def commit(%State{conn_id: conn, trx_id: trx} = state) do
    case NIF.commit(conn, trx) do
      :ok ->
        maybe_sync_after_commit(state)
        {:ok, "commit success"}

      {:error, native} ->
        {:error, message(native)}
    end
  end

  @doc "Rolls back the transaction of `state`: `{:ok, \"rollback success\"}`."
  @spec rollback(State.t()) :: {:ok, String.t()} | {:error, String.t()}
  def rollback(%State{trx_id: nil}), do: {:error, "Transaction not found"}

  def rollback(%State{conn_id: conn, trx_id: trx}) do
    case NIF.rollback(conn, trx) do
      :ok -> {:ok, "rollback success"}
      {:error, native} -> {:error, message(native)}
    end
  end

  # Replicas forward writes to the server and pull them back themselves (read-your-writes),
  # so nothing is left to do here; the hook exists for the sync: true setting.
  defp maybe_sync_after_commit(_state), do: :ok

  @doc """
  Creates a savepoint in the open transaction. Names are SQL identifiers (letters, digits
  and `_`, not starting with a digit).
  """
  @spec create_savepoint(State.t(), String.t()) :: :ok | {:error, String.t()}
  def create_savepoint(%State{trx_id: nil}, _name),
    do: {:error, "No active transaction - cannot create savepoint outside transaction"}

  def create_savepoint(%State{} = state, name),
    do: savepoint_sql(state, name, "SAVEPOINT ", "Savepoint failed: ")

  @doc "Releases a savepoint, keeping its changes in the transaction."
  @spec release_savepoint_by_name(State.t(), String.t()) :: :ok | {:error, String.t()}
  def release_savepoint_by_name(%State{trx_id: nil}, _name), do: {:error, "No active transaction"}

  def release_savepoint_by_name(%State{} = state, name),
    do: savepoint_sql(state, name, "RELEASE SAVEPOINT ", "Release savepoint failed: ")

  @doc "Rolls back to a savepoint; the savepoint stays and the transaction continues."
  @spec rollback_to_savepoint_by_name(State.t(), String.t()) :: :ok | {:error, String.t()}
  def rollback_to_savepoint_by_name(%State{trx_id: nil}, _name),
    do: {:error, "No active transaction"}

  def rollback_to_savepoint_by_name(%State{} = state, name),
    do: savepoint_sql(state, name, "ROLLBACK TO SAVEPOINT ", "Rollback to savepoint failed: ")

  # ------------------------------------------------------------------------------------------
  # Prepared statements
  # ------------------------------------------------------------------------------------------

  @doc """
  Prepares a statement for repeated use: `{:ok, stmt_id}`, or `{:error, "Prepare failed: ..."}`.
  """
  @spec prepare(State.t(), String.t()) :: {:ok, reference()} | {:error, String.t()}
  def prepare(%State{conn_id: conn}, sql) when is_binary(sql) do
    case NIF.prepare(conn, sql) do
      {:ok, stmt} -> {:ok, stmt}
      {:error, native} -> {:error, prepare_failed(native)}
    end
  end

  @doc """
  Runs a prepared statement with positional (list) or named (map) arguments and answers
  its rows as `{:ok, %EctoLibSql.Result{}}`.
  """
  @spec query_stmt(State.t(), reference(), list() | map()) ::
          {:ok, Result.t()} | {:error, String.t()}
  def query_stmt(%State{conn_id: conn}, stmt, args) when is_list(args) or is_map(args) do
    # The NIF itself first: the wrapper in EctoLibSql.NIF waits for locks and encodes values.
    case NIF.stmt_query(conn, stmt, args, nil) do
      {:ok, _} = ok -> ok
      {:error, native} -> {:error, message(native)}
      # a lock to wait for, or values to encode: nothing ran, so the full call starts again
      _busy_or_encode -> query_stmt_slow(conn, stmt, args)
    end
  end

  def query_stmt(%State{}, _stmt, _args), do: {:error, "arguments must be a list or map"}

  defp query_stmt_slow(conn, stmt, args), do: ok_or_message(NIF.stmt_query(conn, stmt, args))

  @doc """
  Runs a prepared statement: statements that return rows answer `{:ok, %Result{}}`, the
  others `{:ok, rows_changed}`. `sql` is accepted for compatibility and not needed.
  """
  @spec execute_stmt(State.t(), reference(), String.t(), list() | map()) ::
          {:ok, Result.t() | non_neg_integer()} | {:error, String.t()}
  def execute_stmt(%State{} = state, stmt, _sql, args) do
    case query_stmt(state, stmt, args) do
      {:ok, %Result{columns: nil, num_rows: n}} -> {:ok, n}
      other -> other
    end
  end

  @doc "Resets a prepared statement (clears its bindings and releases its read lock)."
  @spec reset_stmt(State.t(), reference()) :: :ok | {:error, String.t()}
  def reset_stmt(%State{conn_id: conn}, stmt), do: ok_or_message(NIF.stmt_reset(conn, stmt))

  @doc "Closes a prepared statement. Idempotent."
  @spec close_stmt(reference()) :: :ok | {:error, String.t()}
  def close_stmt(stmt), do: ok_or_message(NIF.stmt_close(stmt))

  @doc "The number of result columns of a prepared statement."
  @spec stmt_column_count(State.t(), reference()) ::
          {:ok, non_neg_integer()} | {:error, String.t()}
  def stmt_column_count(%State{conn_id: conn}, stmt),
    do: ok_or_message(NIF.stmt_info(conn, stmt, :column_count, 0))

  @doc "The name of result column `index` (0-based)."
  @spec stmt_column_name(State.t(), reference(), non_neg_integer()) ::
          {:ok, String.t()} | {:error, String.t()}
  def stmt_column_name(%State{conn_id: conn}, stmt, index) when is_integer(index) and index >= 0,
    do: ok_or_message(NIF.stmt_info(conn, stmt, :column_name, index))

  @doc "The number of parameters of a prepared statement."
  @spec stmt_parameter_count(State.t(), reference()) ::
          {:ok, non_neg_integer()} | {:error, String.t()}
  def stmt_parameter_count(%State{conn_id: conn}, stmt),
    do: ok_or_message(NIF.stmt_info(conn, stmt, :parameter_count, 0))

  @doc "The name of parameter `index` (1-based) with its prefix (`\":id\"`), or nil for `?`."
  @spec stmt_parameter_name(State.t(), reference(), pos_integer()) ::
          {:ok, String.t() | nil} | {:error, String.t()}
  def stmt_parameter_name(%State{conn_id: conn}, stmt, index)
      when is_integer(index) and index >= 1,
      do: ok_or_message(NIF.stmt_info(conn, stmt, :parameter_name, index))

  @doc "`{:ok, [{name, origin_name, declared_type | nil}]}` for each result column."
  @spec get_stmt_columns(State.t(), reference()) ::
          {:ok, [{String.t(), String.t(), String.t() | nil}]} | {:error, String.t()}
  def get_stmt_columns(%State{conn_id: conn}, stmt),
    do: ok_or_message(NIF.stmt_info(conn, stmt, :columns, 0))

  # ------------------------------------------------------------------------------------------
  # Batches
  # ------------------------------------------------------------------------------------------

  @doc """
  Runs `[{sql, args}]` one after the other. Stops at the first failure; statements before it
  stay applied. Answers one `%Result{command: :batch}` per statement.
  """
  @spec batch(State.t(), [{String.t(), list() | map()}]) ::
          {:ok, [Result.t()]} | {:error, String.t()}
  def batch(%State{} = state, statements), do: run_batch(state, statements, false)

  @doc "Like `batch/2`, but all-or-nothing: any failure rolls every statement back."
  @spec batch_transactional(State.t(), [{String.t(), list() | map()}]) ::
          {:ok, [Result.t()]} | {:error, String.t()}
  def batch_transactional(%State{} = state, statements), do: run_batch(state, statements, true)

  defp run_batch(%State{conn_id: conn, trx_id: trx}, statements, transactional) do
    case NIF.batch(conn, trx, statements, transactional) do
      {:ok, results} ->
        {:ok,
         Enum.map(results, fn %Result{} = r ->
           %Result{r | command: :batch, columns: r.columns || [], rows: r.rows || []}
         end)}

      {:error, native} ->
        {:error, "Batch statement error: " <> message(native)}
    end
  end

  @doc """
  Runs a script of statements separated by semicolons. Answers, per statement, a
  string-keyed map `%{"columns" => ..., "rows" => ..., "num_rows" => ...}` for statements
  that return columns and `nil` for the others.
  """
  @spec execute_batch_sql(State.t(), String.t()) :: {:ok, [map() | nil]} | {:error, String.t()}
  def execute_batch_sql(%State{conn_id: conn, trx_id: trx}, sql) when is_binary(sql),
    do: script(conn, trx, sql, false, "batch failed: ")

  @doc "Like `execute_batch_sql/2`, in one transaction: all statements or none."
  @spec execute_transactional_batch_sql(State.t(), String.t()) ::
          {:ok, [map() | nil]} | {:error, String.t()}
  def execute_transactional_batch_sql(%State{conn_id: conn, trx_id: trx}, sql)
      when is_binary(sql),
      do: script(conn, trx, sql, true, "transactional batch failed: ")

  # ------------------------------------------------------------------------------------------
  # Cursors
  # ------------------------------------------------------------------------------------------

  @doc """
  Opens a cursor over `sql`: the statement is stepped only as rows are fetched, so results
  of any size stream in constant memory. Runs in the open transaction of `state`, if any.
  """
  @spec declare_cursor(State.t(), String.t(), list() | map()) ::
          {:ok, reference()} | {:error, Error.t()}
  def declare_cursor(%State{conn_id: conn, trx_id: trx}, sql, args) when is_binary(sql) do
    case NIF.cursor_open(conn, trx, sql, args) do
      {:ok, cursor} -> {:ok, cursor}
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  # The compatibility form takes a connection handle and answers the cursor or {:error, message}.
  def declare_cursor(conn, sql, args) when not is_struct(conn, State),
    do: Compat.declare_cursor(conn, sql, args)

  @doc """
  Fetches up to `max_rows` rows (default 500): `{:cont, %Result{}}` while rows remain,
  `{:halt, %Result{}}` with the last ones.
  """
  @spec fetch(State.t(), reference(), pos_integer()) ::
          {:cont | :halt, Result.t()} | {:error, Error.t()}
  def fetch(%State{conn_id: conn}, cursor, max_rows \\ @default_max_rows) do
    case NIF.cursor_fetch(conn, cursor, max_rows) do
      {status, columns, rows} when status in [:cont, :halt] ->
        {status, %Result{command: :select, columns: columns, rows: rows, num_rows: length(rows)}}

      {:error, native} ->
        {:error, Error.from_native(native)}
    end
  end

  @doc "Closes a cursor. Idempotent."
  @spec close_cursor(reference()) :: :ok | {:error, String.t()}
  def close_cursor(cursor), do: ok_or_message(NIF.cursor_close(cursor))

  # ------------------------------------------------------------------------------------------
  # Metadata and connection control
  # ------------------------------------------------------------------------------------------

  @doc "The rowid of the last row inserted on this connection."
  @spec get_last_insert_rowid(State.t()) :: integer() | {:error, String.t()}
  def get_last_insert_rowid(%State{conn_id: conn}),
    do: info_value(NIF.info(conn, :last_insert_rowid))

  @doc "Rows changed by the last INSERT, UPDATE or DELETE."
  @spec get_changes(State.t()) :: non_neg_integer() | {:error, String.t()}
  def get_changes(%State{conn_id: conn}), do: info_value(NIF.info(conn, :changes))
  @doc "Rows changed since the connection opened."
  @spec get_total_changes(State.t()) :: non_neg_integer() | {:error, String.t()}
  def get_total_changes(%State{conn_id: conn}), do: info_value(NIF.info(conn, :total_changes))
  @doc "True unless a transaction is open."
  @spec get_is_autocommit(State.t()) :: boolean() | {:error, String.t()}
  def get_is_autocommit(%State{conn_id: conn}), do: info_value(NIF.info(conn, :autocommit))

  @doc "Sets how long (ms) to wait for a locked database before failing with SQLITE_BUSY."
  @spec busy_timeout(State.t(), non_neg_integer()) :: :ok | {:error, String.t()}
  def busy_timeout(%State{conn_id: conn}, timeout_ms \\ @default_busy_timeout)
      when is_integer(timeout_ms) and timeout_ms >= 0,
      do: ok_or_message(NIF.set_busy_timeout(conn, timeout_ms))

  @doc "Rolls back any open transaction and drops cached statements."
  @spec reset(State.t()) :: :ok | {:error, String.t()}
  def reset(%State{conn_id: conn}), do: ok_or_message(NIF.reset(conn))

  @doc """
  Stops the statement the connection is running now, from any process: it fails with an
  "interrupted" error. Safe to call at any time.
  """
  @spec interrupt(State.t()) :: :ok | {:error, String.t()}
  def interrupt(%State{conn_id: conn}), do: ok_or_message(NIF.interrupt(conn))

  @doc "Allows (or forbids) loading SQLite extensions on this connection."
  @spec enable_extensions(State.t(), boolean()) :: :ok | {:error, String.t()}
  def enable_extensions(%State{conn_id: conn}, enabled) when is_boolean(enabled),
    do: ok_or_message(NIF.enable_load_extension(conn, enabled))

  @doc "Loads a SQLite extension (after `enable_extensions(state, true)`)."
  @spec load_ext(State.t(), String.t(), String.t() | nil) :: :ok | {:error, String.t()}
  def load_ext(%State{conn_id: conn}, path, entry_point \\ nil) when is_binary(path),
    do: ok_or_message(NIF.load_extension(conn, path, entry_point))

  # ------------------------------------------------------------------------------------------
  # Hooks
  # ------------------------------------------------------------------------------------------

  @doc """
  Sends `{:update, op, db, table, rowid}` to `pid` after every row inserted, updated or
  deleted on this connection (`op` is `:insert`, `:update` or `:delete`). SQLite does not
  report rows removed by `DELETE FROM t` without a WHERE clause (its truncate optimisation)
  nor changes to WITHOUT ROWID tables. Local and replica connections only.
  """
  @spec add_update_hook(State.t(), pid()) :: :ok | {:error, String.t()}
  def add_update_hook(%State{conn_id: conn}, pid \\ self()) when is_pid(pid),
    do: ok_or_message(NIF.set_update_hook(conn, pid))

  @doc "Stops update notifications."
  @spec remove_update_hook(State.t()) :: :ok | {:error, String.t()}
  def remove_update_hook(%State{conn_id: conn}), do: ok_or_message(NIF.set_update_hook(conn, nil))

  @doc """
  Makes `pid` decide what statements on this connection may do. While SQLite compiles a
  statement, `pid` receives `{:authorize, request_id, action, arg1, arg2, db, trigger}` for
  each action (`:read`, `:insert`, `:update`, `:delete`, `:create_table`, `:pragma`, ...) and
  must answer with `authorize_reply(request_id, :ok | :deny | :ignore)` within `timeout`
  (default 5000 ms); no answer denies. `pid` must not be the process running the statement.
  While an authorizer is set every call on the connection runs on a dirty scheduler.
  """
  @spec add_authorizer(State.t(), pid(), non_neg_integer()) :: :ok | {:error, String.t()}
  def add_authorizer(%State{conn_id: conn}, pid \\ self(), timeout \\ 5000)
      when is_pid(pid) and is_integer(timeout) and timeout >= 0,
      do: ok_or_message(NIF.set_authorizer(conn, pid, timeout))

  @doc "Removes the authorizer."
  @spec remove_authorizer(State.t()) :: :ok | {:error, String.t()}
  def remove_authorizer(%State{conn_id: conn}),
    do: ok_or_message(NIF.set_authorizer(conn, nil, 0))

  @doc "Answers an `{:authorize, request_id, ...}` message."
  @spec authorize_reply(non_neg_integer(), :ok | :deny | :ignore) :: :ok | {:error, String.t()}
  def authorize_reply(request_id, decision) when decision in [:ok, :deny, :ignore],
    do: ok_or_message(NIF.authorizer_reply(request_id, decision))

  # ------------------------------------------------------------------------------------------
  # Replication
  # ------------------------------------------------------------------------------------------

  @doc """
  Syncs an embedded replica with its server: `{:ok, "success sync"}`. A no-op in other modes.
  """
  @spec sync(State.t()) :: {:ok, String.t()} | {:error, String.t()}
  def sync(%State{conn_id: conn}) do
    case NIF.sync(conn) do
      {:ok, _status} -> {:ok, "success sync"}
      {:error, native} -> {:error, "Sync error: " <> message(native)}
    end
  end

  @doc "The replica's current replication position (frame number)."
  @spec get_frame_number_for_replica(State.t() | reference()) ::
          {:ok, non_neg_integer()} | {:error, String.t()}
  def get_frame_number_for_replica(%State{conn_id: conn}), do: get_frame_number_for_replica(conn)
  def get_frame_number_for_replica(conn), do: replication(conn, :frame_number, nil)

  @doc "Syncs until the replica reaches `frame_no`."
  @spec sync_until_frame(State.t() | reference(), non_neg_integer()) :: :ok | {:error, String.t()}
  def sync_until_frame(%State{conn_id: conn}, frame_no), do: sync_until_frame(conn, frame_no)

  def sync_until_frame(conn, frame_no) when is_integer(frame_no) and frame_no >= 0 do
    case replication(conn, :sync_until, frame_no) do
      {:ok, :ok} -> :ok
      other -> other
    end
  end

  @doc "Flushes pending replication work and answers the frame number reached."
  @spec flush_and_get_frame(State.t() | reference()) ::
          {:ok, non_neg_integer()} | {:error, String.t()}
  def flush_and_get_frame(%State{conn_id: conn}), do: flush_and_get_frame(conn)
  def flush_and_get_frame(conn), do: replication(conn, :flush, nil)

  @doc """
  The highest frame number written through this replica; `{:ok, 0}` for local and remote
  connections, which write through no replica (as earlier releases answered).
  """
  @spec get_max_write_frame(State.t() | reference()) ::
          {:ok, non_neg_integer()} | {:error, String.t()}
  def get_max_write_frame(%State{conn_id: conn}), do: get_max_write_frame(conn)

  def get_max_write_frame(conn) do
    case NIF.mode(conn) do
      :remote_replica -> replication(conn, :max_write_frame, nil)
      mode when mode in [:local, :remote] -> {:ok, 0}
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc """
  Turns an embedded replica into a plain local database at the same path: it stops syncing
  and accepts local writes. Anything else (a local or remote connection, a closed or invalid
  state) answers `{:error, :unsupported}`, as earlier releases answered for every call.
  """
  @spec freeze_replica(State.t()) :: {:ok, State.t()} | {:error, term()}
  def freeze_replica(%State{conn_id: conn} = state) do
    case NIF.mode(conn) do
      :remote_replica ->
        case replication(conn, :freeze, nil) do
          {:ok, :ok} -> {:ok, %State{state | mode: :local, sync: :disable_sync}}
          {:error, _} = error -> error
        end

      _ ->
        {:error, :unsupported}
    end
  end

  def freeze_replica(_), do: {:error, :unsupported}

  # ------------------------------------------------------------------------------------------
  # Vector helpers
  # ------------------------------------------------------------------------------------------

  @doc ~S"""
  A vector literal for libSQL's vector functions: `vector([1, 2.5])` is `"[1,2.5]"`. Elements
  are joined with `Enum.join/2`, as in earlier releases; `EctoLibSql.Vector.to_blob/2` gives the
  binary form. See `EctoLibSql.Vector.to_text/1`.
  """
  @spec vector([number()]) :: String.t()
  defdelegate vector(values), to: EctoLibSql.Vector, as: :to_text

  @doc ~S"""
  The column type of a vector: `vector_type(3)` is `"F32_BLOB(3)"`; `:f64` gives
  `"F64_BLOB(n)"`. See `EctoLibSql.Vector.column_type/2`.
  """
  @spec vector_type(pos_integer(), :f32 | :f64) :: String.t()
  defdelegate vector_type(dimensions, type \\ :f32), to: EctoLibSql.Vector, as: :column_type

  @doc ~S"""
  SQL for the cosine distance between a column and a vector:
  `"vector_distance_cos(col, '[1,2]')"`. See `EctoLibSql.Vector.distance_cos_sql/2`.
  """
  @spec vector_distance_cos(String.t(), [number()] | String.t()) :: String.t()
  defdelegate vector_distance_cos(column, vector), to: EctoLibSql.Vector, as: :distance_cos_sql

  # ------------------------------------------------------------------------------------------
  # Compatibility: the NIF-level functions of earlier releases (EctoLibSql.Native.Compat)
  # ------------------------------------------------------------------------------------------

  @doc false
  @spec connect(keyword(), State.mode()) :: reference() | {:error, String.t()}
  defdelegate connect(opts, mode), to: Compat

  @doc false
  @spec ping(reference()) :: true | {:error, String.t()}
  defdelegate ping(conn), to: Compat

  @doc false
  @spec close(reference(), :conn_id | :stmt_id | :cursor_id | :trx_id | term()) ::
          :ok | {:error, String.t()}
  defdelegate close(id, opt), to: Compat

  @doc false
  @spec close_conn(reference(), atom(), State.t()) :: :ok | {:error, String.t(), State.t()}
  defdelegate close_conn(id, opt, state), to: Compat

  @doc false
  @spec set_busy_timeout(reference(), non_neg_integer()) :: :ok | {:error, String.t()}
  defdelegate set_busy_timeout(conn, ms), to: Compat

  @doc false
  @spec reset_connection(reference()) :: :ok | {:error, String.t()}
  defdelegate reset_connection(conn), to: Compat

  @doc false
  @spec interrupt_connection(reference()) :: :ok | {:error, String.t()}
  defdelegate interrupt_connection(conn), to: Compat

  @doc false
  @spec enable_load_extension(reference(), boolean()) :: :ok | {:error, String.t()}
  defdelegate enable_load_extension(conn, enabled), to: Compat

  @doc false
  @spec load_extension(reference(), String.t(), String.t() | nil) :: :ok | {:error, String.t()}
  defdelegate load_extension(conn, path, entry), to: Compat

  @doc false
  @spec execute_non_trx(Query.t(), State.t(), list() | map()) ::
          {:ok, Query.t(), Result.t(), State.t()} | {:error, Error.t(), State.t()}
  defdelegate execute_non_trx(query, state, args), to: Compat

  @doc false
  @spec execute_with_trx(State.t(), Query.t(), list() | map()) ::
          {:ok, Query.t(), Result.t(), State.t()} | {:error, Error.t(), State.t()}
  defdelegate execute_with_trx(state, query, args), to: Compat

  @doc false
  @spec query_args(reference(), atom(), atom(), String.t(), list() | map()) ::
          %{String.t() => term()} | {:error, String.t()}
  defdelegate query_args(conn, mode, sync, sql, args), to: Compat

  @doc false
  @spec query_with_trx_args(reference(), reference(), String.t(), list() | map()) ::
          %{String.t() => term()} | {:error, String.t()}
  defdelegate query_with_trx_args(trx, conn, sql, args), to: Compat

  @doc false
  @spec execute_with_transaction(reference(), reference(), String.t(), list() | map()) ::
          non_neg_integer() | {:error, String.t()}
  defdelegate execute_with_transaction(trx, conn, sql, args), to: Compat

  @doc false
  @spec pragma_query(reference(), String.t()) :: %{String.t() => term()} | {:error, String.t()}
  defdelegate pragma_query(conn, sql), to: Compat

  @doc false
  @spec do_sync(reference(), atom()) :: {:ok, String.t()} | {:error, String.t()}
  defdelegate do_sync(conn, mode), to: Compat

  @doc false
  @spec execute_batch(reference(), atom(), atom(), [{String.t(), list()}]) ::
          [%{String.t() => term()}] | {:error, String.t()}
  defdelegate execute_batch(conn, mode, sync, statements), to: Compat

  @doc false
  @spec execute_transactional_batch(reference(), atom(), atom(), [{String.t(), list()}]) ::
          [%{String.t() => term()}] | {:error, String.t()}
  defdelegate execute_transactional_batch(conn, mode, sync, statements), to: Compat

  @doc false
  @spec execute_batch_native(reference(), String.t()) ::
          [%{String.t() => term()} | nil] | {:error, String.t()}
  defdelegate execute_batch_native(conn, sql), to: Compat

  @doc false
  @spec execute_transactional_batch_native(reference(), String.t()) ::
          [%{String.t() => term()} | nil] | {:error, String.t()}
  defdelegate execute_transactional_batch_native(conn, sql), to: Compat

  @doc false
  @spec declare_cursor_with_context(
          reference(),
          reference(),
          :transaction | :connection,
          String.t(),
          list() | map()
        ) :: reference() | {:error, String.t()}
  defdelegate declare_cursor_with_context(conn, id, id_type, sql, args), to: Compat

  @doc false
  @spec fetch_cursor(reference(), reference(), pos_integer()) ::
          {[String.t()], [list()], non_neg_integer()} | {:error, String.t()}
  defdelegate fetch_cursor(conn, cursor, max_rows), to: Compat

  @doc false
  @spec set_update_hook(reference(), pid()) :: :ok | {:error, String.t()}
  defdelegate set_update_hook(conn, pid), to: Compat

  @doc false
  @spec clear_update_hook(reference()) :: :ok | {:error, String.t()}
  defdelegate clear_update_hook(conn), to: Compat

  @doc false
  @spec set_authorizer(reference(), pid()) :: :ok | {:error, String.t()}
  defdelegate set_authorizer(conn, pid), to: Compat

  @doc false
  @spec last_insert_rowid(reference()) :: integer() | {:error, String.t()}
  defdelegate last_insert_rowid(conn), to: Compat

  @doc false
  @spec changes(reference()) :: non_neg_integer() | {:error, String.t()}
  defdelegate changes(conn), to: Compat

  @doc false
  @spec total_changes(reference()) :: non_neg_integer() | {:error, String.t()}
  defdelegate total_changes(conn), to: Compat

  @doc false
  @spec is_autocommit(reference()) :: boolean() | {:error, String.t()}
  defdelegate is_autocommit(conn), to: Compat

  @doc false
  @spec get_frame_number(reference()) :: non_neg_integer() | {:error, String.t()}
  defdelegate get_frame_number(conn), to: Compat

  @doc false
  @spec sync_until(reference(), non_neg_integer()) :: :ok | {:error, String.t()}
  defdelegate sync_until(conn, frame), to: Compat

  @doc false
  @spec flush_replicator(reference()) :: non_neg_integer() | {:error, String.t()}
  defdelegate flush_replicator(conn), to: Compat

  @doc """
  The highest frame number written through this replica (compatibility name of
  `get_max_write_frame/1`): an integer, or `{:error, reason}`.
  """
  @spec max_write_replication_index(reference()) :: non_neg_integer() | {:error, String.t()}
  defdelegate max_write_replication_index(conn), to: Compat

  @doc false
  @spec freeze_database(reference()) :: :ok | :unsupported | {:error, String.t()}
  defdelegate freeze_database(conn), to: Compat

  @doc false
  @spec savepoint(reference(), reference(), String.t()) :: :ok | {:error, String.t()}
  defdelegate savepoint(conn, trx, name), to: Compat

  @doc false
  @spec release_savepoint(reference(), reference(), String.t()) :: :ok | {:error, String.t()}
  defdelegate release_savepoint(conn, trx, name), to: Compat

  @doc false
  @spec rollback_to_savepoint(reference(), reference(), String.t()) :: :ok | {:error, String.t()}
  defdelegate rollback_to_savepoint(conn, trx, name), to: Compat

  @doc false
  @spec prepare_statement(reference(), String.t()) :: reference() | {:error, String.t()}
  defdelegate prepare_statement(conn, sql), to: Compat

  @doc false
  @spec query_prepared(reference(), reference(), atom(), atom(), list() | map()) ::
          %{String.t() => term()} | {:error, String.t()}
  defdelegate query_prepared(conn, stmt, mode, sync, args), to: Compat

  @doc false
  @spec execute_prepared(reference(), reference(), atom(), atom(), String.t(), list() | map()) ::
          non_neg_integer() | {:error, String.t()}
  defdelegate execute_prepared(conn, stmt, mode, sync, sql, args), to: Compat

  @doc false
  @spec statement_column_count(reference(), reference()) ::
          non_neg_integer() | {:error, String.t()}
  defdelegate statement_column_count(conn, stmt), to: Compat

  @doc false
  @spec statement_column_name(reference(), reference(), non_neg_integer()) ::
          String.t() | {:error, String.t()}
  defdelegate statement_column_name(conn, stmt, index), to: Compat

  @doc false
  @spec statement_parameter_count(reference(), reference()) ::
          non_neg_integer() | {:error, String.t()}
  defdelegate statement_parameter_count(conn, stmt), to: Compat

  @doc false
  @spec statement_parameter_name(reference(), reference(), pos_integer()) ::
          String.t() | nil | {:error, String.t()}
  defdelegate statement_parameter_name(conn, stmt, index), to: Compat

  @doc false
  @spec get_statement_columns(reference(), reference()) ::
          [{String.t(), String.t(), String.t() | nil}] | {:error, String.t()}
  defdelegate get_statement_columns(conn, stmt), to: Compat

  @doc false
  @spec reset_statement(reference(), reference()) :: :ok | {:error, String.t()}
  defdelegate reset_statement(conn, stmt), to: Compat

  @doc false
  @spec begin_transaction(reference()) :: reference() | {:error, String.t()}
  defdelegate begin_transaction(conn), to: Compat

  @doc false
  @spec begin_transaction_with_behavior(reference(), atom()) :: reference() | {:error, String.t()}
  defdelegate begin_transaction_with_behavior(conn, behavior), to: Compat

  @doc false
  @spec handle_status_transaction(reference()) :: :ok | {:error, String.t()}
  defdelegate handle_status_transaction(trx), to: Compat

  @doc false
  @spec commit_or_rollback_transaction(reference(), reference(), atom(), atom(), String.t()) ::
          {:ok, String.t()} | {:error, String.t()}
  defdelegate commit_or_rollback_transaction(trx, conn, mode, sync, command), to: Compat

  # ------------------------------------------------------------------------------------------
  # Encryption at rest (key management; connect with `:encryption_key`)
  # ------------------------------------------------------------------------------------------

  @doc "Writes an encrypted copy of a plain database. See `EctoLibSql.Encryption`."
  @spec encrypt_database(Path.t(), Path.t(), binary()) :: :ok | {:error, Error.t()}
  defdelegate encrypt_database(source, destination, key), to: EctoLibSql.Encryption

  @doc "Writes a plain copy of an encrypted database. See `EctoLibSql.Encryption`."
  @spec decrypt_database(Path.t(), Path.t(), binary()) :: :ok | {:error, Error.t()}
  defdelegate decrypt_database(source, destination, key), to: EctoLibSql.Encryption

  @doc "Changes the key of an encrypted database in place. See `EctoLibSql.Encryption`."
  @spec rekey(Path.t(), binary(), binary()) :: :ok | {:error, Error.t()}
  defdelegate rekey(database, old_key, new_key), to: EctoLibSql.Encryption
end
