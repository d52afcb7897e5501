defmodule EctoLibSql.Native.Calls do
  @moduledoc false
  # The NIF calls and answer shapes that EctoLibSql.Native and its compatibility layer
  # (EctoLibSql.Native.Compat) share: one place for each, so that both answer alike.

  alias EctoLibSql.{Error, NIF, Result, State}

  @doc "The message of a NIF error term."
  @spec message(term()) :: String.t()
  def message(native), do: Error.from_native(native).message

  @doc "`:ok` and `{:ok, value}` as they are, `{:error, message}` for a NIF error."
  @spec ok_or_message(:ok | {:ok, term()} | {:error, term()}) ::
          :ok | {:ok, term()} | {:error, String.t()}
  def ok_or_message(:ok), do: :ok
  def ok_or_message({:ok, _} = ok), do: ok
  def ok_or_message({:error, native}), do: {:error, message(native)}

  @doc "A value of `NIF.info/2` as it is, or `{:error, message}`."
  @spec info_value(term()) :: term()
  def info_value({:error, native}), do: {:error, message(native)}
  def info_value(value), do: value

  @doc "A result as the string-keyed map of earlier releases."
  @spec result_map(Result.t()) :: %{String.t() => term()}
  def result_map(%Result{columns: columns, rows: rows, num_rows: n}) do
    %{"columns" => columns || [], "rows" => rows || [], "num_rows" => n}
  end

  @doc """
  Runs a script of statements (`NIF.execute_script/4`): `{:ok, [result map | nil]}`, a map for
  each statement that returns columns, or `{:error, prefix <> message}`.
  """
  @spec script(term(), term(), term(), boolean(), String.t()) ::
          {:ok, [map() | nil]} | {:error, String.t()}
  def script(conn, trx, sql, transactional, prefix) do
    case NIF.execute_script(conn, trx, sql, transactional) do
      {:ok, results} -> {:ok, Enum.map(results, &result_map_or_nil/1)}
      {:error, native} -> {:error, prefix <> message(native)}
    end
  end

  defp result_map_or_nil(nil), do: nil
  defp result_map_or_nil(%Result{} = r), do: result_map(r)

  @doc "A replication call (`NIF.replication/3`): `{:ok, value}` or `{:error, message}`."
  @spec replication(term(), atom(), term()) :: {:ok, term()} | {:error, String.t()}
  def replication(conn, what, arg) do
    case NIF.replication(conn, what, arg) do
      {:ok, value} -> {:ok, value}
      :ok -> {:ok, :ok}
      {:error, native} -> {:error, message(native)}
    end
  end

  @doc """
  Runs `verb` (`"SAVEPOINT "`, `"RELEASE SAVEPOINT "`, `"ROLLBACK TO SAVEPOINT "`) on the
  savepoint `name` in the transaction of `state`; failures are prefixed with `prefix`.
  """
  @spec savepoint_sql(State.t(), term(), String.t(), String.t()) :: :ok | {:error, String.t()}
  # Without a transaction SAVEPOINT would silently start one outside the caller's control.
  def savepoint_sql(%State{trx_id: nil}, _name, _verb, _prefix),
    do: {:error, "Transaction not found"}

  def savepoint_sql(%State{conn_id: conn, trx_id: trx}, name, verb, prefix) do
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

  @doc "The message of a failed prepare, which always starts \"Prepare failed: \"."
  @spec prepare_failed(term()) :: String.t()
  # The engine's own prepare errors already say "Prepare failed: ...".
  def prepare_failed(native) do
    case message(native) do
      "Prepare failed: " <> _ = message -> message
      message -> "Prepare failed: " <> message
    end
  end
end
