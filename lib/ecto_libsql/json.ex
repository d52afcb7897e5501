defmodule EctoLibSql.JSON do
  @moduledoc """
  SQLite's JSON functions, called on a connection.

  Every function takes an `EctoLibSql.State`, runs one `SELECT json_...(?, ...)` on its
  connection and answers `{:ok, value}` or `{:error, reason}`; SQLite does the JSON work, so
  results are exactly what the same SQL would give. JSON documents are passed as text.

      {:ok, "dark"} = EctoLibSql.JSON.extract(state, ~s({"theme":"dark"}), "$.theme")
      {:ok, ~s({"a":1,"b":2})} = EctoLibSql.JSON.set(state, ~s({"a":1}), "$.b", 2)

  `json_length/3`, `depth/2` and `keys/3` have no SQLite function of that name (they are
  MySQL's); they are computed from `json_type`, `json_each` and `json_tree` with MySQL's
  meaning. `convert/3` to `:jsonb` needs SQLite 3.45 or later and answers a clear error on
  older libraries.

  `arrow_fragment/3` builds `->`/`->>` SQL text for `Ecto.Query.fragment/1`.
  """

  alias EctoLibSql.{Native, State}

  @type result(value) :: {:ok, value} | {:error, term()}

  @doc """
  The value at `path` (`"$.a.b"`, `"$[0]"`): text, integer, float, `nil` for JSON null or a
  missing path, or JSON text for arrays and objects.
  """
  @spec extract(State.t(), String.t(), String.t()) :: result(term())
  def extract(%State{} = state, json, path) when is_binary(json) and is_binary(path),
    do: single(state, "SELECT json_extract(?, ?)", [json, path])

  @doc """
  The JSON type at `path`: `"null"`, `"true"`, `"false"`, `"integer"`, `"real"`, `"text"`,
  `"array"` or `"object"`; `nil` when the path does not exist.
  """
  @spec type(State.t(), String.t(), String.t()) :: result(String.t() | nil)
  def type(%State{} = state, json, path \\ "$") when is_binary(json) and is_binary(path),
    do: single(state, "SELECT json_type(?, ?)", [json, path])

  @doc "`{:ok, true}` when `json` is well-formed JSON, `{:ok, false}` otherwise."
  @spec is_valid(State.t(), String.t()) :: result(boolean())
  def is_valid(%State{} = state, json) when is_binary(json) do
    case single(state, "SELECT json_valid(?)", [json]) do
      {:ok, 1} -> {:ok, true}
      {:ok, 0} -> {:ok, false}
      {:ok, other} -> {:error, {:unexpected_response, other}}
      error -> error
    end
  end

  @doc """
  A JSON array of `values` (`nil` becomes null, text stays text: pass JSON text through
  `json/1` in SQL, or build nested values with `array/2` and `object/2` first).
  """
  @spec array(State.t(), list()) :: result(String.t())
  def array(%State{} = state, values) when is_list(values),
    do: single(state, "SELECT json_array(#{placeholders(length(values))})", values)

  @doc """
  A JSON object from `[key1, value1, key2, value2, ...]`; keys must be text.
  """
  @spec object(State.t(), list()) :: result(String.t())
  def object(%State{} = state, pairs) when is_list(pairs) do
    if rem(length(pairs), 2) != 0 do
      {:error, {:invalid_arguments, "json_object requires even number of arguments"}}
    else
      single(state, "SELECT json_object(#{placeholders(length(pairs))})", pairs)
    end
  end

  @doc """
  The members of the array or object at `path`: `{:ok, [{key, value, type}]}` (`key` is the
  index for arrays; nested arrays and objects come as JSON text).
  """
  @spec each(State.t(), String.t(), String.t()) ::
          result([{String.t() | non_neg_integer(), term(), String.t()}])
  def each(%State{} = state, json, path \\ "$") when is_binary(json) and is_binary(path),
    do: rows(state, "SELECT key, value, type FROM json_each(?, ?)", [json, path])

  @doc """
  Every element at every depth below `path`, parents first: `{:ok, [{full_key, atom, type}]}`
  (`atom` is the SQL value of scalars and `nil` for arrays and objects).
  """
  @spec tree(State.t(), String.t(), String.t()) :: result([{String.t(), term(), String.t()}])
  def tree(%State{} = state, json, path \\ "$") when is_binary(json) and is_binary(path),
    do: rows(state, "SELECT fullkey, atom, type FROM json_tree(?, ?)", [json, path])

  @doc """
  `json` in canonical (minified) text with `:json`, or as a JSONB blob with `:jsonb`
  (SQLite 3.45 or later). Any other format raises `ArgumentError`.
  """
  @spec convert(State.t(), String.t(), :json | :jsonb) :: result(binary())
  def convert(state, json, format \\ :json)

  def convert(%State{} = state, json, :json) when is_binary(json),
    do: single(state, "SELECT json(?)", [json])

  def convert(%State{} = state, json, :jsonb) when is_binary(json) do
    case single(state, "SELECT jsonb(?)", [json]) do
      {:error, "no such function: jsonb" <> _} ->
        {:error,
         "JSONB needs SQLite 3.45 or later; this connection uses SQLite #{sqlite_version(state)}"}

      other ->
        other
    end
  end

  def convert(%State{}, _json, format),
    do: raise(ArgumentError, "format must be :json or :jsonb, got: #{inspect(format)}")

  @doc """
  SQL text for `column -> path` (`:arrow`, answers JSON) or `column ->> path`
  (`:double_arrow`, answers an SQL value), for `Ecto.Query.fragment/1`. `path` is a JSON path
  or key (quoted as an SQL string) or an array index. `column` must be a plain identifier.
  """
  @spec arrow_fragment(String.t(), String.t() | integer(), :arrow | :double_arrow) ::
          String.t()
  def arrow_fragment(column, path, operator \\ :arrow) when is_binary(column) do
    unless Regex.match?(~r/\A[a-zA-Z_][a-zA-Z0-9_]*\z/, column) do
      raise ArgumentError,
            "json_column must be a valid SQL identifier (letters, digits and _, not starting " <>
              "with a digit), got: #{inspect(column)}"
    end

    op =
      case operator do
        :arrow ->
          "->"

        :double_arrow ->
          "->>"

        other ->
          raise ArgumentError, "operator must be :arrow or :double_arrow, got: #{inspect(other)}"
      end

    target =
      cond do
        is_integer(path) -> Integer.to_string(path)
        is_binary(path) -> "'" <> String.replace(path, "'", "''") <> "'"
        true -> raise ArgumentError, "path must be a string or an integer, got: #{inspect(path)}"
      end

    "#{column} #{op} #{target}"
  end

  @doc ~S|`value` as a JSON value: text is quoted (`"a\"b"` becomes `"\"a\\\"b\""`), numbers stay numbers.|
  @spec json_quote(State.t(), term()) :: result(String.t())
  def json_quote(%State{} = state, value), do: single(state, "SELECT json_quote(?)", [value])

  @doc """
  The number of elements of the array, or of keys of the object, at `path`; `nil` for scalars
  and missing paths (MySQL's `JSON_LENGTH`, which SQLite lacks).
  """
  @spec json_length(State.t(), String.t(), String.t()) :: result(non_neg_integer() | nil)
  def json_length(%State{} = state, json, path \\ "$") when is_binary(json) and is_binary(path) do
    single(
      state,
      "SELECT CASE json_type(?1, ?2) WHEN 'array' THEN json_array_length(?1, ?2) " <>
        "WHEN 'object' THEN (SELECT count(*) FROM json_each(?1, ?2)) END",
      [json, path]
    )
  end

  @doc """
  The nesting depth of `json` (MySQL's `JSON_DEPTH`, which SQLite lacks): 1 for scalars and
  empty arrays or objects, one more per level of non-empty nesting (`[1]` is 2,
  `{"a":{"b":1}}` is 3).
  """
  @spec depth(State.t(), String.t()) :: result(pos_integer())
  def depth(%State{} = state, json) when is_binary(json) do
    single(
      state,
      "WITH RECURSIVE t AS (SELECT id, parent FROM json_tree(?1)), " <>
        "d(id, level) AS (SELECT id, 1 FROM t WHERE parent IS NULL " <>
        "UNION ALL SELECT t.id, d.level + 1 FROM t JOIN d ON t.parent = d.id) " <>
        "SELECT max(level) FROM d",
      [json]
    )
  end

  @doc """
  `json` without the elements at `paths` (one path or a list).
  """
  @spec remove(State.t(), String.t(), String.t() | [String.t()]) :: result(String.t())
  def remove(%State{} = state, json, paths) when is_binary(json) do
    paths = List.wrap(paths)
    single(state, "SELECT json_remove(#{placeholders(length(paths) + 1)})", [json | paths])
  end

  @doc "`json` with `value` at `path`, created or replaced."
  @spec set(State.t(), String.t(), String.t(), term()) :: result(String.t())
  def set(%State{} = state, json, path, value) when is_binary(json) and is_binary(path),
    do: single(state, "SELECT json_set(?, ?, ?)", [json, path, value])

  @doc "`json` with the value at `path` replaced; a missing path leaves it unchanged."
  @spec replace(State.t(), String.t(), String.t(), term()) :: result(String.t())
  def replace(%State{} = state, json, path, value) when is_binary(json) and is_binary(path),
    do: single(state, "SELECT json_replace(?, ?, ?)", [json, path, value])

  @doc """
  `json` with `value` inserted at `path` when nothing is there (`"$[#]"` appends to an
  array); an existing value is left unchanged.
  """
  @spec insert(State.t(), String.t(), String.t(), term()) :: result(String.t())
  def insert(%State{} = state, json, path, value) when is_binary(json) and is_binary(path),
    do: single(state, "SELECT json_insert(?, ?, ?)", [json, path, value])

  @doc "`json` merged with `patch` by RFC 7396 JSON Merge Patch (null removes a key)."
  @spec patch(State.t(), String.t(), String.t()) :: result(String.t())
  def patch(%State{} = state, json, patch) when is_binary(json) and is_binary(patch),
    do: single(state, "SELECT json_patch(?, ?)", [json, patch])

  @doc """
  The keys of the object at `path` as a JSON array (`~s(["a","b"])`), `nil` when the value
  there is not an object (MySQL's `JSON_KEYS`, which SQLite lacks).
  """
  @spec keys(State.t(), String.t(), String.t()) :: result(String.t() | nil)
  def keys(%State{} = state, json, path \\ "$") when is_binary(json) and is_binary(path) do
    single(
      state,
      "SELECT CASE json_type(?1, ?2) WHEN 'object' THEN " <>
        "(SELECT json_group_array(key) FROM json_each(?1, ?2)) END",
      [json, path]
    )
  end

  # ------------------------------------------------------------------------------------------

  defp placeholders(0), do: ""
  defp placeholders(n), do: Enum.map_join(1..n, ",", fn _ -> "?" end)

  defp query(%State{conn_id: conn, mode: mode}, sql, args),
    do: Native.query_args(conn, mode, :disable_sync, sql, args)

  defp single(state, sql, args) do
    case query(state, sql, args) do
      %{"rows" => [[value]]} -> {:ok, value}
      %{"rows" => []} -> {:ok, nil}
      {:error, reason} -> {:error, reason}
      other -> {:error, {:unexpected_response, other}}
    end
  end

  defp rows(state, sql, args) do
    case query(state, sql, args) do
      %{"rows" => rows} when is_list(rows) -> {:ok, Enum.map(rows, &List.to_tuple/1)}
      {:error, reason} -> {:error, reason}
      other -> {:error, {:unexpected_response, other}}
    end
  end

  defp sqlite_version(state) do
    case single(state, "SELECT sqlite_version()", []) do
      {:ok, version} when is_binary(version) -> version
      _ -> "(unknown version)"
    end
  end
end
