if Code.ensure_loaded?(Ecto.ParameterizedType) do
  defmodule Ecto.Adapters.LibSql.Vector do
    @moduledoc """
    An Ecto type for libSQL vector columns: lists of floats in schemas, vector blobs in the
    database.

        schema "items" do
          field :embedding, Ecto.Adapters.LibSql.Vector, dimensions: 3
        end

        # migration: add :embedding, :"F32_BLOB(3)"

    Options:

      * `:dimensions` - when given, casting and dumping refuse lists of another length
      * `:type` - `:f32` (default, a `F32_BLOB` column, as `vector32()` stores) or `:f64`
        (`F64_BLOB`, as `vector64()` stores)

    Casting takes lists of numbers (integers become floats) and libSQL's text form
    (`"[1,2,3]"`). Loading takes a vector blob of any libSQL type, or the text form. Dumping
    answers `{:blob, bytes}`, so the bytes are bound as a BLOB whatever they contain.
    """
    use Ecto.ParameterizedType

    alias EctoLibSql.Vector

    @impl true
    def type(_params), do: :binary

    @impl true
    def init(opts) do
      dims = Keyword.get(opts, :dimensions)
      type = Keyword.get(opts, :type, :f32)

      unless is_nil(dims) or (is_integer(dims) and dims > 0 and dims <= 65_536) do
        raise ArgumentError,
              ":dimensions must be an integer from 1 to 65536, got: #{inspect(dims)}"
      end

      unless type in [:f32, :f64] do
        raise ArgumentError, ":type must be :f32 or :f64, got: #{inspect(type)}"
      end

      %{dimensions: dims, type: type}
    end

    @impl true
    def cast(nil, _params), do: {:ok, nil}

    def cast(values, params) when is_list(values) do
      if Enum.all?(values, &is_number/1) do
        check_dimensions(Enum.map(values, &(&1 * 1.0)), params)
      else
        {:error, message: "must be a list of numbers"}
      end
    end

    def cast(text, params) when is_binary(text) do
      case Vector.from_text(text) do
        {:ok, values} -> check_dimensions(values, params)
        {:error, message} -> {:error, message: message}
      end
    end

    def cast(_value, _params), do: :error

    @impl true
    def load(nil, _loader, _params), do: {:ok, nil}

    def load({:blob, bytes}, loader, params) when is_binary(bytes),
      do: load(bytes, loader, params)

    def load(bytes, _loader, _params) when is_binary(bytes) do
      # libSQL accepts text vectors in vector columns and keeps them as text.
      result =
        if String.starts_with?(bytes, "[") and String.valid?(bytes),
          do: Vector.from_text(bytes),
          else: Vector.from_blob(bytes)

      case result do
        {:ok, values} -> {:ok, values}
        {:error, _} -> :error
      end
    end

    def load(_value, _loader, _params), do: :error

    @impl true
    def dump(nil, _dumper, _params), do: {:ok, nil}

    def dump(values, _dumper, %{type: type} = params) when is_list(values) do
      with {:ok, values} <- check_dimensions(values, params),
           true <- Enum.all?(values, &is_number/1) do
        {:ok, Vector.to_blob(values, type)}
      else
        _ -> :error
      end
    rescue
      ArgumentError -> :error
    end

    def dump(_value, _dumper, _params), do: :error

    @impl true
    def equal?(a, b, _params), do: a == b

    @impl true
    def embed_as(_format, _params), do: :self

    defp check_dimensions(values, %{dimensions: nil}), do: {:ok, values}

    defp check_dimensions(values, %{dimensions: dims}) do
      case length(values) do
        ^dims -> {:ok, values}
        n -> {:error, message: "must have #{dims} dimensions, got #{n}", dimensions: dims}
      end
    end
  end
end
