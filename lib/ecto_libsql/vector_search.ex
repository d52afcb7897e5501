defmodule EctoLibSql.VectorSearch do
  @moduledoc """
  Top-k nearest-neighbour queries over a libSQL vector index, with optional filters.

      {:ok, result} =
        EctoLibSql.VectorSearch.top_k(state, [0.1, 0.2, 0.3],
          table: "items", index: "items_idx", column: "embedding", k: 5,
          where: "category = ?", where_args: ["books"], candidates: 50)

  The query asks the index (`vector_top_k`) for `:candidates` rows (default `:k`), joins them to
  the table, applies the filter, orders by the exact distance and keeps `:k` rows. The index is
  approximate and filters apply after it: with a selective filter, ask for more candidates.
  The result has the selected columns plus `distance`.
  """

  import EctoLibSql.SQL, only: [quote_name: 1]

  alias EctoLibSql.{Native, Vector}

  @type option ::
          {:table, String.t()}
          | {:index, String.t()}
          | {:column, String.t()}
          | {:k, non_neg_integer()}
          | {:metric, :cosine | :l2}
          | {:candidates, non_neg_integer()}
          | {:select, String.t()}
          | {:key, String.t()}
          | {:where, String.t()}
          | {:where_args, list()}

  @doc """
  Builds the SQL and its positional arguments. Options:

    * `:table`, `:index`, `:column` (required) - the table, the vector index on it and the
      indexed column
    * `:k` (required) - how many rows to answer
    * `:metric` - `:cosine` (default) or `:l2`, the index's metric, for the `distance` column
    * `:candidates` - how many rows to take from the index before filtering (default `:k`)
    * `:select` - the SQL of the selected columns (default every column of the table)
    * `:key` - the column `vector_top_k`'s `id` refers to: `"rowid"` (default) or the table's
      single-column primary key
    * `:where`, `:where_args` - an SQL condition with `?` placeholders and their values

  `vector` is a list of numbers (sent as a FLOAT32 blob), a vector blob or `{:blob, bytes}`, or
  libSQL's text form (`"[1,2,3]"`).
  """
  @spec top_k_query([number()] | binary() | {:blob, binary()}, [option()]) ::
          {String.t(), list()}
  def top_k_query(vector, opts) when is_list(opts) do
    table = quote_name(fetch!(opts, :table, &is_binary/1, "a table name"))
    index = fetch!(opts, :index, &is_binary/1, "an index name")
    column = quote_name(fetch!(opts, :column, &is_binary/1, "a column name"))
    k = fetch!(opts, :k, &non_neg_integer?/1, "a non-negative integer")
    candidates = Keyword.get(opts, :candidates, k)
    valid!(candidates, &non_neg_integer?/1, :candidates, "a non-negative integer")
    key = quote_name(Keyword.get(opts, :key, "rowid"))
    select = Keyword.get(opts, :select, "#{table}.*")

    distance =
      case Keyword.get(opts, :metric, :cosine) do
        :cosine -> "vector_distance_cos"
        :l2 -> "vector_distance_l2"
        other -> raise ArgumentError, ":metric must be :cosine or :l2, got: #{inspect(other)}"
      end

    {where, where_args} =
      case Keyword.get(opts, :where) do
        nil -> {"", []}
        sql when is_binary(sql) -> {" WHERE (#{sql})", Keyword.get(opts, :where_args, [])}
      end

    sql =
      "SELECT #{select}, #{distance}(#{table}.#{column}, ?2) AS distance " <>
        "FROM vector_top_k(?1, ?2, ?3) AS top_k JOIN #{table} ON #{table}.#{key} = top_k.id" <>
        where <> " ORDER BY distance LIMIT #{k}"

    {sql, [index, query_value(vector), candidates | where_args]}
  end

  @doc "Runs `top_k_query/2` on a connection: `{:ok, %EctoLibSql.Result{}}` or `{:error, %EctoLibSql.Error{}}`."
  @spec top_k(EctoLibSql.State.t(), [number()] | binary() | {:blob, binary()}, [option()]) ::
          {:ok, EctoLibSql.Result.t()} | {:error, EctoLibSql.Error.t()}
  def top_k(state, vector, opts) do
    {sql, args} = top_k_query(vector, opts)
    Native.execute(state, sql, args)
  end

  @doc """
  The value to bind for a query vector: lists become FLOAT32 blobs; blobs, `{:blob, bytes}` and
  text pass unchanged.
  """
  @spec query_value([number()] | binary() | {:blob, binary()}) :: binary() | {:blob, binary()}
  def query_value(vector) when is_list(vector), do: Vector.to_blob(vector)
  def query_value({:blob, bytes} = blob) when is_binary(bytes), do: blob
  def query_value(vector) when is_binary(vector), do: vector

  def query_value(other),
    do:
      raise(
        ArgumentError,
        "a query vector must be a list, a blob or text, got: #{inspect(other)}"
      )

  defp fetch!(opts, key, valid?, what) do
    case Keyword.fetch(opts, key) do
      {:ok, value} -> valid!(value, valid?, key, what)
      :error -> raise ArgumentError, "missing option #{inspect(key)}"
    end
  end

  defp valid!(value, valid?, key, what) do
    if valid?.(value),
      do: value,
      else: raise(ArgumentError, "option #{inspect(key)} must be #{what}, got: #{inspect(value)}")
  end

  defp non_neg_integer?(v), do: is_integer(v) and v >= 0
end
