defmodule EctoLibSql.Params do
  @moduledoc false
  # Converts Elixir values the engine does not take directly into values it does: dates and
  # times to ISO 8601 text, decimals to text, `:null` to nil, booleans to 1 / 0 and plain maps
  # to JSON text.
  # Everything else passes through; the NIF rejects what it cannot store with a clear error.

  @spec encode(list() | map() | term()) :: list() | map() | term()
  def encode(params) when is_list(params), do: encode_list(params)

  def encode(params) when is_map(params) and not is_struct(params) do
    Map.new(params, fn {key, value} -> {key, encode_value(value)} end)
  end

  def encode(params), do: params

  @doc false
  # Batch steps: the arguments of each `{sql, args}` are encoded; anything else is left for
  # the NIF to reject with a clear message.
  @spec encode_steps(term()) :: term()
  def encode_steps(steps) when is_list(steps) do
    Enum.map(steps, fn
      {sql, args} -> {sql, encode(args)}
      other -> other
    end)
  end

  def encode_steps(steps), do: steps

  # An improper tail is kept as it is: the NIF answers a clear error for it.
  defp encode_list([value | rest]), do: [encode_value(value) | encode_list(rest)]
  defp encode_list(tail), do: tail

  @spec encode_value(term()) :: term()
  def encode_value(%DateTime{} = value), do: DateTime.to_iso8601(value)
  def encode_value(%NaiveDateTime{} = value), do: NaiveDateTime.to_iso8601(value)
  def encode_value(%Date{} = value), do: Date.to_iso8601(value)
  def encode_value(%Time{} = value), do: Time.to_iso8601(value)

  def encode_value(%{__struct__: Decimal} = value),
    do: apply(Decimal, :to_string, [value, :normal])

  def encode_value(:null), do: nil
  # As earlier releases encoded them (SQLite stores booleans as integers anyway).
  def encode_value(true), do: 1
  def encode_value(false), do: 0

  def encode_value(value) when is_map(value) and not is_struct(value) do
    case EctoLibSql.JSONText.encode(value) do
      {:ok, json} -> json
      {:error, reason} -> raise ArgumentError, "Cannot encode map parameter to JSON: #{reason}"
    end
  end

  def encode_value(value), do: value
end
