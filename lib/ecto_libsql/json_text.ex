defmodule EctoLibSql.JSONText do
  @moduledoc false
  # JSON encoding and decoding for map parameters and JSON columns: Jason when it is available,
  # otherwise a small built-in encoder (the native-driver layer needs no Hex package).

  @spec encode(term()) :: {:ok, String.t()} | {:error, String.t()}
  def encode(value) do
    if Code.ensure_loaded?(Jason) do
      try do
        case apply(Jason, :encode, [value]) do
          {:ok, json} -> {:ok, json}
          {:error, error} -> {:error, Exception.message(error)}
        end
      rescue
        # Jason raises for keys it cannot turn into strings (a tuple, a pid, a bad charlist)
        e in Protocol.UndefinedError -> {:error, "cannot encode #{inspect(e.value)}"}
        e -> {:error, Exception.message(e)}
      end
    else
      try do
        {:ok, IO.iodata_to_binary(do_encode(value))}
      catch
        {:unencodable, term} -> {:error, "cannot encode #{inspect(term)}"}
      end
    end
  end

  defp do_encode(nil), do: "null"
  defp do_encode(true), do: "true"
  defp do_encode(false), do: "false"
  defp do_encode(value) when is_integer(value), do: Integer.to_string(value)
  defp do_encode(value) when is_float(value), do: :erlang.float_to_binary(value, [:short])
  defp do_encode(value) when is_atom(value), do: string(Atom.to_string(value))
  defp do_encode(value) when is_binary(value), do: string(value)

  defp do_encode(value) when is_list(value),
    do: ["[", Enum.map_intersperse(value, ",", &do_encode/1), "]"]

  defp do_encode(value) when is_map(value) and not is_struct(value) do
    pairs =
      Enum.map_intersperse(value, ",", fn {key, val} ->
        [string(key_string(key)), ":", do_encode(val)]
      end)

    ["{", pairs, "}"]
  end

  defp do_encode(value), do: throw({:unencodable, value})

  defp key_string(key) when is_binary(key), do: key
  defp key_string(key) when is_atom(key), do: Atom.to_string(key)
  defp key_string(key) when is_integer(key), do: Integer.to_string(key)
  defp key_string(key), do: throw({:unencodable, key})

  defp string(text) do
    unless String.valid?(text), do: throw({:unencodable, text})
    [?", escape(text, ""), ?"]
  end

  defp escape(<<>>, acc), do: acc
  defp escape(<<?", rest::binary>>, acc), do: escape(rest, acc <> "\\\"")
  defp escape(<<?\\, rest::binary>>, acc), do: escape(rest, acc <> "\\\\")
  defp escape(<<?\n, rest::binary>>, acc), do: escape(rest, acc <> "\\n")
  defp escape(<<?\r, rest::binary>>, acc), do: escape(rest, acc <> "\\r")
  defp escape(<<?\t, rest::binary>>, acc), do: escape(rest, acc <> "\\t")

  defp escape(<<c, rest::binary>>, acc) when c < 0x20,
    do: escape(rest, acc <> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0"))

  defp escape(<<c::utf8, rest::binary>>, acc), do: escape(rest, acc <> <<c::utf8>>)
end
