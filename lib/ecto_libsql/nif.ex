defmodule EctoLibSql.NIF do
  @moduledoc false
  # The native functions. Internal: use EctoLibSql.Native, whose API is stable.
  #
  # Errors come back as {:error, {:ecto_libsql_error, code, primary, extended, message,
  # remote_code}}; EctoLibSql.Error.from_native/1 turns them into exceptions.

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

  def open(_options), do: nif_not_loaded()
  def close(_conn), do: nif_not_loaded()
  def ping(_conn), do: nif_not_loaded()
  def set_busy_timeout(_conn, _ms), do: nif_not_loaded()
  def interrupt(_conn), do: nif_not_loaded()
  def reset(_conn), do: nif_not_loaded()
  def enable_load_extension(_conn, _enabled), do: nif_not_loaded()
  def load_extension(_conn, _path, _entry), do: nif_not_loaded()
  def info(_conn, _what), do: nif_not_loaded()
  def mode(_conn), do: nif_not_loaded()

  def query(_conn, _trx, _sql, _args), do: nif_not_loaded()
  def batch(_conn, _trx, _steps, _transactional), do: nif_not_loaded()
  def execute_script(_conn, _trx, _sql, _transactional), do: nif_not_loaded()
  def classify(_sql), do: nif_not_loaded()

  def prepare(_conn, _sql), do: nif_not_loaded()
  def stmt_query(_conn, _stmt, _args), do: nif_not_loaded()
  def stmt_reset(_conn, _stmt), do: nif_not_loaded()
  def stmt_close(_stmt), do: nif_not_loaded()
  def stmt_info(_conn, _stmt, _what, _index), do: nif_not_loaded()

  def cursor_open(_conn, _trx, _sql, _args), do: nif_not_loaded()
  def cursor_fetch(_conn, _cursor, _max_rows), do: nif_not_loaded()
  def cursor_close(_cursor), do: nif_not_loaded()

  def begin(_conn, _behaviour), do: nif_not_loaded()
  def commit(_conn, _trx), do: nif_not_loaded()
  def rollback(_conn, _trx), do: nif_not_loaded()
  def transaction_status(_trx), do: nif_not_loaded()

  def set_update_hook(_conn, _pid), do: nif_not_loaded()
  def set_authorizer(_conn, _pid, _timeout), do: nif_not_loaded()
  def authorizer_reply(_request, _decision), do: nif_not_loaded()

  def sync(_conn), do: nif_not_loaded()
  def replication(_conn, _what, _arg), do: nif_not_loaded()

  def encrypt_database(_source, _destination, _key), do: nif_not_loaded()
  def decrypt_database(_source, _destination, _key), do: nif_not_loaded()
  def rekey(_database, _old_key, _new_key), do: nif_not_loaded()
end
