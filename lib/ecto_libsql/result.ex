defmodule EctoLibSql.Result do
  @moduledoc """
  The result of a query.

    * `:command` - what the statement was (`:select`, `:insert`, `:update`, `:delete`,
      `:create`, `:begin`, `:commit`, `:rollback`, `:pragma`, `:batch`, ... or `:unknown`)
    * `:columns` - column names, or `nil` for statements that return no columns
    * `:rows` - rows as lists of values, or `nil` for statements that return no columns
    * `:num_rows` - rows returned, or rows changed by an INSERT, UPDATE or DELETE without
      RETURNING
  """

  # The NIF builds this struct directly: keep the field list in step with native/nif/terms.cpp.
  defstruct command: nil, columns: nil, rows: nil, num_rows: 0

  @type t :: %__MODULE__{
          command: atom() | nil,
          columns: [String.t()] | nil,
          rows: [[term()]] | nil,
          num_rows: non_neg_integer()
        }

  @doc "Builds a result from keyword options; `:command` defaults to `:other`."
  @spec new(keyword()) :: t()
  def new(options \\ []) do
    %__MODULE__{
      command: Keyword.get(options, :command, :other),
      columns: Keyword.get(options, :columns),
      rows: Keyword.get(options, :rows),
      num_rows: Keyword.get(options, :num_rows, 0)
    }
  end
end
