defmodule EctoLibSql.NIF do
  @moduledoc false
  # The native functions. Internal: use EctoLibSql.Native, whose API is stable.
  #
  # Errors come back as {:error, {:ecto_libsql_error, code, primary, extended, message,
  # remote_code, constraint}}; EctoLibSql.Error.from_native/1 turns them into exceptions.

  alias EctoLibSql.{Params, Result}

  @on_load :load_nif

  @typedoc "A connection, transaction, statement or cursor handle (a NIF resource)."
  @type handle :: reference()

  @typedoc "An error of the engine: EctoLibSql.Error.from_native/1 reads it."
  @type error ::
          {:error,
           {:ecto_libsql_error, integer(), atom(), atom(), String.t(), String.t() | nil,
            nil | {atom(), String.t() | nil}}}

  @typedoc "`nil`, or when a lock wait began (opaque): the last argument of functions that wait."
  @type waiting_since :: term()

  @typedoc "What a function that may wait answers instead of waiting on its scheduler."
  @type busy :: {:ecto_libsql_busy, waiting_since()}

  @typedoc "What a function taking arguments answers when one needs EctoLibSql.Params."
  @type encode :: :ecto_libsql_encode

  @doc false
  @spec load_nif() :: :ok | {:error, term()}
  def load_nif do
    path = :filename.join(:code.priv_dir(:ecto_libsql), ~c"ecto_libsql_nif")

    case :erlang.load_nif(path, 0) do
      :ok -> :ok
      {:error, {:reload, _}} -> :ok
      {:error, reason} -> {:error, reason}
    end
  end

  defp nif_not_loaded, do: :erlang.nif_error(:nif_not_loaded)

  # Functions that may wait for a database lock take one more argument, `nil` or when the wait
  # began, and answer {:ecto_libsql_busy, waiting_since} instead of waiting on a scheduler the
  # lock's holder may need. The calling process waits here, with SQLite's back-off, and calls
  # again; the NIF turns the wait into SQLITE_BUSY once the busy timeout has passed. `call`
  # takes `waiting_since`.
  @backoff {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50}

  defp waiting(call, since \\ nil, attempt \\ 0) do
    case call.(since) do
      {:ecto_libsql_busy, since} ->
        Process.sleep(elem(@backoff, min(attempt, tuple_size(@backoff) - 1)))
        waiting(call, since, attempt + 1)

      result ->
        result
    end
  end

  # Arguments go to the NIF as given; it answers :ecto_libsql_encode when one needs
  # EctoLibSql.Params (a date, time or decimal struct, a map sent as JSON, :null), and the call
  # is made again here with the arguments `encode` answers. The common case walks its
  # arguments once, natively. `call` takes the arguments and `waiting_since`.
  # SQLITE_MISUSE, as the engine answers a bad argument.
  @sqlite_misuse 21
  @unencodable "unsupported argument type: a value EctoLibSql.Params could not encode"

  defp encoding(args, encode, call) do
    case waiting(&call.(args, &1)) do
      :ecto_libsql_encode ->
        case waiting(&call.(encode.(args), &1)) do
          # Encoded arguments hold none of those values: this would be a bug, not a loop.
          :ecto_libsql_encode ->
            {:error,
             {:ecto_libsql_error, @sqlite_misuse, :misuse, :misuse, @unencodable, nil, nil}}

          result ->
            result
        end

      result ->
        result
    end
  end

  ## Connections

  @spec open(map()) :: {:ok, handle()} | error()
  def open(_options), do: nif_not_loaded()

  @spec close(handle()) :: :ok | error()
  def close(_conn), do: nif_not_loaded()

  @spec ping(handle()) :: :ok | error()
  def ping(_conn), do: nif_not_loaded()

  @spec set_busy_timeout(handle(), non_neg_integer()) :: :ok | error()
  def set_busy_timeout(_conn, _ms), do: nif_not_loaded()

  @spec interrupt(handle()) :: :ok | error()
  def interrupt(_conn), do: nif_not_loaded()

  @spec reset(handle()) :: :ok | error()
  def reset(_conn), do: nif_not_loaded()

  @spec enable_load_extension(handle(), boolean()) :: :ok | error()
  def enable_load_extension(_conn, _enabled), do: nif_not_loaded()

  @spec set_foreign_keys_enforced(handle(), boolean()) :: :ok | error()
  def set_foreign_keys_enforced(_conn, _enforced), do: nif_not_loaded()

  @spec load_extension(handle(), String.t(), String.t() | nil) :: :ok | error()
  def load_extension(_conn, _path, _entry), do: nif_not_loaded()

  @spec info(handle(), :last_insert_rowid | :changes | :total_changes | :autocommit) ::
          integer() | boolean() | error()
  def info(_conn, _what), do: nif_not_loaded()

  @spec mode(handle()) :: :local | :remote | :remote_replica | error()
  def mode(_conn), do: nif_not_loaded()

  ## Queries

  @spec query(handle(), handle() | nil, String.t(), list() | map()) ::
          {:ok, Result.t()} | error()
  def query(conn, trx, sql, args),
    do: encoding(args, &Params.encode/1, &query(conn, trx, sql, &1, &2))

  @spec query(handle(), handle() | nil, String.t(), list() | map(), waiting_since()) ::
          {:ok, Result.t()} | error() | busy() | encode()
  def query(_conn, _trx, _sql, _args, _waiting_since), do: nif_not_loaded()

  @spec batch(handle(), handle() | nil, [{String.t(), list() | map()}], boolean()) ::
          {:ok, [Result.t()]} | error()
  def batch(conn, trx, steps, transactional),
    do: encoding(steps, &Params.encode_steps/1, &batch(conn, trx, &1, transactional, &2))

  @spec batch(handle(), handle() | nil, list(), boolean(), waiting_since()) ::
          {:ok, [Result.t()]} | error() | busy() | encode()
  def batch(_conn, _trx, _steps, _transactional, _waiting_since), do: nif_not_loaded()

  @spec execute_script(handle(), handle() | nil, String.t(), boolean()) ::
          {:ok, [Result.t() | nil]} | error()
  def execute_script(conn, trx, sql, transactional),
    do: waiting(&execute_script(conn, trx, sql, transactional, &1))

  @spec execute_script(handle(), handle() | nil, String.t(), boolean(), waiting_since()) ::
          {:ok, [Result.t() | nil]} | error() | busy()
  def execute_script(_conn, _trx, _sql, _transactional, _waiting_since), do: nif_not_loaded()

  @spec classify(String.t()) :: {atom(), boolean()}
  def classify(_sql), do: nif_not_loaded()

  # The map's values in the order of the statement's parameters, resolved by the engine (the
  # resolver every statement uses): {:ok, values}, {:argument_error, message} or an error.
  @spec named_arguments(handle(), String.t(), map()) ::
          {:ok, list()} | {:argument_error, String.t()} | error()
  def named_arguments(conn, sql, map), do: waiting(&named_arguments(conn, sql, map, &1))

  @spec named_arguments(handle(), String.t(), map(), waiting_since()) ::
          {:ok, list()} | {:argument_error, String.t()} | error() | busy()
  def named_arguments(_conn, _sql, _map, _waiting_since), do: nif_not_loaded()

  ## Prepared statements

  @spec prepare(handle(), String.t()) :: {:ok, handle()} | error()
  def prepare(conn, sql), do: waiting(&prepare(conn, sql, &1))

  @spec prepare(handle(), String.t(), waiting_since()) :: {:ok, handle()} | error() | busy()
  def prepare(_conn, _sql, _waiting_since), do: nif_not_loaded()

  @spec stmt_query(handle(), handle(), list() | map()) :: {:ok, Result.t()} | error()
  def stmt_query(conn, stmt, args),
    do: encoding(args, &Params.encode/1, &stmt_query(conn, stmt, &1, &2))

  @spec stmt_query(handle(), handle(), list() | map(), waiting_since()) ::
          {:ok, Result.t()} | error() | busy() | encode()
  def stmt_query(_conn, _stmt, _args, _waiting_since), do: nif_not_loaded()

  @spec stmt_reset(handle(), handle()) :: :ok | error()
  def stmt_reset(_conn, _stmt), do: nif_not_loaded()

  @spec stmt_close(handle()) :: :ok | error()
  def stmt_close(_stmt), do: nif_not_loaded()

  @spec stmt_info(handle(), handle(), atom(), non_neg_integer()) :: {:ok, term()} | error()
  def stmt_info(_conn, _stmt, _what, _index), do: nif_not_loaded()

  ## Cursors

  @spec cursor_open(handle(), handle() | nil, String.t(), list() | map()) ::
          {:ok, handle()} | error()
  def cursor_open(conn, trx, sql, args),
    do: encoding(args, &Params.encode/1, &cursor_open(conn, trx, sql, &1, &2))

  @spec cursor_open(handle(), handle() | nil, String.t(), list() | map(), waiting_since()) ::
          {:ok, handle()} | error() | busy() | encode()
  def cursor_open(_conn, _trx, _sql, _args, _waiting_since), do: nif_not_loaded()

  @spec cursor_fetch(handle(), handle(), pos_integer()) ::
          {:cont | :halt, [String.t()], [list()]} | error()
  def cursor_fetch(conn, cursor, max_rows), do: waiting(&cursor_fetch(conn, cursor, max_rows, &1))

  @spec cursor_fetch(handle(), handle(), pos_integer(), waiting_since()) ::
          {:cont | :halt, [String.t()], [list()]} | error() | busy()
  def cursor_fetch(_conn, _cursor, _max_rows, _waiting_since), do: nif_not_loaded()

  @spec cursor_close(handle()) :: :ok | error()
  def cursor_close(_cursor), do: nif_not_loaded()

  ## Transactions

  @spec begin(handle(), atom()) :: {:ok, handle()} | error()
  def begin(conn, behaviour), do: waiting(&begin(conn, behaviour, &1))

  @spec begin(handle(), atom(), waiting_since()) :: {:ok, handle()} | error() | busy()
  def begin(_conn, _behaviour, _waiting_since), do: nif_not_loaded()

  @spec commit(handle(), handle()) :: :ok | error()
  def commit(conn, trx), do: waiting(&commit(conn, trx, &1))

  @spec commit(handle(), handle(), waiting_since()) :: :ok | error() | busy()
  def commit(_conn, _trx, _waiting_since), do: nif_not_loaded()

  @spec rollback(handle() | nil, handle()) :: :ok | error()
  def rollback(_conn, _trx), do: nif_not_loaded()

  @spec transaction_status(handle()) :: :ok | error()
  def transaction_status(_trx), do: nif_not_loaded()

  ## Hooks

  @spec set_update_hook(handle(), pid() | nil) :: :ok | error()
  def set_update_hook(_conn, _pid), do: nif_not_loaded()

  @spec set_authorizer(handle(), pid() | nil, non_neg_integer()) :: :ok | error()
  def set_authorizer(_conn, _pid, _timeout), do: nif_not_loaded()

  @spec authorizer_reply(non_neg_integer(), :ok | :deny | :ignore) :: :ok | error()
  def authorizer_reply(_request, _decision), do: nif_not_loaded()

  ## Replication

  @spec sync(handle()) ::
          {:ok, %{frame_no: non_neg_integer(), frames_synced: non_neg_integer()}} | error()
  def sync(_conn), do: nif_not_loaded()

  @spec replication(
          handle(),
          :frame_number | :sync_until | :flush | :max_write_frame | :freeze,
          term()
        ) :: {:ok, term()} | :ok | error()
  def replication(_conn, _what, _arg), do: nif_not_loaded()

  ## Diagnostics and encryption at rest

  # Handles alive per kind and SQLite's memory in use: %{connections:, statements:, cursors:,
  # transactions:, sqlite_memory_used:}. For tests and leak hunting.
  @spec resource_counts() :: %{atom() => non_neg_integer()}
  def resource_counts, do: nif_not_loaded()

  @spec encrypt_database(String.t(), String.t(), binary()) :: :ok | error()
  def encrypt_database(_source, _destination, _key), do: nif_not_loaded()

  @spec decrypt_database(String.t(), String.t(), binary()) :: :ok | error()
  def decrypt_database(_source, _destination, _key), do: nif_not_loaded()

  @spec rekey(String.t(), binary(), binary()) :: :ok | error()
  def rekey(_database, _old_key, _new_key), do: nif_not_loaded()

  # A CREATE statement's head, and a table's column list and options (EctoLibSql.CreateStatement).
  @spec parse_create(binary()) :: {:ok, map()} | {:error, String.t()}
  def parse_create(_sql), do: nif_not_loaded()
end
