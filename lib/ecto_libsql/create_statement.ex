defmodule EctoLibSql.CreateStatement do
  @moduledoc """
  Reads CREATE statements (as `sqlite_master` holds them) with the engine's SQL tokenizer and
  SQLite's grammar, without a database: the object's kind and name and, for a table defined by
  a column list, its column definitions, table constraints and table options.

  Comments, quoted names (`"x\"""`, `` `x` ``, `[x]`, `'x'`), strings and nested parentheses
  never mislead it. Nothing is executed or validated beyond the statement's head, column list
  and options: SQLite remains the judge of the statement. The adapter's migrations read tables
  with it when they rebuild one (`modify`, `remove`, constraints).
  """

  alias EctoLibSql.NIF

  @typedoc """
  An item of a table's column list.

    * `:kind`: `:column` for a column definition; `:primary_key`, `:unique`, `:check` or
      `:foreign_key` for a table constraint;
    * `:name`: a column's name, or a table constraint's CONSTRAINT name (`nil` when it has
      none), unquoted;
    * `:text`: the item as written, from its first token to its last (comments between them
      kept, those around it not);
    * `:columns`: the columns a PRIMARY KEY, UNIQUE or FOREIGN KEY table constraint names,
      unquoted (`[]` for a column and a CHECK);
    * `:clauses`: a column's constraints in order (`:autoincrement` follows its
      `:primary_key`), or the kinds of the table constraints the item holds (SQLite accepts
      several without a comma between them; `:kind`, `:name` and `:columns` describe the
      first);
    * `:references`: the parent table of a foreign key, unquoted, or `nil`.
  """
  @type item :: %{
          kind: :column | :primary_key | :unique | :check | :foreign_key,
          name: String.t() | nil,
          text: String.t(),
          columns: [String.t()],
          clauses: [
            :primary_key
            | :autoincrement
            | :unique
            | :check
            | :references
            | :foreign_key
            | :not_null
            | :null
            | :default
            | :collate
            | :generated
          ],
          references: String.t() | nil
        }

  @typedoc """
  A CREATE statement.

    * `:type`, `:schema` (`nil` when not given), `:name` (unquoted) and `:name_at`, the byte
      offset and length of the name as written (`"x\"""`), to replace it in the text;
    * `:temporary`, `:unique` (CREATE UNIQUE INDEX) and `:if_not_exists`;
    * for a table defined by a column list (not `AS SELECT`, not a virtual table): `:head`,
      the text before the list's opening parenthesis, `:items`, `:tail`, the text after its
      closing one, and `:options` (`:strict`, `:without_rowid`, as written). They are `nil`
      for any other statement.
  """
  @type t :: %{
          type: :table | :virtual_table | :index | :view | :trigger,
          schema: String.t() | nil,
          name: String.t(),
          name_at: {non_neg_integer(), non_neg_integer()},
          temporary: boolean(),
          unique: boolean(),
          if_not_exists: boolean(),
          head: String.t() | nil,
          items: [item()] | nil,
          tail: String.t() | nil,
          options: [:strict | :without_rowid] | nil
        }

  @doc """
  Reads the first statement of `sql` when it is a CREATE TABLE, CREATE VIRTUAL TABLE,
  CREATE [UNIQUE] INDEX, CREATE VIEW or CREATE TRIGGER.

  Any other statement, and malformed text (an unterminated string, quoted name or comment,
  unbalanced parentheses, an empty item, unknown table options), is `{:error, reason}`, the
  reason saying what is wrong and at which byte.

  A table's `head`, the `text` of its items and its `tail` are the statement's own bytes:
  joining them with `"("`, `", "` and `")"` writes the statement again (without the comments
  between the items).

      iex> {:ok, create} =
      ...>   EctoLibSql.CreateStatement.parse(~s{CREATE TABLE "t" (id INTEGER PRIMARY KEY, -- key
      ...>   "b\""" TEXT DEFAULT 'a, (b', CONSTRAINT u UNIQUE ("b\"""))})
      iex> {create.name, create.head, create.tail, create.options}
      {"t", ~s{CREATE TABLE "t" }, "", []}
      iex> Enum.map(create.items, &{&1.kind, &1.name, &1.clauses, &1.columns})
      [{:column, "id", [:primary_key], []}, {:column, ~s{b"}, [:default], []},
       {:unique, "u", [:unique], [~s{b"}]}]
      iex> EctoLibSql.CreateStatement.parse("CREATE TABLE t (a, )")
      {:error, "an empty item in the column list at byte 19"}
  """
  @spec parse(String.t()) :: {:ok, t()} | {:error, String.t()}
  def parse(sql) when is_binary(sql), do: NIF.parse_create(sql)
end
