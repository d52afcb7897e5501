defmodule EctoLibSql.Vector do
  @moduledoc """
  libSQL vector values in Elixir: lists of floats to and from the blobs that `vector32()`,
  `vector64()` and the other vector functions store.

      iex> EctoLibSql.Vector.to_blob([1, 2, 3])
      {:blob, <<0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64>>}
      iex> EctoLibSql.Vector.from_blob(<<0, 0, 128, 63, 0, 0, 0, 64>>)
      {:ok, [1.0, 2.0]}

  `to_blob/2` answers `{:blob, bytes}` so that the driver binds the value as a BLOB even when the
  bytes happen to be valid UTF-8 (a plain binary of valid UTF-8 is bound as TEXT).
  """

  @typedoc "`:f32` (FLOAT32, `F32_BLOB`) or `:f64` (FLOAT64, `F64_BLOB`)."
  @type element_type :: :f32 | :f64

  import Bitwise, only: [>>>: 2, &&&: 2]

  @max_dims 65_536

  @doc """
  Encodes a list of numbers as a libSQL vector blob (`:f32` by default, as `vector32()` does;
  `:f64` as `vector64()` does). Raises `ArgumentError` for anything else, for more than 65,536
  elements and for numbers a 32-bit float cannot hold.
  """
  @spec to_blob([number()], element_type()) :: {:blob, binary()}
  def to_blob(values, type \\ :f32)

  def to_blob(values, type) when is_list(values) and type in [:f32, :f64] do
    if length(values) > @max_dims do
      raise ArgumentError, "vector has #{length(values)} elements, at most #{@max_dims} allowed"
    end

    bytes =
      case type do
        :f32 -> for v <- values, into: <<>>, do: f32(v)
        :f64 -> for(v <- values, into: <<>>, do: f64(v)) <> <<2>>
      end

    {:blob, bytes}
  end

  def to_blob(values, type) when type in [:f32, :f64] do
    raise ArgumentError, "a vector must be a list of numbers, got: #{inspect(values)}"
  end

  def to_blob(_values, type) do
    raise ArgumentError, "vector type must be :f32 or :f64, got: #{inspect(type)}"
  end

  @f32_max 3.4028234663852886e38

  # Erlang writes a number too large for 32 bits as an infinity: refuse it instead.
  defp f32(v) when is_number(v) and v <= @f32_max and v >= -@f32_max, do: <<v::float-32-little>>

  defp f32(v) when is_number(v),
    do: raise(ArgumentError, "#{inspect(v)} does not fit in a 32-bit float vector")

  defp f32(v), do: raise(ArgumentError, "vector values must be numbers, got: #{inspect(v)}")

  defp f64(v) when is_number(v), do: <<v::float-64-little>>
  defp f64(v), do: raise(ArgumentError, "vector values must be numbers, got: #{inspect(v)}")

  @doc """
  Decodes a libSQL vector blob of any type (FLOAT32, FLOAT64, FLOAT16, FLOATB16, FLOAT8,
  FLOAT1BIT) into a list of floats, with libSQL's rules for telling the type from the length and
  trailing byte. FLOAT8 values are dequantised; FLOAT1BIT bits are `1.0` or `-1.0`. Answers
  `{:error, message}` for a malformed blob and for elements Elixir has no float for (infinities,
  NaN).
  """
  @spec from_blob(binary()) :: {:ok, [float()]} | {:error, String.t()}
  def from_blob(blob) when is_binary(blob) do
    size = byte_size(blob)

    if rem(size, 2) == 0 do
      floats(blob, 32)
    else
      data = binary_part(blob, 0, size - 1)
      decode(:binary.last(blob), data, size)
    end
  end

  defp decode(1, data, size) when rem(size - 1, 4) == 0, do: floats(data, 32)
  defp decode(2, data, size) when rem(size - 1, 8) == 0, do: floats(data, 64)
  defp decode(5, data, size) when rem(size - 1, 2) == 0, do: floats(data, 16)

  defp decode(6, data, size) when rem(size - 1, 2) == 0 do
    expanded = for <<b::16-little <- data>>, into: <<>>, do: <<b::16, 0::16>>
    floats_big(expanded)
  end

  defp decode(3, data, size) when size > 1 and rem(size - 1, 2) == 0 do
    trailing = :binary.last(data)
    dims = 8 * byte_size(data) - trailing

    if dims < 0 do
      {:error, "vector: malformed float1bit vector blob"}
    else
      bits = for <<byte <- data>>, i <- 0..7, do: if((byte >>> i &&& 1) == 1, do: 1.0, else: -1.0)
      {:ok, Enum.take(bits, dims)}
    end
  end

  defp decode(4, data, size) when size >= 3 and rem(size - 1, 2) == 0 do
    trailing = :binary.last(data)
    dims = byte_size(data) - 2 - 8 - trailing
    codes_size = byte_size(data) - 2 - 8

    with true <- dims >= 0,
         <<codes::binary-size(codes_size), alpha::float-32-little, shift::float-32-little,
           _::binary>> <- data do
      {:ok, for(<<q <- binary_part(codes, 0, dims)>>, do: alpha * q + shift)}
    else
      _ -> {:error, "vector: malformed float8 vector blob"}
    end
  end

  defp decode(type, _data, size) when type in 1..6,
    do: {:error, "vector: malformed vector blob of type #{type} and length #{size}"}

  defp decode(type, _data, _size), do: {:error, "vector: unexpected binary type: #{type}"}

  defp floats(data, bits) do
    if rem(byte_size(data), div(bits, 8)) != 0 do
      {:error, "vector: malformed vector blob of length #{byte_size(data)}"}
    else
      decode_floats(data, bits, [])
    end
  end

  defp decode_floats(<<>>, _bits, acc), do: {:ok, Enum.reverse(acc)}

  defp decode_floats(data, bits, acc) do
    case data do
      <<v::float-size(bits)-little, rest::binary>> -> decode_floats(rest, bits, [v | acc])
      _ -> {:error, "vector: element #{length(acc)} is not a finite number"}
    end
  end

  defp floats_big(data), do: decode_big(data, [])
  defp decode_big(<<>>, acc), do: {:ok, Enum.reverse(acc)}

  defp decode_big(<<v::float-32, rest::binary>>, acc), do: decode_big(rest, [v | acc])

  defp decode_big(_data, acc),
    do: {:error, "vector: element #{length(acc)} is not a finite number"}

  @doc ~S"""
  libSQL's text form of a vector, which its vector functions take: `to_text([1, 2.5])` is
  `"[1,2.5]"`. Elements are joined with `Enum.join/2`, as `EctoLibSql.Native.vector/1` of
  earlier releases joined them; `from_text/1` reads the form back.
  """
  @spec to_text([number()]) :: String.t()
  def to_text(values) when is_list(values) do
    "[" <> Enum.join(values, ",") <> "]"
  end

  @doc ~S"""
  The column type of a vector: `column_type(3)` is `"F32_BLOB(3)"`; `:f64` gives
  `"F64_BLOB(n)"`.
  """
  @spec column_type(pos_integer(), element_type()) :: String.t()
  def column_type(dimensions, type \\ :f32) when is_integer(dimensions) and dimensions > 0 do
    case type do
      :f32 -> "F32_BLOB(#{dimensions})"
      :f64 -> "F64_BLOB(#{dimensions})"
      other -> raise ArgumentError, "vector type must be :f32 or :f64, got: #{inspect(other)}"
    end
  end

  @doc ~S"""
  SQL for the cosine distance between a column and a vector (a list, or its text form):
  `distance_cos_sql("col", [1, 2])` is `"vector_distance_cos(col, '[1,2]')"`. The column is
  written as given: it must be trusted SQL. Queries with parameters use
  `EctoLibSql.VectorSearch` or `Ecto.Adapters.LibSql.VectorQuery` instead.
  """
  @spec distance_cos_sql(String.t(), [number()] | String.t()) :: String.t()
  def distance_cos_sql(column, vector) when is_binary(column) do
    literal = if is_list(vector), do: to_text(vector), else: vector
    "vector_distance_cos(#{column}, #{EctoLibSql.SQL.quote_string(literal)})"
  end

  @doc """
  Parses libSQL's text form of a vector (`"[1,2.5,-3]"`, as `vector_extract()` prints it) into
  a list of floats. Answers `{:error, message}` for anything else.
  """
  @spec from_text(String.t()) :: {:ok, [float()]} | {:error, String.t()}
  def from_text(text) when is_binary(text) do
    case String.trim(text) do
      "[" <> rest ->
        if String.ends_with?(rest, "]") do
          rest |> String.trim_trailing("]") |> String.replace(~r/\s/u, "") |> parse_elements()
        else
          {:error, "vector: must end with ']'"}
        end

      _ ->
        {:error, "vector: must start with '['"}
    end
  end

  defp parse_elements(""), do: {:ok, []}

  defp parse_elements(body) do
    body
    |> String.split(",")
    |> Enum.with_index()
    |> Enum.reduce_while({:ok, []}, fn {token, i}, {:ok, acc} ->
      case Float.parse(normalise_number(token)) do
        {f, ""} -> {:cont, {:ok, [f | acc]}}
        _ -> {:halt, {:error, "vector: invalid float at position #{i}: '#{token}'"}}
      end
    end)
    |> case do
      {:ok, acc} -> {:ok, Enum.reverse(acc)}
      error -> error
    end
  end

  # Float.parse/1 wants a digit before the point; SQLite takes ".5" and "-.5".
  defp normalise_number("." <> _ = t), do: "0" <> t
  defp normalise_number("-." <> rest), do: "-0." <> rest
  defp normalise_number("+" <> rest), do: normalise_number(rest)
  defp normalise_number(t), do: t
end
