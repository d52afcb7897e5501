defmodule EctoLibSql.NamedParams do
  @moduledoc false
  # Named parameters (`:name`, `@name`, `$name`): arguments given as a map are ordered into the
  # positional list of a statement, by the parameter names SQLite reads from it. The names
  # are cached per SQL text in EctoLibSql.ParamCache. EctoLibSql.Native delegates here; its
  # documentation of these functions is the public one.

  alias EctoLibSql.{Error, NIF, State}

  # A list as it is; a map ordered by the statement's parameter names (read from SQLite and
  # cached). Raises ArgumentError when a parameter has no value.
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

  # The same for a prepared statement, whose names are read from it (no cache).
  @spec normalise_arguments_for_stmt(reference(), reference(), list() | map()) ::
          list() | {:error, term()}
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

  @spec clear_param_cache() :: :ok
  def clear_param_cache, do: EctoLibSql.ParamCache.clear()

  @spec param_cache_size() :: non_neg_integer()
  def param_cache_size, do: EctoLibSql.ParamCache.size()
end
