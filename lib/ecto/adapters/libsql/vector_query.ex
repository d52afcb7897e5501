if Code.ensure_loaded?(Ecto.Query) do
  defmodule Ecto.Adapters.LibSql.VectorQuery do
    @moduledoc """
    Query macros for libSQL vector search in Ecto queries.

        import Ecto.Query
        import Ecto.Adapters.LibSql.VectorQuery

        from i in Item,
          join: t in vector_top_k("items_idx", ^embedding, 50),
          on: t.id == i.id,
          where: i.category == ^category,
          order_by: vector_distance_cos(i.embedding, ^embedding),
          limit: 10,
          select: {i, vector_distance_cos(i.embedding, ^embedding)}

    `vector_top_k/3` is a join source: the index's nearest rows, with one column, `id` (the
    table's rowid or single-column primary key). Filters apply after the index: ask it for
    more candidates than you keep. Query vectors may be lists of numbers (bound as FLOAT32
    blobs), vector blobs or libSQL's text form; a `^` on them is optional.
    """

    @doc "Join source: the `k` rows nearest to `vector` in the vector index `index`."
    defmacro vector_top_k(index, vector, k) do
      quote do
        fragment(
          "vector_top_k(?, ?, ?)",
          ^unquote(unpin(index)),
          ^EctoLibSql.VectorSearch.query_value(unquote(unpin(vector))),
          ^unquote(unpin(k))
        )
      end
    end

    @doc "Cosine distance between a vector column and a vector."
    defmacro vector_distance_cos(column, vector),
      do: distance("vector_distance_cos(?, ?)", column, vector)

    @doc "Euclidean distance between a vector column and a vector."
    defmacro vector_distance_l2(column, vector),
      do: distance("vector_distance_l2(?, ?)", column, vector)

    defp distance(sql, column, vector) do
      quote do
        fragment(
          unquote(sql),
          unquote(column),
          ^EctoLibSql.VectorSearch.query_value(unquote(unpin(vector)))
        )
      end
    end

    defp unpin({:^, _, [expr]}), do: expr
    defp unpin(expr), do: expr
  end
end
