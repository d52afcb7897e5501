# The DBConnection driver: compiled when DBConnection is loadable, whichever way it arrived
# (Hex, a path dependency, ERL_LIBS). The native-driver layer (EctoLibSql.Native) needs no
# dependency.
if Code.ensure_loaded?(DBConnection) do
  defmodule EctoLibSql do
    @moduledoc """
    A `DBConnection` driver for libSQL and Turso: a local SQLite database file, a remote
    libSQL/Turso server, or an embedded replica (a local file kept in sync with a server).

        {:ok, pid} = DBConnection.start_link(EctoLibSql, database: "my.db")
        DBConnection.execute(pid, %EctoLibSql.Query{statement: "SELECT 1"}, [])

    Most applications use it through the Ecto adapter, `Ecto.Adapters.LibSql`. Connection
    options are those of `EctoLibSql.Native.connect/1`, plus:

      * `:default_transaction_mode` - `:deferred` (default), `:immediate` or `:exclusive`, for
        transactions that do not give `mode:` themselves
      * `:max_rows` - rows per fetch when streaming (default 500)
    """

    use DBConnection

    alias EctoLibSql.{Error, Native, NIF, Query, Result, State}

    @default_max_rows 500

    @impl true
    # Options that cannot work are reported once (EctoLibSql.Options.configuration_error/2),
    # not at every back-off of every pooled connection. A pool of in-memory databases would be a
    # pool of different, empty databases: refused. The Ecto adapter shares one in-memory
    # database across its pool instead.
    def connect(opts) do
      pool_size = Keyword.get(opts, :pool_size, 1)

      case EctoLibSql.Options.mode(opts) do
        {:error, message} ->
          EctoLibSql.Options.configuration_error("Unknown mode: " <> message, opts)

        {:ok, :local} when is_integer(pool_size) and pool_size > 1 ->
          if Keyword.get(opts, :database) == ":memory:" do
            {:error,
             %Error{
               message:
                 "database: \":memory:\" with pool_size: #{pool_size} would give every connection " <>
                   "its own empty database: use pool_size: 1, or one shared in-memory database " <>
                   "(database: \"file:/<name>?vfs=memdb\", a name of its own per pool; the Ecto " <>
                   "adapter does this for \":memory:\")"
             }}
          else
            Native.connect(opts)
          end

        {:ok, _mode} ->
          Native.connect(opts)
      end
    rescue
      e in ArgumentError -> EctoLibSql.Options.configuration_error(Exception.message(e), opts)
    end

    @impl true
    def disconnect(_error, %State{conn_id: conn}) do
      NIF.close(conn)
      :ok
    end

    @impl true
    def ping(%State{conn_id: conn} = state) do
      case NIF.ping(conn) do
        :ok -> {:ok, state}
        {:error, native} -> {:disconnect, Error.from_native(native), state}
      end
    end

    @impl true
    def checkout(%State{} = state), do: {:ok, state}

    @impl true
    def handle_prepare(%Query{} = query, _opts, state), do: {:ok, query, state}

    @impl true
    # `foreign_keys_enforced: boolean` in the options switches enforcement instead of running the
    # query; unlike PRAGMA foreign_keys it works inside a transaction (the adapter's table
    # rebuilds use it). Switched off, it is switched back on when a transaction or savepoint
    # rolls back: a failed rebuild cannot leave a pooled connection without enforcement.
    def handle_execute(%Query{statement: statement} = query, args, opts, %State{} = state) do
      case Keyword.fetch(opts, :foreign_keys_enforced) do
        {:ok, enforced} when is_boolean(enforced) ->
          case NIF.set_foreign_keys_enforced(state.conn_id, enforced) do
            :ok ->
              state = %State{state | foreign_keys_off: not enforced}
              {:ok, query, %Result{command: :pragma, rows: [], num_rows: 0}, state}

            {:error, native} ->
              error(native, state)
          end

        _ ->
          execute_sql(query, statement, args, state)
      end
    end

    def handle_execute(sql, args, opts, state) when is_binary(sql) do
      handle_execute(%Query{statement: sql}, args, opts, state)
    end

    # SQL holding several statements runs them all, in order, as one unit (see
    # EctoLibSql.Native.execute/3). A map of named parameters missing one raises ArgumentError,
    # as in earlier releases.
    defp execute_sql(query, statement, args, state) do
      sql = IO.iodata_to_binary(statement)
      args = named_arguments(state, sql, args)

      case NIF.query(state.conn_id, state.trx_id, sql, args) do
        {:ok, result} -> {:ok, query, result, state}
        {:error, native} -> error(native, state)
      end
    end

    defp named_arguments(state, sql, args) when is_map(args) and map_size(args) > 0 do
      case Native.normalise_arguments(state.conn_id, sql, args) do
        list when is_list(list) -> list
        # SQL the NIF refuses anyway (a syntax error, several statements): it says why.
        {:error, _} -> args
      end
    end

    defp named_arguments(_state, _sql, args), do: args

    @impl true
    def handle_close(_query, _opts, state), do: {:ok, %Result{command: :close}, state}

    # The savepoint DBConnection asks for when a transaction is opened inside a sandbox's.
    @savepoint "ecto_libsql_dbconnection"

    @impl true
    def handle_begin(opts, %State{conn_id: conn} = state) do
      mode =
        case Keyword.get(opts, :mode) do
          # DBConnection's own modes: a real transaction, or a savepoint inside one (sandboxes).
          mode when mode in [nil, :transaction] ->
            Keyword.get(state.opts, :default_transaction_mode, :deferred)

          mode ->
            mode
        end

      cond do
        mode == :savepoint and state.trx_id == nil ->
          {:error, %Error{message: "a savepoint needs an open transaction"}, state}

        mode == :savepoint ->
          savepoint(state, "SAVEPOINT #{@savepoint}", :begin)

        true ->
          begin(conn, mode, state)
      end
    end

    # Begin answers :begin, as in earlier releases; commit and rollback a %Result{}.
    defp savepoint(state, sql, command) do
      case Native.query(state, %Query{statement: sql}, []) do
        {:ok, _, _, state} when command == :begin -> {:ok, :begin, state}
        {:ok, _, _, state} -> {:ok, %Result{command: command}, state}
        {:error, error, state} -> {:error, error, state}
      end
    end

    defp begin(conn, mode, state) do
      case NIF.begin(conn, mode) do
        {:ok, trx} -> {:ok, :begin, %State{state | trx_id: trx}}
        {:error, native} -> error(native, state)
      end
    end

    @impl true
    def handle_commit(_opts, %State{trx_id: nil} = state) do
      {:error, %Error{message: "no active transaction"}, state}
    end

    def handle_commit(opts, %State{trx_id: trx} = state) do
      if Keyword.get(opts, :mode) == :savepoint,
        do: savepoint(state, "RELEASE SAVEPOINT #{@savepoint}", :commit),
        else: commit_transaction(opts, trx, state)
    end

    defp commit_transaction(opts, trx, state) do
      case NIF.transaction_status(trx) do
        :ok -> commit(opts, state)
        # SQLite rolled the transaction back itself (ON CONFLICT ROLLBACK, say): a failed
        # transaction, which DBConnection rolls back and answers {:error, :rollback} for.
        {:error, _} -> {:error, state}
      end
    end

    defp commit(_opts, %State{conn_id: conn, trx_id: trx} = state) do
      case NIF.commit(conn, trx) do
        :ok ->
          {:ok, %Result{command: :commit}, %State{state | trx_id: nil}}

        {:error, native} ->
          # A failed COMMIT (a deferred foreign key, a busy database) leaves the transaction
          # open: roll it back so the connection goes back to the pool clean.
          error = Error.from_native(native)

          case NIF.rollback(conn, trx) do
            :ok -> {:error, error, %State{state | trx_id: nil}}
            {:error, _} -> {:disconnect, error, state}
          end
      end
    end

    @impl true
    def handle_rollback(_opts, %State{trx_id: nil} = state) do
      {:ok, %Result{command: :rollback}, state}
    end

    def handle_rollback(opts, %State{} = state) do
      state = enforce_foreign_keys(state)

      if Keyword.get(opts, :mode) == :savepoint do
        with {:ok, _, state} <- savepoint(state, "ROLLBACK TO SAVEPOINT #{@savepoint}", :rollback) do
          savepoint(state, "RELEASE SAVEPOINT #{@savepoint}", :rollback)
        end
      else
        rollback_transaction(state)
      end
    end

    defp enforce_foreign_keys(%State{foreign_keys_off: true, conn_id: conn} = state) do
      case NIF.set_foreign_keys_enforced(conn, true) do
        :ok -> %State{state | foreign_keys_off: false}
        {:error, _} -> state
      end
    end

    defp enforce_foreign_keys(state), do: state

    defp rollback_transaction(%State{conn_id: conn, trx_id: trx} = state) do
      case NIF.rollback(conn, trx) do
        :ok -> {:ok, %Result{command: :rollback}, %State{state | trx_id: nil}}
        {:error, native} -> {:disconnect, Error.from_native(native), state}
      end
    end

    @impl true
    # A transaction begun with plain SQL ("BEGIN") has no handle: SQLite's autocommit flag tells.
    def handle_status(_opts, %State{trx_id: nil, conn_id: conn} = state) do
      case NIF.info(conn, :autocommit) do
        false -> {:transaction, state}
        _ -> {:idle, state}
      end
    end

    def handle_status(_opts, %State{trx_id: trx} = state) do
      case NIF.transaction_status(trx) do
        :ok -> {:transaction, state}
        # The transaction ended underneath us (SQLite rolled it back after an error).
        {:error, _} -> {:error, state}
      end
    end

    # The cursor is `%{ref: cursor_handle}`, as in earlier releases.
    @impl true
    def handle_declare(%Query{statement: statement} = query, params, _opts, %State{} = state) do
      case NIF.cursor_open(state.conn_id, state.trx_id, IO.iodata_to_binary(statement), params) do
        {:ok, cursor} -> {:ok, query, %{ref: cursor}, state}
        {:error, native} -> error(native, state)
      end
    end

    # Every batch of rows answers :cont; the fetch after the last row answers :halt with no
    # rows, as in earlier releases.
    @impl true
    def handle_fetch(_query, cursor, opts, %State{} = state) do
      max_rows =
        Keyword.get(opts, :max_rows) || Keyword.get(state.opts, :max_rows, @default_max_rows)

      case NIF.cursor_fetch(state.conn_id, cursor_ref(cursor), max_rows) do
        {_status, columns, rows} when rows != [] ->
          {:cont, %Result{command: :select, columns: columns, rows: rows, num_rows: length(rows)},
           state}

        {:halt, columns, []} ->
          {:halt, %Result{command: :select, columns: columns, rows: [], num_rows: 0}, state}

        {:error, native} ->
          error(native, state)
      end
    end

    @impl true
    def handle_deallocate(_query, cursor, _opts, state) do
      NIF.cursor_close(cursor_ref(cursor))
      {:ok, %Result{command: :deallocate}, state}
    end

    defp cursor_ref(%{ref: cursor}), do: cursor
    defp cursor_ref(cursor), do: cursor

    # An error on a connection that is no longer open asks DBConnection to reconnect.
    defp error(native, %State{conn_id: conn} = state) do
      error = Error.from_native(native)

      case NIF.ping(conn) do
        :ok -> {:error, error, state}
        {:error, _} -> {:disconnect, error, state}
      end
    end
  end
end
