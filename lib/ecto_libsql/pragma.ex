defmodule EctoLibSql.Pragma do
  @moduledoc """
  SQLite PRAGMA statements on a connection.

  Setters answer `:ok` (foreign keys) or `{:ok, %EctoLibSql.Result{}}` with what SQLite
  answered; getters answer `{:ok, %EctoLibSql.Result{command: :pragma}}` whose `rows` hold the
  value (`[[1]]` for `foreign_keys/1` when enabled). Values are checked before any SQL is
  built: a bad value raises `FunctionClauseError` or answers `{:error, ...}`, never reaches
  SQLite as text.

      :ok = EctoLibSql.Pragma.enable_foreign_keys(state)
      {:ok, %{rows: [["wal"]]}} = EctoLibSql.Pragma.set_journal_mode(state, :wal)
      {:ok, _} = EctoLibSql.Pragma.set_cache_size(state, megabytes: 64)
  """

  alias EctoLibSql.{Native, Result, State}

  @identifier ~r/\A[a-zA-Z_][a-zA-Z0-9_.]*\z/

  @doc """
  Runs a PRAGMA statement: `{:ok, %Result{command: :pragma, columns, rows, num_rows}}`.
  """
  @spec query(State.t(), String.t()) :: {:ok, Result.t()} | {:error, term()}
  def query(%State{conn_id: conn}, sql) when is_binary(sql) do
    case Native.pragma_query(conn, sql) do
      %{"columns" => columns, "rows" => rows, "num_rows" => num_rows} ->
        {:ok, %Result{command: :pragma, columns: columns, rows: rows, num_rows: num_rows}}

      {:error, reason} ->
        {:error, reason}

      other ->
        {:error, {:unexpected_response, other}}
    end
  end

  @doc "Turns foreign key enforcement on (SQLite leaves it off on every new connection)."
  @spec enable_foreign_keys(State.t()) :: :ok | {:error, term()}
  def enable_foreign_keys(%State{} = state), do: ok(query(state, "PRAGMA foreign_keys = ON"))

  @doc "Turns foreign key enforcement off."
  @spec disable_foreign_keys(State.t()) :: :ok | {:error, term()}
  def disable_foreign_keys(%State{} = state), do: ok(query(state, "PRAGMA foreign_keys = OFF"))

  @doc "Whether foreign keys are enforced: rows `[[1]]` or `[[0]]`."
  @spec foreign_keys(State.t()) :: {:ok, Result.t()} | {:error, term()}
  def foreign_keys(%State{} = state), do: query(state, "PRAGMA foreign_keys")

  @journal_modes [:delete, :truncate, :persist, :memory, :wal, :off]

  @doc """
  Sets the journal mode (`:delete`, `:truncate`, `:persist`, `:memory`, `:wal` or `:off`);
  the rows hold the mode now in force (in-memory databases stay `"memory"`).
  """
  @spec set_journal_mode(State.t(), atom()) :: {:ok, Result.t()} | {:error, term()}
  def set_journal_mode(%State{} = state, mode) when mode in @journal_modes,
    do: query(state, "PRAGMA journal_mode = #{String.upcase(Atom.to_string(mode))}")

  @doc "The journal mode: rows `[[\"wal\"]]`, `[[\"delete\"]]`, ..."
  @spec journal_mode(State.t()) :: {:ok, Result.t()} | {:error, term()}
  def journal_mode(%State{} = state), do: query(state, "PRAGMA journal_mode")

  @synchronous [off: 0, normal: 1, full: 2, extra: 3]

  @doc "Sets how often SQLite syncs to disk: `:off`, `:normal`, `:full`, `:extra` or 0..3."
  @spec set_synchronous(State.t(), atom() | 0..3) :: {:ok, Result.t()} | {:error, term()}
  def set_synchronous(%State{} = state, level) when level in [:off, :normal, :full, :extra],
    do: set_synchronous(state, Keyword.fetch!(@synchronous, level))

  def set_synchronous(%State{} = state, level) when level in 0..3,
    do: query(state, "PRAGMA synchronous = #{level}")

  @doc "The synchronous level: rows `[[0]]` (off) to `[[3]]` (extra)."
  @spec synchronous(State.t()) :: {:ok, Result.t()} | {:error, term()}
  def synchronous(%State{} = state), do: query(state, "PRAGMA synchronous")

  @doc """
  The columns of a table (`cid`, `name`, `type`, `notnull`, `dflt_value`, `pk`). The name
  must be an identifier (letters, digits, `_` and `.` for `schema.table`), otherwise
  `{:error, {:invalid_identifier, name}}`.
  """
  @spec table_info(State.t(), atom() | String.t()) :: {:ok, Result.t()} | {:error, term()}
  def table_info(%State{} = state, table), do: with_identifier(state, table, "table_info")

  @doc "The indexes of a table (`seq`, `name`, `unique`, `origin`, `partial`)."
  @spec index_list(State.t(), atom() | String.t()) :: {:ok, Result.t()} | {:error, term()}
  def index_list(%State{} = state, table), do: with_identifier(state, table, "index_list")

  @doc "Every table and view (`schema`, `name`, `type`, `ncol`, `wr`, `strict`)."
  @spec table_list(State.t()) :: {:ok, Result.t()} | {:error, term()}
  def table_list(%State{} = state), do: query(state, "PRAGMA table_list")

  @doc "The user version stored in the database header: rows `[[n]]`."
  @spec user_version(State.t()) :: {:ok, Result.t()} | {:error, term()}
  def user_version(%State{} = state), do: query(state, "PRAGMA user_version")

  @doc "Sets the user version (a signed 32-bit integer)."
  @spec set_user_version(State.t(), integer()) :: {:ok, Result.t()} | {:error, term()}
  def set_user_version(%State{} = state, version)
      when is_integer(version) and version >= -2_147_483_648 and version <= 2_147_483_647,
      do: query(state, "PRAGMA user_version = #{version}")

  def set_user_version(%State{}, version) when is_integer(version),
    do: {:error, "user_version must fit in a signed 32-bit integer, got: #{version}"}

  @doc """
  Sets the page cache size of this connection: a positive integer is a number of pages, a
  negative one a size in KiB (SQLite's convention); `kilobytes: n` or `megabytes: n` say it
  plainly.
  """
  @spec set_cache_size(
          State.t(),
          integer() | [kilobytes: pos_integer()] | [megabytes: pos_integer()]
        ) ::
          {:ok, Result.t()} | {:error, term()}
  def set_cache_size(%State{} = state, kilobytes: kib) when is_integer(kib) and kib > 0,
    do: set_cache_size(state, -kib)

  def set_cache_size(%State{} = state, megabytes: mib) when is_integer(mib) and mib > 0,
    do: set_cache_size(state, -mib * 1024)

  def set_cache_size(%State{} = state, size) when is_integer(size),
    do: query(state, "PRAGMA cache_size = #{size}")

  @doc "The page cache size: rows `[[n]]` (pages if positive, KiB if negative)."
  @spec cache_size(State.t()) :: {:ok, Result.t()} | {:error, term()}
  def cache_size(%State{} = state), do: query(state, "PRAGMA cache_size")

  # ------------------------------------------------------------------------------------------

  defp ok({:ok, _}), do: :ok
  defp ok(error), do: error

  defp with_identifier(state, name, pragma) when is_atom(name) and name not in [nil, true, false],
    do: with_identifier(state, Atom.to_string(name), pragma)

  defp with_identifier(state, name, pragma) when is_binary(name) do
    cond do
      not Regex.match?(@identifier, name) ->
        {:error, {:invalid_identifier, name}}

      # "schema.table" becomes PRAGMA schema.table_info(table), the form SQLite accepts.
      String.contains?(name, ".") ->
        case String.split(name, ".") do
          [schema, table] when schema != "" and table != "" ->
            query(state, "PRAGMA #{schema}.#{pragma}(#{table})")

          _ ->
            {:error, {:invalid_identifier, name}}
        end

      true ->
        query(state, "PRAGMA #{pragma}(#{name})")
    end
  end

  defp with_identifier(_state, name, _pragma), do: {:error, {:invalid_identifier, name}}
end
