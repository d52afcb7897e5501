defmodule EctoLibSql.NamedParams do
  @moduledoc false
  # Named parameters (`:name`, `@name`, `$name`): arguments given as a map are ordered into the
  # positional list of a statement by the engine's resolver (NIF.named_arguments/3), the one
  # every statement binds with, so the list and the map bind alike. EctoLibSql.Native delegates
  # here; its documentation of these functions is the public one.

  alias EctoLibSql.{Error, NIF, State}

  # A list as it is; a map ordered by the statement's parameter names. Raises ArgumentError
  # when a parameter has no value or the SQL has positional parameters.
  @spec normalise_arguments(State.t() | reference(), String.t(), list() | map()) ::
          list() | {:error, term()}
  def normalise_arguments(%State{conn_id: conn}, sql, args),
    do: normalise_arguments(conn, sql, args)

  def normalise_arguments(_conn, _sql, args) when is_list(args), do: args

  def normalise_arguments(conn, sql, args) when is_map(args) and is_binary(sql) do
    case NIF.named_arguments(conn, sql, args) do
      {:ok, values} -> values
      {:argument_error, message} -> raise ArgumentError, message
      {:error, native} -> {:error, Error.from_native(native).message}
    end
  end

  def normalise_arguments(_conn, _sql, _args), do: {:error, "arguments must be a list or map"}

  # The same for a prepared statement: resolved against its SQL.
  @spec normalise_arguments_for_stmt(reference(), reference(), list() | map()) ::
          list() | {:error, term()}
  def normalise_arguments_for_stmt(_conn, _stmt, args) when is_list(args), do: args

  def normalise_arguments_for_stmt(conn, stmt, args) when is_map(args) do
    case NIF.stmt_info(conn, stmt, :sql, 0) do
      {:ok, sql} -> normalise_arguments(conn, sql, args)
      {:error, native} -> {:error, Error.from_native(native).message}
    end
  end

  def normalise_arguments_for_stmt(_conn, _stmt, _args),
    do: {:error, "arguments must be a list or map"}

  # 0.9 cached parameter names per SQL text in ETS; the engine's statement cache does that work
  # now, so there is nothing to clear or count.
  @spec clear_param_cache() :: :ok
  def clear_param_cache, do: :ok

  @spec param_cache_size() :: non_neg_integer()
  def param_cache_size, do: 0
end
