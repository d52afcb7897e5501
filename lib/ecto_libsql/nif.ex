defmodule EctoLibSql.NIF do
  @moduledoc false
  # The native functions. Internal: use EctoLibSql.Native, whose API is stable.
  #
  # Errors come back as {:error, {:ecto_libsql_error, code, primary, extended, message,
  # remote_code, constraint}}; EctoLibSql.Error.from_native/1 turns them into exceptions.

  @on_load :load_nif

  @doc false
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
  # again; the NIF turns the wait into SQLITE_BUSY once the busy timeout has passed.
  @backoff {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50}

  # SQLITE_MISUSE, as the engine answers a bad argument.
  @sqlite_misuse 21
  @unencodable "unsupported argument type: a value EctoLibSql.Params could not encode"

  defp wait_for_lock(busy, call, attempt \\ 0)

  defp wait_for_lock({:ecto_libsql_busy, since}, call, attempt) do
    Process.sleep(elem(@backoff, min(attempt, tuple_size(@backoff) - 1)))

    case call.(since) do
      {:ecto_libsql_busy, _} = busy -> wait_for_lock(busy, call, attempt + 1)
      result -> result
    end
  end

  # Arguments go to the NIF as given; it answers :ecto_libsql_encode when one needs
  # EctoLibSql.Params (a date, time or decimal struct, a map sent as JSON, :null), and the call
  # is made again here with the encoded arguments. The common case walks its arguments once,
  # natively. `call` takes the arguments and the `waiting_since` of a lock wait.
  defp call_encoded(encoded, call) do
    case call.(encoded, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &call.(encoded, &1))

      # Encoded arguments hold none of those values: this would be a bug, not a loop.
      :ecto_libsql_encode ->
        {:error, {:ecto_libsql_error, @sqlite_misuse, :misuse, :misuse, @unencodable, nil, nil}}

      result ->
        result
    end
  end

  def open(_options), do: nif_not_loaded()
  def close(_conn), do: nif_not_loaded()
  def ping(_conn), do: nif_not_loaded()
  def set_busy_timeout(_conn, _ms), do: nif_not_loaded()
  def interrupt(_conn), do: nif_not_loaded()
  def reset(_conn), do: nif_not_loaded()
  def enable_load_extension(_conn, _enabled), do: nif_not_loaded()
  def set_foreign_keys_enforced(_conn, _enforced), do: nif_not_loaded()
  def load_extension(_conn, _path, _entry), do: nif_not_loaded()
  def info(_conn, _what), do: nif_not_loaded()
  def mode(_conn), do: nif_not_loaded()

  def query(conn, trx, sql, args) do
    case query(conn, trx, sql, args, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &query(conn, trx, sql, args, &1))

      :ecto_libsql_encode ->
        call_encoded(EctoLibSql.Params.encode(args), &query(conn, trx, sql, &1, &2))

      result ->
        result
    end
  end

  def query(_conn, _trx, _sql, _args, _waiting_since), do: nif_not_loaded()

  def batch(conn, trx, steps, transactional) do
    case batch(conn, trx, steps, transactional, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &batch(conn, trx, steps, transactional, &1))

      :ecto_libsql_encode ->
        call_encoded(
          EctoLibSql.Params.encode_steps(steps),
          &batch(conn, trx, &1, transactional, &2)
        )

      result ->
        result
    end
  end

  def batch(_conn, _trx, _steps, _transactional, _waiting_since), do: nif_not_loaded()

  def execute_script(conn, trx, sql, transactional) do
    case execute_script(conn, trx, sql, transactional, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &execute_script(conn, trx, sql, transactional, &1))

      result ->
        result
    end
  end

  def execute_script(_conn, _trx, _sql, _transactional, _waiting_since), do: nif_not_loaded()

  def classify(_sql), do: nif_not_loaded()

  # The map's values in the order of the statement's parameters: {:ok, values},
  # {:argument_error, message} or {:error, ...}.
  def named_arguments(conn, sql, map) do
    case named_arguments(conn, sql, map, nil) do
      {:ecto_libsql_busy, _} = busy -> wait_for_lock(busy, &named_arguments(conn, sql, map, &1))
      result -> result
    end
  end

  def named_arguments(_conn, _sql, _map, _waiting_since), do: nif_not_loaded()

  def prepare(conn, sql) do
    case prepare(conn, sql, nil) do
      {:ecto_libsql_busy, _} = busy -> wait_for_lock(busy, &prepare(conn, sql, &1))
      result -> result
    end
  end

  def prepare(_conn, _sql, _waiting_since), do: nif_not_loaded()

  def stmt_query(conn, stmt, args) do
    case stmt_query(conn, stmt, args, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &stmt_query(conn, stmt, args, &1))

      :ecto_libsql_encode ->
        call_encoded(EctoLibSql.Params.encode(args), &stmt_query(conn, stmt, &1, &2))

      result ->
        result
    end
  end

  def stmt_query(_conn, _stmt, _args, _waiting_since), do: nif_not_loaded()

  def stmt_reset(_conn, _stmt), do: nif_not_loaded()
  def stmt_close(_stmt), do: nif_not_loaded()
  def stmt_info(_conn, _stmt, _what, _index), do: nif_not_loaded()

  def cursor_open(conn, trx, sql, args) do
    case cursor_open(conn, trx, sql, args, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &cursor_open(conn, trx, sql, args, &1))

      :ecto_libsql_encode ->
        call_encoded(EctoLibSql.Params.encode(args), &cursor_open(conn, trx, sql, &1, &2))

      result ->
        result
    end
  end

  def cursor_open(_conn, _trx, _sql, _args, _waiting_since), do: nif_not_loaded()

  def cursor_fetch(conn, cursor, max_rows) do
    case cursor_fetch(conn, cursor, max_rows, nil) do
      {:ecto_libsql_busy, _} = busy ->
        wait_for_lock(busy, &cursor_fetch(conn, cursor, max_rows, &1))

      result ->
        result
    end
  end

  def cursor_fetch(_conn, _cursor, _max_rows, _waiting_since), do: nif_not_loaded()

  def cursor_close(_cursor), do: nif_not_loaded()

  def begin(conn, behaviour) do
    case begin(conn, behaviour, nil) do
      {:ecto_libsql_busy, _} = busy -> wait_for_lock(busy, &begin(conn, behaviour, &1))
      result -> result
    end
  end

  def begin(_conn, _behaviour, _waiting_since), do: nif_not_loaded()

  def commit(conn, trx) do
    case commit(conn, trx, nil) do
      {:ecto_libsql_busy, _} = busy -> wait_for_lock(busy, &commit(conn, trx, &1))
      result -> result
    end
  end

  def commit(_conn, _trx, _waiting_since), do: nif_not_loaded()

  def rollback(_conn, _trx), do: nif_not_loaded()
  def transaction_status(_trx), do: nif_not_loaded()

  def set_update_hook(_conn, _pid), do: nif_not_loaded()
  def set_authorizer(_conn, _pid, _timeout), do: nif_not_loaded()
  def authorizer_reply(_request, _decision), do: nif_not_loaded()

  def sync(_conn), do: nif_not_loaded()
  def replication(_conn, _what, _arg), do: nif_not_loaded()

  # Handles alive per kind and SQLite's memory in use: %{connections:, statements:, cursors:,
  # transactions:, sqlite_memory_used:}. For tests and leak hunting.
  def resource_counts, do: nif_not_loaded()
  def encrypt_database(_source, _destination, _key), do: nif_not_loaded()
  def decrypt_database(_source, _destination, _key), do: nif_not_loaded()
  def rekey(_database, _old_key, _new_key), do: nif_not_loaded()
end
