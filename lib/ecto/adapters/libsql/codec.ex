if Code.ensure_loaded?(Ecto.Type) do
  defmodule Ecto.Adapters.LibSql.Codec do
    @moduledoc false
    # Conversions between SQLite's storage classes and Ecto's types.

    @spec load_boolean(term()) :: {:ok, boolean() | nil} | :error
    def load_boolean(nil), do: {:ok, nil}
    def load_boolean(0), do: {:ok, false}
    def load_boolean(1), do: {:ok, true}
    def load_boolean(value) when is_boolean(value), do: {:ok, value}
    def load_boolean(value) when is_integer(value), do: {:ok, value != 0}
    def load_boolean("true"), do: {:ok, true}
    def load_boolean("false"), do: {:ok, false}
    def load_boolean(_), do: :error

    @spec load_float(term()) :: {:ok, float() | nil} | :error
    def load_float(nil), do: {:ok, nil}
    def load_float(value) when is_integer(value), do: {:ok, value * 1.0}
    def load_float(value) when is_float(value), do: {:ok, value}

    def load_float(value) when is_binary(value) do
      case Float.parse(value) do
        {float, ""} -> {:ok, float}
        _ -> :error
      end
    end

    def load_float(_), do: :error

    @spec load_decimal(term()) :: {:ok, Decimal.t() | nil} | :error
    def load_decimal(nil), do: {:ok, nil}
    def load_decimal(value) when is_integer(value), do: {:ok, Decimal.new(value)}
    def load_decimal(value) when is_float(value), do: {:ok, Decimal.from_float(value)}

    def load_decimal(value) when is_binary(value) do
      case Decimal.parse(value) do
        {decimal, ""} -> {:ok, decimal}
        _ -> :error
      end
    end

    def load_decimal(%Decimal{} = value), do: {:ok, value}
    def load_decimal(_), do: :error

    # Decimals are written as the numbers SQLite stores exactly: an integer when the value is a
    # whole number within 64 bits, else the double that reads back as the same decimal
    # (`Decimal.from_float/1`, which load_decimal/1 uses, gives the shortest such digits). A
    # decimal no double holds (more than 15 to 17 significant digits, out of range) is refused:
    # SQLite's DECIMAL / NUMERIC columns would round it. Comparisons and ORDER BY stay numeric.
    @max_int64 9_223_372_036_854_775_807
    @min_int64 -9_223_372_036_854_775_808

    @spec dump_decimal(Decimal.t() | nil | term()) :: {:ok, integer() | float() | nil} | :error
    def dump_decimal(nil), do: {:ok, nil}

    def dump_decimal(%Decimal{coef: coef} = decimal) when is_integer(coef) do
      integer? = Decimal.integer?(decimal)
      value = if integer?, do: Decimal.to_integer(decimal)

      if integer? and value >= @min_int64 and value <= @max_int64 do
        {:ok, value}
      else
        dump_decimal_float(decimal)
      end
    end

    def dump_decimal(%Decimal{} = decimal) do
      raise ArgumentError,
            "#{Decimal.to_string(decimal)} cannot be stored: SQLite has no infinite or NaN decimals"
    end

    def dump_decimal(_other), do: :error

    defp dump_decimal_float(decimal) do
      float =
        try do
          Decimal.to_float(decimal)
        rescue
          _ -> nil
        end

      if is_float(float) and Decimal.equal?(Decimal.from_float(float), decimal) do
        {:ok, float}
      else
        raise ArgumentError,
              "decimal #{Decimal.to_string(decimal, :normal)} cannot be stored exactly: " <>
                "SQLite keeps numbers as 64-bit integers or doubles (15 to 17 significant " <>
                "digits), so a DECIMAL column would round it. Round it first (Decimal.round/3), " <>
                "or keep it in a :string field (TEXT column) to store its digits as text"
      end
    end

    @spec load_json(term()) :: {:ok, term()} | :error
    def load_json(nil), do: {:ok, nil}

    def load_json(value) when is_binary(value) do
      case Jason.decode(value) do
        {:ok, decoded} -> {:ok, decoded}
        _ -> :error
      end
    end

    def load_json(value) when is_map(value) or is_list(value), do: {:ok, value}
    def load_json(_), do: :error

    # Arrays: as the original adapter, an empty string loads as an empty list.
    @spec load_array(term()) :: {:ok, list() | nil} | :error
    def load_array(""), do: {:ok, []}

    def load_array(value) do
      case load_json(value) do
        {:ok, list} when is_list(list) or is_nil(list) -> {:ok, list}
        _ -> :error
      end
    end

    # Booleans, dates and times are dumped as the original adapter dumped them: 1 / 0 and
    # ISO 8601 text.
    @spec dump_boolean(term()) :: {:ok, term()}
    def dump_boolean(true), do: {:ok, 1}
    def dump_boolean(false), do: {:ok, 0}
    def dump_boolean(value), do: {:ok, value}

    @spec dump_iso8601(term()) :: {:ok, term()}
    def dump_iso8601(%DateTime{} = value), do: {:ok, DateTime.to_iso8601(value)}
    def dump_iso8601(%NaiveDateTime{} = value), do: {:ok, NaiveDateTime.to_iso8601(value)}
    def dump_iso8601(%Date{} = value), do: {:ok, Date.to_iso8601(value)}
    def dump_iso8601(%Time{} = value), do: {:ok, Time.to_iso8601(value)}
    def dump_iso8601(value), do: {:ok, value}

    @spec dump_json(term()) :: {:ok, term()} | :error
    def dump_json(nil), do: {:ok, nil}

    def dump_json(value) when is_map(value) or is_list(value) do
      case Jason.encode(value) do
        {:ok, json} -> {:ok, json}
        {:error, _} -> :error
      end
    end

    def dump_json(value), do: {:ok, value}

    # UUIDs are stored as text; 16 raw bytes written by other tools load too.
    @spec load_uuid(term()) :: {:ok, binary() | nil} | :error
    def load_uuid(nil), do: {:ok, nil}
    def load_uuid(<<_::128>> = raw), do: {:ok, raw}

    def load_uuid(text) when is_binary(text) do
      case Ecto.UUID.dump(text) do
        {:ok, raw} -> {:ok, raw}
        :error -> :error
      end
    end

    def load_uuid(_), do: :error

    # Binary ids load as their text form; 16 raw bytes written by other tools are converted.
    @spec load_binary_id(term()) :: {:ok, term()} | :error
    def load_binary_id(<<_::128>> = raw), do: Ecto.UUID.load(raw)
    def load_binary_id(value), do: {:ok, value}

    @spec dump_uuid(term()) :: {:ok, term()} | :error
    def dump_uuid(<<_::128>> = raw), do: Ecto.UUID.load(raw)
    def dump_uuid(value), do: {:ok, value}

    @spec load_date(term()) :: {:ok, Date.t() | nil} | :error
    def load_date(nil), do: {:ok, nil}

    def load_date(value) when is_binary(value) do
      case Date.from_iso8601(binary_part(value, 0, min(byte_size(value), 10))) do
        {:ok, date} -> {:ok, date}
        _ -> :error
      end
    end

    def load_date(%Date{} = date), do: {:ok, date}
    def load_date(_), do: :error

    @spec load_time(term()) :: {:ok, Time.t() | nil} | :error
    def load_time(nil), do: {:ok, nil}

    def load_time(value) when is_binary(value) do
      case Time.from_iso8601(value) do
        {:ok, time} -> {:ok, time}
        _ -> :error
      end
    end

    def load_time(%Time{} = time), do: {:ok, time}
    def load_time(_), do: :error

    # "2024-01-02T03:04:05.123456", with a space instead of "T" (SQLite's own functions), with
    # or without an offset, or Unix seconds.
    @spec load_naive(term()) :: {:ok, NaiveDateTime.t() | nil} | :error
    def load_naive(nil), do: {:ok, nil}

    def load_naive(value) when is_binary(value) do
      case NaiveDateTime.from_iso8601(value) do
        {:ok, naive} -> {:ok, naive}
        _ -> parse_date_only(value, &NaiveDateTime.new(&1, ~T[00:00:00]))
      end
    end

    def load_naive(value) when is_integer(value),
      do: {:ok, value |> DateTime.from_unix!() |> DateTime.to_naive()}

    def load_naive(%NaiveDateTime{} = value), do: {:ok, value}
    def load_naive(_), do: :error

    @spec load_utc(term()) :: {:ok, DateTime.t() | nil} | :error | {:error, atom()}
    def load_utc(nil), do: {:ok, nil}

    def load_utc(value) when is_binary(value) do
      case DateTime.from_iso8601(value) do
        {:ok, datetime, _offset} ->
          {:ok, datetime}

        _ ->
          with {:ok, naive} <- load_naive(value), do: DateTime.from_naive(naive, "Etc/UTC")
      end
    end

    def load_utc(value) when is_integer(value), do: DateTime.from_unix(value)
    def load_utc(%DateTime{} = value), do: {:ok, value}
    def load_utc(_), do: :error

    defp parse_date_only(value, to) do
      case Date.from_iso8601(value) do
        {:ok, date} -> to.(date)
        _ -> :error
      end
    end

    # Durations are ISO 8601 text ("P1Y2M", "PT3.5S") where Elixir has Duration (1.17+).
    @spec load_duration(term()) :: {:ok, term()} | :error
    def load_duration(nil), do: {:ok, nil}

    def load_duration(value) when is_binary(value) do
      if Code.ensure_loaded?(Duration) do
        case apply(Duration, :from_iso8601, [value]) do
          {:ok, duration} -> {:ok, duration}
          _ -> :error
        end
      else
        :error
      end
    end

    def load_duration(_), do: :error

    @spec dump_duration(term()) :: {:ok, term()}
    def dump_duration(%{__struct__: Duration} = duration),
      do: {:ok, apply(Duration, :to_iso8601, [duration])}

    def dump_duration(value), do: {:ok, value}
  end
end
