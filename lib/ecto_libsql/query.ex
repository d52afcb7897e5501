defmodule EctoLibSql.Query do
  @moduledoc """
  A query for `DBConnection`: the SQL `statement` and, once prepared, its `name`.
  """

  defstruct [:statement, :name, :prepared, :param_types, type: :binary]

  @type t :: %__MODULE__{
          statement: iodata(),
          name: String.t() | nil,
          prepared: term(),
          param_types: list() | nil,
          type: :binary
        }

  defimpl String.Chars do
    def to_string(%{statement: statement}), do: IO.iodata_to_binary(statement)
  end
end

if Code.ensure_loaded?(DBConnection.Query) do
  defimpl DBConnection.Query, for: EctoLibSql.Query do
    def parse(query, _opts), do: query
    def describe(query, _opts), do: query

    # Dates and times become ISO 8601 text, decimals text, maps JSON. A map of named
    # parameters has its values encoded the same way.
    def encode(_query, params, _opts), do: EctoLibSql.Params.encode(params)

    def decode(_query, result, _opts), do: result
  end
end
