defmodule EctoLibSql.ParamCache do
  @moduledoc false
  # Parameter names per SQL text, for EctoLibSql.NamedParams.normalise_arguments/3. An ETS table
  # owned by a process of the application; at most @max entries, the oldest half evicted when
  # full.
  use GenServer

  @table :ecto_libsql_param_cache
  @max 1000

  @spec start_link(term()) :: GenServer.on_start()
  def start_link(_opts), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil) do
    :ets.new(@table, [:named_table, :public, :set, read_concurrency: true])
    {:ok, nil}
  end

  @spec get(String.t()) :: {:ok, [String.t() | nil]} | :miss
  def get(sql) do
    case :ets.lookup(table(), sql) do
      [{^sql, names, _at}] -> {:ok, names}
      [] -> :miss
    end
  end

  @spec put(String.t(), [String.t() | nil]) :: :ok
  def put(sql, names) do
    table = table()
    if :ets.info(table, :size) >= @max, do: evict(table)
    :ets.insert(table, {sql, names, System.monotonic_time()})
    :ok
  end

  @spec clear() :: :ok
  def clear do
    if :ets.whereis(@table) != :undefined, do: :ets.delete_all_objects(@table)
    :ok
  end

  @spec size() :: non_neg_integer()
  def size do
    case :ets.whereis(@table) do
      :undefined -> 0
      _ -> :ets.info(@table, :size)
    end
  end

  defp evict(table) do
    table
    |> :ets.tab2list()
    |> Enum.sort_by(fn {_sql, _names, at} -> at end)
    |> Enum.take(div(@max, 2))
    |> Enum.each(fn {sql, _, _} -> :ets.delete(table, sql) end)
  end

  # The table exists once the application runs; without it (a script that did not start
  # :ecto_libsql) start the owner on demand.
  defp table do
    if :ets.whereis(@table) == :undefined do
      case GenServer.start(__MODULE__, nil, name: __MODULE__) do
        {:ok, _} -> :ok
        {:error, {:already_started, _}} -> :ok
      end
    end

    @table
  end
end
