if Code.ensure_loaded?(Ecto.Adapters.SQL.Connection) do
  defmodule Ecto.Adapters.LibSql.Constraints do
    @moduledoc false
    # The constraint a failed statement broke, as Ecto's changeset constraints name it
    # (Ecto.Adapters.LibSql.Connection.to_constraints/2). An EctoLibSql.Error whose
    # `constraint` field names it ({kind, name}) is read from that field; any other exception
    # or map with a message (as the original adapter took them) from SQLite's message, with
    # the index and foreign key names the driver adds to it.

    @kinds [:unique, :primary_key, :foreign_key, :check, :not_null]

    @doc """
    `[unique: name]`, `[foreign_key: name]` or `[check: name]` for a constraint violation, `[]`
    for anything else. NOT NULL violations are checks (as the original adapter reported them),
    named as Ecto names an index of the column (`"users_name_index"`); a broken primary key is a
    unique violation.
    """
    @spec to_constraints(Exception.t() | map(), keyword()) :: keyword()
    def to_constraints(%{constraint: {kind, name}}, _opts)
        when kind in @kinds and is_binary(name),
        do: from_field(kind, name)

    def to_constraints(%{message: message}, _opts) when is_binary(message),
      do: from_message(message)

    def to_constraints(_exception, _opts), do: []

    defp from_field(kind, name) when kind in [:unique, :primary_key], do: [unique: name]
    defp from_field(:foreign_key, name), do: [foreign_key: name]
    defp from_field(kind, name) when kind in [:check, :not_null], do: [check: name]

    @doc """
    The constraint SQLite's message names, as the original adapter mapped it, with the index and
    foreign key names the driver adds: UNIQUE -> `[unique: index]`, CHECK and NOT NULL ->
    `[check: name]`, FOREIGN KEY -> `[foreign_key: key name]`, or `:unknown` when the message
    names none (remote servers).
    """
    @spec from_message(String.t()) :: keyword()
    def from_message(message) do
      # tursodb appends the SQLite code: "UNIQUE constraint failed: t.x (19)".
      message = String.replace(message, ~r/ \(\d+\)$/, "")

      cond do
        String.contains?(message, "UNIQUE constraint failed") ->
          [unique: constraint_name(message)]

        String.contains?(message, "PRIMARY KEY constraint failed") ->
          [unique: "primary_key"]

        match = Regex.run(~r/FOREIGN KEY constraint failed.*\(foreign key: (.+)\)$/, message) ->
          [foreign_key: Enum.at(match, 1)]

        String.contains?(message, "FOREIGN KEY constraint failed") ->
          [foreign_key: :unknown]

        String.contains?(message, "CHECK constraint failed") ->
          [check: constraint_name(message)]

        String.contains?(message, "NOT NULL constraint failed") ->
          [check: constraint_name(message)]

        true ->
          []
      end
    end

    # The index the driver names ("(index: users_email_index)"), else Ecto's default index name
    # built from the columns: "t.a" -> "t_a_index", "t.a, t.b" -> "t_a_b_index"; a name without
    # a table (a named CHECK) stays as it is.
    defp constraint_name(message) do
      with nil <- Regex.run(~r/\(index: ([^)]+)\)/, message),
           [_, detail] <- Regex.run(~r/constraint failed: (.+)$/, message) do
        detail = detail |> String.trim() |> String.trim_trailing("`")

        case detail |> String.split(", ") |> Enum.map(&String.trim(&1, "`")) do
          [single] ->
            if String.contains?(single, "."),
              do: String.replace(single, ".", "_") <> "_index",
              else: single

          [first | rest] ->
            columns = Enum.map(rest, &(&1 |> String.split(".") |> List.last()))
            Enum.join([String.replace(first, ".", "_") | columns] ++ ["index"], "_")
        end
      else
        [_, index] -> index
        nil -> "unknown"
      end
    end
  end
end
