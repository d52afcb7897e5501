if Code.ensure_loaded?(Ecto.Adapters.SQL.Connection) do
  defmodule Ecto.Adapters.LibSql.DataType do
    @moduledoc false
    # The column types migrations declare: the declared types the original adapter wrote.
    # DATE, TIME, DATETIME and DECIMAL have SQLite's NUMERIC affinity, which keeps ISO 8601
    # text as text; decimals are written as numbers SQLite holds exactly (see
    # Ecto.Adapters.LibSql.Codec.dump_decimal/1). Maps, arrays and UUIDs are TEXT (JSON and
    # the text form), booleans INTEGER (0 / 1).

    @doc """
    The declared type of a column of Ecto type `type` (iodata): `:string` is `TEXT`, `:decimal`
    with `precision:` and `scale:` is `DECIMAL(p,s)`. A string is the SQL type as it is; an
    other atom its name in capitals.
    """
    @spec column_type(atom() | String.t() | tuple(), keyword()) :: iodata()
    def column_type(type, _opts)
        when type in [:id, :serial, :bigserial, :integer, :bigint, :smallint],
        do: "INTEGER"

    def column_type(type, _opts) when type in [:binary_id, :uuid, :text], do: "TEXT"
    def column_type(:string, opts), do: ["TEXT" | size(opts)]
    def column_type(:boolean, _opts), do: "INTEGER"
    def column_type(type, _opts) when type in [:float, :real, :double], do: "REAL"
    def column_type(:decimal, opts), do: ["DECIMAL" | precision(opts)]
    def column_type(:binary, opts), do: ["BLOB" | size(opts)]
    def column_type(type, _opts) when type in [:blob, :bitstring], do: "BLOB"
    def column_type(:date, _opts), do: "DATE"
    def column_type(type, _opts) when type in [:time, :time_usec], do: "TIME"

    def column_type(type, _opts)
        when type in [:naive_datetime, :naive_datetime_usec, :utc_datetime, :utc_datetime_usec],
        do: "DATETIME"

    def column_type(type, _opts) when type in [:map, :json, :jsonb, :timestamp, :duration],
      do: "TEXT"

    def column_type({:map, _}, _opts), do: "TEXT"
    # Arrays are JSON text (the original adapter raised for them).
    def column_type({:array, _}, _opts), do: "TEXT"

    def column_type(type, _opts) when is_atom(type),
      do: type |> Atom.to_string() |> String.upcase()

    def column_type(type, _opts) when is_binary(type), do: type

    def column_type(type, _opts) do
      raise ArgumentError,
            "unsupported column type #{inspect(type)}: a type is an atom, a string (the SQL " <>
              "type), {:array, type} or {:map, type}"
    end

    defp size(opts) do
      case Keyword.get(opts, :size) do
        nil -> []
        size -> [?(, to_string(size), ?)]
      end
    end

    defp precision(opts) do
      case {Keyword.get(opts, :precision), Keyword.get(opts, :scale)} do
        {nil, _} -> []
        {precision, nil} -> [?(, to_string(precision), ?)]
        {precision, scale} -> [?(, to_string(precision), ?,, to_string(scale), ?)]
      end
    end
  end
end
