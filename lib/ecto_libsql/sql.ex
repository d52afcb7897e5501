defmodule EctoLibSql.SQL do
  @moduledoc false
  # SQL text written by the driver and the adapter: names and literals quoted as SQLite reads
  # them. One place for each, so that every statement quotes alike. No Hex package is needed.

  @doc ~S|A name (table, column, index, attached database) in double quotes: `users` is `"users"`.|
  @spec quote_name(String.t() | atom()) :: String.t()
  def quote_name(name) when is_atom(name), do: quote_name(Atom.to_string(name))

  def quote_name(name) when is_binary(name),
    do: ~s(") <> String.replace(name, ~s("), ~s("")) <> ~s(")

  @doc "Names separated by `, `, each quoted (iodata)."
  @spec quote_names([String.t() | atom()]) :: iodata()
  def quote_names(names), do: Enum.map_intersperse(names, ", ", &quote_name/1)

  @doc ~S|A table in a prefix (an attached database: `"main"`, `"temp"` or its ATTACH name), or none (iodata).|
  @spec quote_table(String.t() | atom() | nil, String.t() | atom()) :: iodata()
  def quote_table(nil, name), do: quote_name(name)
  def quote_table(prefix, name), do: [quote_name(prefix), ?., quote_name(name)]

  @doc "A string literal in single quotes: `it's` is `'it''s'`."
  @spec quote_string(String.t()) :: String.t()
  def quote_string(value) when is_binary(value),
    do: "'" <> :binary.replace(value, "'", "''", [:global]) <> "'"

  @doc """
  A binary as the driver binds it (iodata): UTF-8 text as a string literal (a cast BLOB literal
  when it holds NUL, which a string literal cannot), anything else as a BLOB literal.
  """
  @spec binary_literal(binary()) :: iodata()
  def binary_literal(literal) when is_binary(literal) do
    cond do
      not String.valid?(literal) -> ["x'", Base.encode16(literal, case: :lower), ?']
      String.contains?(literal, <<0>>) -> ["CAST(x'", Base.encode16(literal), "' AS TEXT)"]
      true -> quote_string(literal)
    end
  end
end
