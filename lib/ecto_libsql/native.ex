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

  alias EctoLibSql.{Error, NIF, Query, Result, State}

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
    mode = State.detect_mode(opts)
    attach = attach_statements(mode, Keyword.get(opts, :attach, []))

    with {:ok, conn} <- open(opts, mode),
         # The key is not kept in the state, which shows up in logs and crash reports.
         state = %State{
           conn_id: conn,
           mode: mode,
           sync: State.detect_sync(opts),
           opts: Keyword.delete(opts, :encryption_key)
         },
         :ok <- apply_settings(state, attach, opts) do
      {:ok, state}
    end
  end

  @doc false
  # Opens the native connection. Raises ArgumentError when the mode's required options are
  # missing; answers {:error, %Error{}} for everything the engine refuses.
  @spec open(keyword(), State.mode()) :: {:ok, reference()} | {:error, Error.t()}
  def open(opts, mode) do
    case NIF.open(open_options(opts, mode)) do
      {:ok, conn} -> {:ok, conn}
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  defp open_options(opts, mode) do
    require_option = fn key ->
      case Keyword.get(opts, key) do
        value when is_binary(value) and value != "" ->
          value

        nil ->
          raise ArgumentError, "missing required option #{inspect(key)} for #{mode} mode"

        other ->
          raise ArgumentError, "option #{inspect(key)} must be a string, got: #{inspect(other)}"
      end
    end

    base =
      case mode do
        :local ->
          %{mode: :local, database: require_option.(:database)}

        :remote ->
          %{mode: :remote, uri: require_option.(:uri), auth_token: require_option.(:auth_token)}

        :remote_replica ->
          %{
            mode: :remote_replica,
            database: require_option.(:database),
            uri: require_option.(:uri),
            auth_token: require_option.(:auth_token)
          }

        _ ->
          %{mode: :unknown}
      end

    optional = [
      encryption_key: &string_option/2,
      remote_encryption_key: &string_option/2,
      busy_timeout: &integer_option/2,
      sync_interval: &integer_option/2,
      connect_timeout: &integer_option/2,
      request_timeout: &integer_option/2,
      read_your_writes: &boolean_option/2,
      read_only: &boolean_option/2,
      transport: &transport_option/2,
      tls_ca_file: &string_option/2,
      sync_protocol: &sync_protocol_option/2,
      offline: &boolean_option/2
    ]

    map =
      Enum.reduce(optional, base, fn {key, check}, acc ->
        case Keyword.get(opts, key) do
          nil -> acc
          value -> Map.put(acc, key, check.(key, value))
        end
      end)

    case Keyword.get(opts, :sync) do
      true -> Map.put(map, :sync, true)
      _ -> map
    end
  end

  defp string_option(_key, value) when is_binary(value), do: value

  defp string_option(key, value),
    do: raise(ArgumentError, "option #{inspect(key)} must be a string, got: #{inspect(value)}")

  defp integer_option(_key, value) when is_integer(value) and value >= 0, do: value

  defp integer_option(key, value),
    do:
      raise(
        ArgumentError,
        "option #{inspect(key)} must be a non-negative integer, got: #{inspect(value)}"
      )

  defp boolean_option(_key, value) when is_boolean(value), do: value

  defp boolean_option(key, value),
    do: raise(ArgumentError, "option #{inspect(key)} must be a boolean, got: #{inspect(value)}")

  defp transport_option(_key, value) when value in [:http, :websocket], do: Atom.to_string(value)
  defp transport_option(_key, value) when value in ["http", "websocket"], do: value

  defp transport_option(key, value),
    do:
      raise(
        ArgumentError,
        "option #{inspect(key)} must be :http or :websocket, got: #{inspect(value)}"
      )

  @sync_protocols [:auto, :libsql_http, :libsql_grpc, :turso]

  defp sync_protocol_option(_key, value) when value in @sync_protocols, do: Atom.to_string(value)

  defp sync_protocol_option(key, value),
    do:
      raise(
        ArgumentError,
        "option #{inspect(key)} must be one of #{inspect(@sync_protocols)}, got: #{inspect(value)}"
      )

  # Connection settings applied after open: busy timeout, then optional PRAGMAs.
  defp apply_settings(%State{} = state, attach, opts) do
    timeout = Keyword.get(opts, :busy_timeout, @default_busy_timeout)

    pragmas =
      [
        foreign_keys: fn v -> "PRAGMA foreign_keys = #{if v, do: "ON", else: "OFF"}" end,
        journal_mode: fn v -> "PRAGMA journal_mode = #{pragma_word(:journal_mode, v)}" end,
        synchronous: fn v -> "PRAGMA synchronous = #{pragma_word(:synchronous, v)}" end
      ]
      |> Enum.flat_map(fn {key, sql} ->
        case Keyword.fetch(opts, key) do
          {:ok, value} when value != nil -> [sql.(value)]
          _ -> []
        end
      end)

    with :ok <-
           if(state.mode == :local or state.mode == :remote_replica,
             do: set_timeout(state, timeout),
             else: :ok
           ),
         :ok <- run_pragmas(state, attach),
         :ok <- run_pragmas(state, pragmas) do
      :ok
    else
      {:error, %Error{} = error} ->
        NIF.close(state.conn_id)
        {:error, error}
    end
  end

  # ATTACH holds for one connection: every connection of a pool attaches the same databases.
  defp attach_statements(_mode, attach) when attach in [nil, []], do: []

  defp attach_statements(mode, attach) when mode in [:local, :remote_replica] do
    for {name, path} <- attach do
      unless (is_atom(name) or is_binary(name)) and is_binary(path) do
        raise ArgumentError,
              ":attach takes [name: path] pairs, got: #{inspect({name, path})}"
      end

      name = to_string(name)
      path = String.replace(path, "'", "''")
      "ATTACH DATABASE '#{path}' AS \"#{String.replace(name, "\"", "\"\"")}\""
    end
  end

  defp attach_statements(mode, _attach) do
    raise ArgumentError,
          ":attach needs a local database file (#{mode} mode cannot attach files)"
  end

  defp set_timeout(state, timeout) do
    case NIF.set_busy_timeout(state.conn_id, timeout) do
      :ok -> :ok
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  defp run_pragmas(_state, []), do: :ok

  defp run_pragmas(state, [sql | rest]) do
    case NIF.query(state.conn_id, nil, sql, []) do
      {:ok, _} -> run_pragmas(state, rest)
      {:error, native} -> {:error, Error.from_native(native)}
    end
  end

  @journal_modes ~w(delete truncate persist memory wal off)a
  @synchronous ~w(off normal full extra)a
  defp pragma_word(:journal_mode, v) when v in @journal_modes,
    do: String.upcase(Atom.to_string(v))

  defp pragma_word(:synchronous, v) when v in @synchronous, do: String.upcase(Atom.to_string(v))
  defp pragma_word(:synchronous, v) when v in 0..3, do: Integer.to_string(v)

  defp pragma_word(key, v),
    do: raise(ArgumentError, "invalid value for #{inspect(key)}: #{inspect(v)}")

  @doc "Closes the connection of `state` with its statements and cursors. Idempotent."
  @spec close(State.t()) :: :ok
  def close(%State{conn_id: conn}), do: NIF.close(conn)

  # ------------------------------------------------------------------------------------------
  # Queries
  # ------------------------------------------------------------------------------------------

  @doc """
  Runs one SQL statement with positional (list) or named (map) arguments and answers
  `{:ok, %EctoLibSql.Result{}}`. Inside a transaction begun with `begin/2` it runs in that
  transaction.
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
  def query(%State{conn_id: conn, trx_id: trx} = state, %Query{statement: sql} = query, args) do
    case NIF.query(conn, trx, IO.iodata_to_binary(sql), args) do
      {:ok, result} -> {:ok, query, result, state}
      {:error, native} -> {:error, Error.from_native(native), state}
    end
  rescue
    e in ArgumentError -> {:error, %Error{message: Exception.message(e)}, state}
  end

  @doc false
  def execute_non_trx(query, state, args), do: query(state, query, args)

  @doc false
  def execute_with_trx(state, query, args), do: query(state, query, args)

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
  def normalise_arguments(%State{conn_id: conn}, sql, args),
    do: normalise_arguments(conn, sql, args)

  def normalise_arguments(_conn, _sql, args) when is_list(args), do: args

  def normalise_arguments(conn, sql, args) when is_map(args) do
    case parameter_names(conn, sql) do
      {:ok, names} -> map_to_positional(names, args)
      {:error, reason} -> {:error, reason}
    end
  end

  def normalise_arguments(_conn, _sql, _args), do: {:error, "arguments must be a list or map"}

  defp parameter_names(conn, sql) do
    case EctoLibSql.ParamCache.get(sql) do
      {:ok, names} ->
        {:ok, names}

      :miss ->
        with {:ok, stmt} <- NIF.prepare(conn, sql),
             {:ok, count} <- NIF.stmt_info(conn, stmt, :parameter_count, 0) do
          names =
            for index <- 1..count//1 do
              {:ok, name} = NIF.stmt_info(conn, stmt, :parameter_name, index)
              name
            end

          NIF.stmt_close(stmt)
          EctoLibSql.ParamCache.put(sql, names)
          {:ok, names}
        else
          {:error, native} -> {:error, Error.from_native(native).message}
        end
    end
  end

  defp map_to_positional(names, map) do
    if Enum.any?(names, &is_nil/1) do
      raise ArgumentError,
            "Cannot use named parameter map with SQL that has positional parameters (?). " <>
              "Use a list of arguments instead."
    end

    {values, missing} =
      Enum.reduce(names, {[], []}, fn name, {values, missing} ->
        bare = String.slice(name, 1..-1//1)

        case fetch_flexible(map, name, bare) do
          {:ok, value} -> {[value | values], missing}
          :error -> {values, [name | missing]}
        end
      end)

    case missing do
      [] ->
        Enum.reverse(values)

      _ ->
        raise ArgumentError,
              "Missing required parameters: #{Enum.join(Enum.reverse(missing), ", ")}. " <>
                "SQL requires: #{Enum.join(names, ", ")}"
    end
  end

  defp fetch_flexible(map, name, bare) do
    with :error <- Map.fetch(map, bare),
         :error <- Map.fetch(map, name),
         :error <- fetch_atom(map, bare) do
      :error
    end
  end

  defp fetch_atom(map, bare) do
    Map.fetch(map, String.to_existing_atom(bare))
  rescue
    ArgumentError -> :error
  end

  @doc false
  def normalise_arguments_for_stmt(_conn, _stmt, args) when is_list(args), do: args

  def normalise_arguments_for_stmt(conn, stmt, args) when is_map(args) do
    with {:ok, count} <- NIF.stmt_info(conn, stmt, :parameter_count, 0) do
      names =
        for index <- 1..count//1 do
          {:ok, name} = NIF.stmt_info(conn, stmt, :parameter_name, index)
          name
        end

      map_to_positional(names, args)
    else
      {:error, native} -> {:error, Error.from_native(native).message}
    end
  end

  def normalise_arguments_for_stmt(_conn, _stmt, _args),
    do: {:error, "arguments must be a list or map"}

  @doc "Empties the cache of parameter names used by `normalise_arguments/3`."
  @spec clear_param_cache() :: :ok
  def clear_param_cache, do: EctoLibSql.ParamCache.clear()

  @doc "The number of statements whose parameter names are cached."
  @spec param_cache_size() :: non_neg_integer()
  def param_cache_size, do: EctoLibSql.ParamCache.size()

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

  # Without a transaction SAVEPOINT would silently start one outside the caller's control.
  defp savepoint_sql(%State{trx_id: nil}, _name, _verb, _prefix),
    do: {:error, "Transaction not found"}

  defp savepoint_sql(%State{conn_id: conn, trx_id: trx}, name, verb, prefix) do
    if is_binary(name) and valid_identifier?(name) do
      # Quoted, so that names which are keywords ("order", "select") work too.
      case NIF.query(conn, trx, verb <> ~s(") <> name <> ~s("), []) do
        {:ok, _} -> :ok
        {:error, native} -> {:error, prefix <> message(native)}
      end
    else
      {:error, "Invalid savepoint name: must be a valid SQL identifier"}
    end
  end

  defp valid_identifier?(name), do: Regex.match?(~r/\A[A-Za-z_][A-Za-z0-9_]*\z/, name)

  # ------------------------------------------------------------------------------------------
  # Prepared statements
  # ------------------------------------------------------------------------------------------

  @doc "Prepares a statement for repeated use: `{:ok, stmt_id}`."
  @spec prepare(State.t(), String.t()) :: {:ok, reference()} | {:error, String.t()}
  def prepare(%State{conn_id: conn}, sql) when is_binary(sql) do
    case NIF.prepare(conn, sql) do
      {:ok, stmt} -> {:ok, stmt}
      {:error, native} -> {:error, message(native)}
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

  defp query_stmt_slow(conn, stmt, args) do
    case NIF.stmt_query(conn, stmt, args) do
      {:ok, _} = ok -> ok
      {:error, native} -> {:error, message(native)}
    end
  end

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
  def stmt_column_count(%State{conn_id: conn}, stmt),
    do: info_result(NIF.stmt_info(conn, stmt, :column_count, 0))

  @doc "The name of result column `index` (0-based)."
  def stmt_column_name(%State{conn_id: conn}, stmt, index) when is_integer(index) and index >= 0,
    do: info_result(NIF.stmt_info(conn, stmt, :column_name, index))

  @doc "The number of parameters of a prepared statement."
  def stmt_parameter_count(%State{conn_id: conn}, stmt),
    do: info_result(NIF.stmt_info(conn, stmt, :parameter_count, 0))

  @doc "The name of parameter `index` (1-based) with its prefix (`\":id\"`), or nil for `?`."
  def stmt_parameter_name(%State{conn_id: conn}, stmt, index)
      when is_integer(index) and index >= 1,
      do: info_result(NIF.stmt_info(conn, stmt, :parameter_name, index))

  @doc "`{:ok, [{name, origin_name, declared_type | nil}]}` for each result column."
  def get_stmt_columns(%State{conn_id: conn}, stmt),
    do: info_result(NIF.stmt_info(conn, stmt, :columns, 0))

  defp info_result({:ok, _} = ok), do: ok
  defp info_result({:error, native}), do: {:error, message(native)}

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

  defp script(conn, trx, sql, transactional, prefix) do
    case NIF.execute_script(conn, trx, sql, transactional) do
      {:ok, results} -> {:ok, Enum.map(results, &result_map_or_nil/1)}
      {:error, native} -> {:error, prefix <> message(native)}
    end
  end

  defp result_map_or_nil(nil), do: nil
  defp result_map_or_nil(%Result{} = r), do: result_map(r)

  defp result_map(%Result{columns: columns, rows: rows, num_rows: n}) do
    %{"columns" => columns || [], "rows" => rows || [], "num_rows" => n}
  end

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

  def declare_cursor(conn, sql, args) when is_reference(conn) do
    case NIF.cursor_open(conn, nil, sql, args) do
      {:ok, cursor} -> cursor
      {:error, native} -> {:error, message(native)}
    end
  end

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
  @spec close_cursor(reference()) :: :ok
  def close_cursor(cursor), do: NIF.cursor_close(cursor)

  # ------------------------------------------------------------------------------------------
  # Metadata and connection control
  # ------------------------------------------------------------------------------------------

  @doc "The rowid of the last row inserted on this connection."
  def get_last_insert_rowid(%State{conn_id: conn}),
    do: info_value(NIF.info(conn, :last_insert_rowid))

  @doc "Rows changed by the last INSERT, UPDATE or DELETE."
  def get_changes(%State{conn_id: conn}), do: info_value(NIF.info(conn, :changes))
  @doc "Rows changed since the connection opened."
  def get_total_changes(%State{conn_id: conn}), do: info_value(NIF.info(conn, :total_changes))
  @doc "True unless a transaction is open."
  def get_is_autocommit(%State{conn_id: conn}), do: info_value(NIF.info(conn, :autocommit))

  defp info_value({:error, native}), do: {:error, message(native)}
  defp info_value(value), do: value

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
  def get_frame_number_for_replica(%State{conn_id: conn}), do: get_frame_number_for_replica(conn)
  def get_frame_number_for_replica(conn), do: replication(conn, :frame_number, nil)

  @doc "Syncs until the replica reaches `frame_no`."
  def sync_until_frame(%State{conn_id: conn}, frame_no), do: sync_until_frame(conn, frame_no)

  def sync_until_frame(conn, frame_no) when is_integer(frame_no) and frame_no >= 0 do
    case replication(conn, :sync_until, frame_no) do
      {:ok, :ok} -> :ok
      other -> other
    end
  end

  @doc "Flushes pending replication work and answers the frame number reached."
  def flush_and_get_frame(%State{conn_id: conn}), do: flush_and_get_frame(conn)
  def flush_and_get_frame(conn), do: replication(conn, :flush, nil)

  @doc "The highest frame number written through this replica."
  def get_max_write_frame(%State{conn_id: conn}), do: get_max_write_frame(conn)
  def get_max_write_frame(conn), do: replication(conn, :max_write_frame, nil)

  @doc """
  Turns an embedded replica into a plain local database at the same path: it stops syncing
  and accepts local writes.
  """
  @spec freeze_replica(State.t()) :: {:ok, State.t()} | {:error, term()}
  def freeze_replica(%State{conn_id: conn} = state) do
    case replication(conn, :freeze, nil) do
      {:ok, :ok} -> {:ok, %State{state | mode: :local, sync: :disable_sync}}
      {:error, _} = error -> error
    end
  end

  def freeze_replica(_), do: {:error, :unsupported}

  defp replication(conn, what, arg) do
    case NIF.replication(conn, what, arg) do
      {:ok, value} -> {:ok, value}
      :ok -> {:ok, :ok}
      {:error, native} -> {:error, message(native)}
    end
  end

  # ------------------------------------------------------------------------------------------
  # Vector helpers
  # ------------------------------------------------------------------------------------------

  @doc ~S"""
  A vector literal for libSQL's vector functions: `vector([1, 2.5])` is `"[1,2.5]"`. Elements
  are joined with `Enum.join/2`, as in earlier releases; `EctoLibSql.Vector.to_blob/2` gives the
  binary form.
  """
  @spec vector([number()]) :: String.t()
  def vector(values) when is_list(values) do
    "[" <> Enum.join(values, ",") <> "]"
  end

  @doc ~S|The column type of a vector: `vector_type(3)` is `"F32_BLOB(3)"`; `:f64` gives `"F64_BLOB(n)"`.|
  @spec vector_type(pos_integer(), :f32 | :f64) :: String.t()
  def vector_type(dimensions, type \\ :f32) when is_integer(dimensions) and dimensions > 0 do
    case type do
      :f32 -> "F32_BLOB(#{dimensions})"
      :f64 -> "F64_BLOB(#{dimensions})"
      other -> raise ArgumentError, "vector type must be :f32 or :f64, got: #{inspect(other)}"
    end
  end

  @doc ~S|SQL for the cosine distance between a column and a vector: `"vector_distance_cos(col, '[1,2]')"`.|
  @spec vector_distance_cos(String.t(), [number()] | String.t()) :: String.t()
  def vector_distance_cos(column, vector) when is_binary(column) do
    literal = if is_list(vector), do: vector(vector), else: vector
    "vector_distance_cos(#{column}, '#{String.replace(literal, "'", "''")}')"
  end

  # ------------------------------------------------------------------------------------------
  # Compatibility: the NIF-level functions of earlier releases
  # ------------------------------------------------------------------------------------------

  @doc false
  def connect(opts, mode) do
    case open(opts, mode) do
      {:ok, conn} -> conn
      {:error, %Error{message: m}} -> {:error, m}
    end
  end

  @doc false
  def ping(conn) do
    case NIF.ping(conn) do
      :ok -> true
      {:error, native} -> {:error, "Ping error: " <> message(native)}
    end
  end

  @doc false
  def close(id, :conn_id), do: NIF.close(id)
  def close(id, :stmt_id), do: NIF.stmt_close(id)
  def close(id, :cursor_id), do: NIF.cursor_close(id)

  # Closing an open transaction handle rolls the transaction back.
  def close(id, :trx_id) do
    case NIF.transaction_status(id) do
      :ok -> ok_or_message(NIF.rollback(nil, id))
      {:error, _} -> {:error, "Transaction not found"}
    end
  end

  def close(_id, _opt), do: {:error, "opt is incorrect"}

  @doc false
  def close_conn(id, opt, state) do
    case close(id, opt) do
      :ok -> :ok
      {:error, message} -> {:error, message, state}
    end
  end

  @doc false
  def set_busy_timeout(conn, ms) when is_integer(ms) and ms >= 0,
    do: ok_or_message(NIF.set_busy_timeout(conn, ms))

  def set_busy_timeout(_conn, ms),
    do: raise(ArgumentError, "busy timeout must be a non-negative integer, got: #{inspect(ms)}")

  @doc false
  def reset_connection(conn), do: ok_or_message(NIF.reset(conn))
  @doc false
  def interrupt_connection(conn), do: ok_or_message(NIF.interrupt(conn))
  @doc false
  def enable_load_extension(conn, enabled),
    do: ok_or_message(NIF.enable_load_extension(conn, enabled))

  @doc false
  def load_extension(conn, path, entry), do: ok_or_message(NIF.load_extension(conn, path, entry))

  @doc false
  def query_args(conn, _mode, _sync, sql, args) do
    case NIF.query(conn, nil, sql, args) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc false
  def query_with_trx_args(trx, conn, sql, args) do
    case NIF.query(conn, trx, sql, args) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc false
  def execute_with_transaction(trx, conn, sql, args) do
    case NIF.query(conn, trx, sql, args) do
      {:ok, %Result{num_rows: n}} -> n
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc false
  def pragma_query(conn, sql) do
    case NIF.query(conn, nil, sql, []) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, "PRAGMA query failed: " <> message(native)}
    end
  end

  @doc false
  def do_sync(conn, _mode) do
    case NIF.sync(conn) do
      {:ok, _} -> {:ok, "success sync"}
      {:error, native} -> {:error, "Sync error: " <> message(native)}
    end
  end

  @doc false
  def execute_batch(conn, _mode, _sync, statements), do: compat_batch(conn, statements, false)
  @doc false
  def execute_transactional_batch(conn, _mode, _sync, statements),
    do: compat_batch(conn, statements, true)

  defp compat_batch(conn, statements, transactional) do
    case NIF.batch(conn, nil, statements, transactional) do
      {:ok, results} -> Enum.map(results, &result_map/1)
      {:error, native} -> {:error, "Batch statement error: " <> message(native)}
    end
  end

  @doc false
  def execute_batch_native(conn, sql) do
    case script(conn, nil, sql, false, "batch failed: ") do
      {:ok, results} -> results
      error -> error
    end
  end

  @doc false
  def execute_transactional_batch_native(conn, sql) do
    case script(conn, nil, sql, true, "transactional batch failed: ") do
      {:ok, results} -> results
      error -> error
    end
  end

  @doc false
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
        case NIF.cursor_open(conn, trx, sql, args) do
          {:ok, cursor} -> cursor
          {:error, native} -> {:error, message(native)}
        end
    end
  end

  @doc false
  def fetch_cursor(conn, cursor, max_rows) do
    case NIF.cursor_fetch(conn, cursor, max_rows) do
      {_status, columns, rows} -> {columns, rows, length(rows)}
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc false
  def set_update_hook(conn, pid) when is_pid(pid),
    do: ok_or_message(NIF.set_update_hook(conn, pid))

  @doc false
  def clear_update_hook(conn), do: ok_or_message(NIF.set_update_hook(conn, nil))
  @doc false
  def set_authorizer(conn, pid) when is_pid(pid),
    do: ok_or_message(NIF.set_authorizer(conn, pid, 5000))

  @doc false
  def last_insert_rowid(conn), do: info_value(NIF.info(conn, :last_insert_rowid))
  @doc false
  def changes(conn), do: info_value(NIF.info(conn, :changes))
  @doc false
  def total_changes(conn), do: info_value(NIF.info(conn, :total_changes))
  @doc false
  def is_autocommit(conn), do: info_value(NIF.info(conn, :autocommit))

  @doc false
  def get_frame_number(conn), do: unwrap(replication(conn, :frame_number, nil))
  @doc false
  def sync_until(conn, frame), do: sync_until_frame(conn, frame)
  @doc false
  def flush_replicator(conn), do: unwrap(replication(conn, :flush, nil))

  @doc """
  The highest frame number written through this replica (compatibility name of
  `get_max_write_frame/1`): an integer, or `{:error, reason}`.
  """
  def max_write_replication_index(conn), do: unwrap(replication(conn, :max_write_frame, nil))

  @doc false
  def freeze_database(conn) do
    case replication(conn, :freeze, nil) do
      {:ok, :ok} -> :ok
      error -> error
    end
  end

  defp unwrap({:ok, value}), do: value
  defp unwrap(error), do: error

  @doc false
  def savepoint(conn, trx, name),
    do:
      savepoint_sql(%State{conn_id: conn, trx_id: trx}, name, "SAVEPOINT ", "Savepoint failed: ")

  @doc false
  def release_savepoint(conn, trx, name),
    do:
      savepoint_sql(
        %State{conn_id: conn, trx_id: trx},
        name,
        "RELEASE SAVEPOINT ",
        "Release savepoint failed: "
      )

  @doc false
  def rollback_to_savepoint(conn, trx, name),
    do:
      savepoint_sql(
        %State{conn_id: conn, trx_id: trx},
        name,
        "ROLLBACK TO SAVEPOINT ",
        "Rollback to savepoint failed: "
      )

  @doc false
  def prepare_statement(conn, sql) do
    case NIF.prepare(conn, sql) do
      {:ok, stmt} -> stmt
      {:error, native} -> {:error, "Prepare failed: " <> message(native)}
    end
  end

  @doc false
  def query_prepared(conn, stmt, _mode, _sync, args) do
    case NIF.stmt_query(conn, stmt, args) do
      {:ok, result} -> result_map(result)
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc false
  def execute_prepared(conn, stmt, _mode, _sync, _sql, args) do
    case NIF.stmt_query(conn, stmt, args) do
      {:ok, %Result{num_rows: n}} -> n
      {:error, native} -> {:error, "Execute failed: " <> message(native)}
    end
  end

  @doc false
  def statement_column_count(conn, stmt),
    do: unwrap(info_result(NIF.stmt_info(conn, stmt, :column_count, 0)))

  @doc false
  def statement_column_name(conn, stmt, index),
    do: unwrap(info_result(NIF.stmt_info(conn, stmt, :column_name, index)))

  @doc false
  def statement_parameter_count(conn, stmt),
    do: unwrap(info_result(NIF.stmt_info(conn, stmt, :parameter_count, 0)))

  @doc false
  def statement_parameter_name(conn, stmt, index),
    do: unwrap(info_result(NIF.stmt_info(conn, stmt, :parameter_name, index)))

  @doc false
  def reset_statement(conn, stmt), do: ok_or_message(NIF.stmt_reset(conn, stmt))
  @doc false
  def get_statement_columns(conn, stmt),
    do: unwrap(info_result(NIF.stmt_info(conn, stmt, :columns, 0)))

  @doc false
  def begin_transaction(conn), do: begin_transaction_with_behavior(conn, :deferred)

  @doc false
  def begin_transaction_with_behavior(conn, behavior) do
    case NIF.begin(conn, behavior) do
      {:ok, trx} -> trx
      {:error, native} -> {:error, "Begin failed: " <> message(native)}
    end
  end

  @doc false
  def handle_status_transaction(trx) do
    case NIF.transaction_status(trx) do
      :ok -> :ok
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc false
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

  # ------------------------------------------------------------------------------------------
  # Encryption at rest (key management; connect with `:encryption_key`)
  # ------------------------------------------------------------------------------------------

  @doc "Writes an encrypted copy of a plain database. See `EctoLibSql.Encryption`."
  defdelegate encrypt_database(source, destination, key), to: EctoLibSql.Encryption

  @doc "Writes a plain copy of an encrypted database. See `EctoLibSql.Encryption`."
  defdelegate decrypt_database(source, destination, key), to: EctoLibSql.Encryption

  @doc "Changes the key of an encrypted database in place. See `EctoLibSql.Encryption`."
  defdelegate rekey(database, old_key, new_key), to: EctoLibSql.Encryption

  # ------------------------------------------------------------------------------------------

  defp ok_or_message(:ok), do: :ok
  defp ok_or_message({:error, native}), do: {:error, message(native)}

  defp message(native), do: Error.from_native(native).message
end
