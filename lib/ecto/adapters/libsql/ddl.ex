if Code.ensure_loaded?(Ecto.Adapters.SQL.Connection) do
  defmodule Ecto.Adapters.LibSql.DDL do
    @moduledoc false
    # The SQL of migrations (Ecto.Adapters.LibSql.Connection.execute_ddl/1): tables, their
    # options (STRICT, WITHOUT ROWID, RANDOM ROWID, R*Tree), columns, references and indexes.
    # Changes SQLite's ALTER TABLE cannot make are not written here: the adapter rebuilds the
    # table for them (Ecto.Adapters.LibSql.Rebuild), with the column definitions written here.

    alias Ecto.Adapters.LibSql.DataType

    import EctoLibSql.SQL

    alias Ecto.Migration.{Constraint, Index, Reference, Table}

    require Logger

    @creates [:create, :create_if_not_exists]
    @drops [:drop, :drop_if_exists]

    # Statements are binaries, spelt as the original adapter spelt them where SQLite does not
    # mind (", " between items): applications match on the text.
    @doc "The statements of a migration command, as binaries."
    @spec execute_ddl(Ecto.Adapter.Migration.command() | String.t()) :: [String.t()]
    def execute_ddl(definition), do: definition |> ddl() |> Enum.map(&IO.iodata_to_binary/1)

    defp ddl({command, %Table{} = table, columns}) when command in @creates do
      options = table_options(table.options)

      if Keyword.get(options, :rtree, false) do
        [rtree_table(command, table, columns, options)]
      else
        check_random_rowid!(options, columns)

        [
          [
            "CREATE TABLE ",
            if_do(command == :create_if_not_exists, "IF NOT EXISTS "),
            quote_table(table.prefix, table.name),
            " (",
            column_definitions(table, columns),
            pk_definition(columns),
            table_references(table, columns),
            ?),
            table_suffix(options)
          ]
        ]
      end
    end

    # SQLite drops a table's indexes and triggers with it, but not the views and foreign keys
    # that name it: there is no CASCADE.
    defp ddl({command, %Table{} = table, :cascade}) when command in @drops do
      raise ArgumentError,
            "SQLite's DROP TABLE has no CASCADE: drop the views and foreign keys that depend " <>
              "on #{inspect(to_string(table.name))} first, then drop it without mode: :cascade"
    end

    defp ddl({command, %Table{} = table, _mode}) when command in @drops,
      do: [drop("TABLE ", command, table)]

    defp ddl({:alter, %Table{} = table, changes}) do
      Enum.map(changes, fn change ->
        [
          "ALTER TABLE ",
          quote_table(table.prefix, table.name),
          ?\s | column_change(table, change)
        ]
      end)
    end

    # `concurrently:` and `only:` (partitions) change nothing in SQLite, and comments have no
    # place: they are left out. Options that would give another index than the one asked for
    # raise.
    defp ddl({command, %Index{} = index}) when command in @creates do
      check_index_options!(index)
      fields = Enum.map_intersperse(index.columns, ", ", &index_expr/1)

      [
        [
          "CREATE ",
          if_do(index.unique, "UNIQUE "),
          "INDEX ",
          if_do(command == :create_if_not_exists, "IF NOT EXISTS "),
          quote_table(index.prefix, index.name),
          " ON ",
          quote_name(index.table),
          " (",
          fields,
          ?),
          if_do(index.where, [" WHERE ", to_string(index.where)])
        ]
      ]
    end

    defp ddl({command, %Index{} = index, _mode}) when command in @drops,
      do: [drop("INDEX ", command, index)]

    defp ddl({command, %Index{} = index}) when command in @drops,
      do: ddl({command, index, :restrict})

    defp ddl({:rename, %Table{} = current, %Table{} = new}) do
      [
        [
          "ALTER TABLE ",
          quote_table(current.prefix, current.name),
          " RENAME TO ",
          quote_name(new.name)
        ]
      ]
    end

    defp ddl({:rename, %Table{} = table, current_column, new_column}) do
      [
        [
          "ALTER TABLE ",
          quote_table(table.prefix, table.name),
          " RENAME COLUMN ",
          quote_name(current_column),
          " TO ",
          quote_name(new_column)
        ]
      ]
    end

    defp ddl({:rename, %Index{}, _new_name}) do
      raise ArgumentError,
            "renaming an index is done by the adapter (drop and create), not in plain SQL"
    end

    defp ddl(string) when is_binary(string), do: [string]

    defp ddl(keyword) when is_list(keyword),
      do: raise(ArgumentError, "SQLite adapter does not support keyword lists in execute")

    # The original adapter's messages; the adapter itself (Ecto.Adapters.LibSql.execute_ddl/3)
    # adds and drops check constraints by rebuilding the table.
    defp ddl({:create, %Constraint{}}) do
      raise ArgumentError, """
      LibSQL/SQLite does not support ALTER TABLE ADD CONSTRAINT.

      In a migration, `create constraint(...)` works: the adapter rebuilds the table with the
      check constraint. It cannot be written as one SQL statement.
      """
    end

    defp ddl({command, %Constraint{}}) when command in @drops, do: ddl({command, nil, :restrict})

    defp ddl({command, _constraint, _mode}) when command in @drops do
      raise ArgumentError, """
      LibSQL/SQLite does not support ALTER TABLE DROP CONSTRAINT.

      In a migration, `drop constraint(...)` works: the adapter rebuilds the table without the
      constraint. It cannot be written as one SQL statement.
      """
    end

    ## Table options

    @table_option_keys [:strict, :without_rowid, :random_rowid, :rtree, :primary_key]

    # `options:` of table/2: an SQL string written after the closing parenthesis, `:strict`,
    # or a list of `:strict` / `:without_rowid` / `strict: true` / `without_rowid: true` /
    # `random_rowid: true` (libSQL servers) / `rtree: true` (an R*Tree virtual table).
    # `primary_key:` is Ecto's own option of table/2, already applied by Ecto: it is accepted
    # here and has no effect.
    defp table_options(nil), do: []
    defp table_options(options) when is_binary(options), do: [raw: options]
    defp table_options(option) when option in [:strict, :without_rowid], do: [{option, true}]

    defp table_options(options) when is_list(options) do
      Enum.map(options, fn
        option when option in [:strict, :without_rowid] -> {option, true}
        {key, value} when key in @table_option_keys and is_boolean(value) -> {key, value}
        other -> unsupported_table_option!(other)
      end)
    end

    defp table_options(other), do: unsupported_table_option!(other)

    defp unsupported_table_option!(option) do
      raise ArgumentError,
            "SQLite does not support keyword lists in :options other than :strict, " <>
              ":without_rowid, random_rowid:, rtree: and primary_key: (or an SQL string), " <>
              "got: #{inspect(option)}"
    end

    defp table_suffix(raw: sql), do: [?\s, sql]

    defp table_suffix(options) do
      words =
        for {key, word} <- [
              random_rowid: "RANDOM ROWID",
              without_rowid: "WITHOUT ROWID",
              strict: "STRICT"
            ],
            Keyword.get(options, key, false),
            do: word

      if words == [], do: [], else: [?\s, Enum.join(words, ", ")]
    end

    defp check_random_rowid!(options, columns) do
      if Keyword.get(options, :random_rowid, false) do
        if Keyword.get(options, :without_rowid, false) do
          raise ArgumentError,
                "RANDOM ROWID and WITHOUT ROWID are mutually exclusive options (per libSQL specification)"
        end

        case Enum.find(columns, fn {_, _, _, opts} -> Keyword.get(opts, :autoincrement, false) end) do
          {_, name, _, _} ->
            raise ArgumentError,
                  "RANDOM ROWID and AUTOINCREMENT (on column #{inspect(name)}) are mutually " <>
                    "exclusive options (per libSQL specification)"

          nil ->
            :ok
        end
      end
    end

    # SQLite's R*Tree module: an `id` column, then a minimum and a maximum per dimension (1 to
    # 5). Column types and options do not apply to its columns.
    defp rtree_table(command, table, columns, options) do
      case options |> Keyword.keys() |> Enum.uniq() |> List.delete(:rtree) do
        [] ->
          :ok

        other ->
          raise ArgumentError,
                "R*Tree virtual tables do not support standard table options. " <>
                  "Found incompatible options: #{Enum.map_join(other, ", ", &inspect/1)}. " <>
                  "R*Tree tables can only use the :rtree option."
      end

      names = Enum.map(columns, fn {_, name, _, _} -> to_string(name) end)
      count = length(names)

      cond do
        count < 3 ->
          raise ArgumentError,
                "R*Tree tables require at least 3 columns (id + 1 dimension). Got #{count} columns."

        count > 11 ->
          raise ArgumentError,
                "R*Tree tables support maximum 11 columns (id + 5 dimensions). Got #{count} columns."

        rem(count, 2) == 0 ->
          raise ArgumentError,
                "R*Tree tables require odd number of columns (id + min/max pairs). Got #{count} columns."

        hd(names) != "id" ->
          raise ArgumentError,
                "R*Tree tables must have 'id' as the first column. Got '#{hd(names)}' instead."

        bad = Enum.find(names, &(not Regex.match?(~r/\A[A-Za-z_][A-Za-z0-9_]*\z/, &1))) ->
          raise ArgumentError,
                "R*Tree column names must be plain identifiers (letters, digits and _), got: " <>
                  inspect(bad)

        true ->
          [
            "CREATE VIRTUAL TABLE ",
            if_do(command == :create_if_not_exists, "IF NOT EXISTS "),
            quote_table(table.prefix, table.name),
            " USING rtree(",
            Enum.join(names, ", "),
            ?)
          ]
      end
    end

    ## Columns

    # Single-column primary keys are declared on the column; several make a table constraint.
    defp column_definitions(table, columns) do
      composite_pk? = Enum.count(columns, fn {_, _, _, opts} -> opts[:primary_key] end) > 1
      Enum.map_intersperse(columns, ", ", &column_definition(table, &1, composite_pk?))
    end

    @doc """
    A column as CREATE TABLE declares it (iodata): its name, type, reference and options.
    `composite_pk?` when the table's primary key has several columns (declared apart).
    """
    @spec column_definition(Table.t(), {:add, atom() | String.t(), term(), keyword()}, boolean()) ::
            iodata()
    def column_definition(table, {:add, name, %Reference{} = ref, opts}, composite_pk?) do
      [
        quote_name(name),
        ?\s,
        DataType.column_type(ref.type, opts),
        reference_expr(ref, table, name),
        column_options(ref.type, opts, composite_pk?)
      ]
    end

    def column_definition(_table, {:add, name, type, opts}, composite_pk?),
      do: [
        quote_name(name),
        ?\s,
        DataType.column_type(type, opts),
        column_options(type, opts, composite_pk?)
      ]

    # References with `with:` span several columns: SQLite takes them as table constraints only.
    defp table_references(table, columns) do
      for {:add, name, %Reference{with: [_ | _]} = ref, _opts} <- columns,
          do: [", " | composite_reference(ref, table, name)]
    end

    @doc """
    A reference with `with:` (several columns) as the table constraint SQLite takes (iodata):
    `CONSTRAINT name FOREIGN KEY (...) REFERENCES table(...)`.
    """
    @spec composite_reference(Reference.t(), Table.t(), atom() | String.t()) :: iodata()
    def composite_reference(%Reference{} = ref, table, name) do
      {columns, referenced} = Enum.unzip([{name, ref.column || :id} | ref.with])

      [
        "CONSTRAINT ",
        reference_name(ref, table, name),
        " FOREIGN KEY (",
        quote_names(columns),
        ") REFERENCES ",
        reference_table(ref, table),
        ?(,
        quote_names(referenced),
        ?),
        reference_actions(ref, columns)
      ]
    end

    defp pk_definition(columns) do
      case for({_, name, _, opts} <- columns, opts[:primary_key], do: name) do
        [_, _ | _] = pks -> [", PRIMARY KEY (", quote_names(pks), ")"]
        _ -> []
      end
    end

    defp column_change(_table, {:add, _name, %Reference{with: [_ | _]}, _opts}) do
      raise ArgumentError,
            "a reference with `with:` is a table constraint: the adapter adds it by rebuilding " <>
              "the table, it cannot be written as one SQL statement"
    end

    defp column_change(table, {:add, name, type, opts}),
      do: ["ADD COLUMN " | column_definition(table, {:add, name, type, opts}, false)]

    # libSQL's ALTER COLUMN (libSQL servers), as the original adapter wrote it. Migrations do not
    # come here: the adapter rebuilds the table for `modify`, which works with every SQLite.
    defp column_change(table, {:modify, name, type, opts}) do
      [
        "ALTER COLUMN ",
        quote_name(name),
        " TO " | column_definition(table, {:add, name, type, opts}, false)
      ]
    end

    defp column_change(_table, {:remove, name}), do: ["DROP COLUMN ", quote_name(name)]

    defp column_change(_table, {:remove, name, _type, _opts}),
      do: ["DROP COLUMN ", quote_name(name)]

    defp column_change(_table, change) do
      raise ArgumentError,
            "#{inspect(elem(change, 0))} needs a table rebuild, which the adapter runs: " <>
              "it cannot be written as one SQL statement"
    end

    defp column_options(type, opts, composite_pk?) do
      if Keyword.has_key?(opts, :generated) do
        if Keyword.has_key?(opts, :default) do
          raise ArgumentError,
                "generated columns cannot have a DEFAULT value (SQLite constraint)"
        end

        if Keyword.get(opts, :primary_key) do
          raise ArgumentError,
                "generated columns cannot be part of a PRIMARY KEY (SQLite constraint)"
        end
      end

      null = Keyword.get(opts, :null)
      pk = Keyword.get(opts, :primary_key, false) and not composite_pk?

      [
        if_do(pk, [" PRIMARY KEY", if_do(opts[:autoincrement], " AUTOINCREMENT")]),
        if_do(null == false, " NOT NULL"),
        default_expr(Keyword.fetch(opts, :default), type),
        collate(opts[:collate]),
        generated(opts[:generated], opts),
        check(opts[:check])
      ]
    end

    defp collate(nil), do: []
    defp collate(collation), do: [" COLLATE ", to_string(collation)]

    # The original adapter's form (`generated: "a + b"`, `stored: true`) and the SQL one that
    # PostgreSQL migrations use (`generated: "ALWAYS AS (a + b) STORED"`).
    defp generated(nil, _opts), do: []

    defp generated(expr, opts) when is_binary(expr) do
      stored = if_do(opts[:stored] == true, " STORED")

      if Regex.match?(~r/\A\s*(ALWAYS\s+)?AS\s*\(/i, expr) do
        explicit? = Regex.match?(~r/\b(STORED|VIRTUAL)\s*\z/i, expr)
        [" GENERATED ", expr, if_do(not explicit?, stored)]
      else
        [" GENERATED ALWAYS AS (", expr, ?), stored]
      end
    end

    defp generated(other, _opts) do
      raise ArgumentError,
            "generated: takes an SQL expression as a string (\"a * b\" with stored: true, or " <>
              "\"ALWAYS AS (a * b) STORED\"), got: #{inspect(other)}"
    end

    defp check(nil), do: []

    defp check(%{name: name, expr: expr}),
      do: [" CONSTRAINT ", quote_name(name), " CHECK (", expr, ")"]

    defp check(expr) when is_binary(expr), do: [" CHECK (", expr, ")"]

    defp check(invalid) do
      raise ArgumentError,
            "CHECK constraint expression must be a binary string, got: #{inspect(invalid)}"
    end

    # As the original adapter: nil and :null write no DEFAULT; a value that has no SQL form is
    # left out with a warning.
    defp default_expr(:error, _type), do: []
    defp default_expr({:ok, nil}, _type), do: []
    defp default_expr({:ok, :null}, _type), do: []
    defp default_expr({:ok, true}, _type), do: " DEFAULT 1"
    defp default_expr({:ok, false}, _type), do: " DEFAULT 0"

    # Binaries as queries write them (a BLOB literal for bytes that are not UTF-8 text): an
    # expression default is parenthesised.
    defp default_expr({:ok, literal}, _type) when is_binary(literal) do
      case binary_literal(literal) do
        "'" <> _ = text -> [" DEFAULT ", text]
        other -> [" DEFAULT (", other, ?)]
      end
    end

    defp default_expr({:ok, literal}, _type) when is_number(literal),
      do: [" DEFAULT ", to_string(literal)]

    defp default_expr({:ok, {:fragment, expr}}, _type) when is_binary(expr),
      do: [" DEFAULT (", expr, ")"]

    defp default_expr({:ok, %DateTime{} = value}, _type),
      do: [" DEFAULT '", DateTime.to_iso8601(value), ?']

    defp default_expr({:ok, %NaiveDateTime{} = value}, _type),
      do: [" DEFAULT '", NaiveDateTime.to_iso8601(value), ?']

    defp default_expr({:ok, %Date{} = value}, _type),
      do: [" DEFAULT '", Date.to_iso8601(value), ?']

    defp default_expr({:ok, %Time{} = value}, _type),
      do: [" DEFAULT '", Time.to_iso8601(value), ?']

    # A decimal column keeps the exact value or refuses it, as values written to it do.
    defp default_expr({:ok, %Decimal{} = value}, type) do
      if type == :decimal, do: Ecto.Adapters.LibSql.Codec.dump_decimal(value)
      [" DEFAULT '", Decimal.to_string(value, :normal), ?']
    end

    # SQLite has no bit strings: they are stored as text of 0s and 1s.
    defp default_expr({:ok, bits}, _type) when is_bitstring(bits),
      do: [" DEFAULT '", for(<<bit::1 <- bits>>, into: "", do: Integer.to_string(bit)), ?']

    defp default_expr({:ok, value}, _type)
         when (is_map(value) and not is_struct(value)) or is_list(value) do
      case Jason.encode(value) do
        {:ok, json} ->
          [" DEFAULT ", quote_string(json)]

        {:error, reason} ->
          kind = if is_map(value), do: "map", else: "list"

          Logger.warning(
            "Failed to JSON encode #{kind} default value in migration: #{inspect(value)} - " <>
              "Reason: #{inspect(reason)} - no DEFAULT clause will be generated."
          )

          []
      end
    rescue
      error in Protocol.UndefinedError ->
        kind = if is_map(value), do: "map", else: "list"

        Logger.warning(
          "Failed to JSON encode #{kind} default value in migration: #{inspect(value)} - " <>
            "Reason: #{Exception.message(error)} - no DEFAULT clause will be generated."
        )

        []
    end

    defp default_expr({:ok, value}, _type) do
      Logger.warning(
        "Unsupported default value type in migration: #{inspect(value)} - " <>
          "no DEFAULT clause will be generated."
      )

      []
    end

    defp check_index_options!(%Index{} = index) do
      cond do
        index.include != [] ->
          raise ArgumentError,
                "SQLite indexes have no INCLUDE columns (index #{index.name}, include: " <>
                  "#{inspect(index.include)}): add them to the indexed columns instead"

        index.nulls_distinct == false ->
          raise ArgumentError,
                "SQLite's unique indexes always treat NULLs as distinct: nulls_distinct: false " <>
                  "is not supported (index #{index.name})"

        index.using not in [nil, :btree, "btree"] ->
          raise ArgumentError,
                "SQLite indexes are B-trees: using: #{inspect(index.using)} is not supported " <>
                  "(index #{index.name})"

        index.options != nil ->
          raise ArgumentError,
                "SQLite indexes take no storage options: options: #{inspect(index.options)} " <>
                  "is not supported (index #{index.name})"

        true ->
          :ok
      end
    end

    defp index_expr({dir, column}) when dir in [:asc, :desc],
      do: [index_expr(column), if(dir == :asc, do: " ASC", else: " DESC")]

    defp index_expr({dir, column})
         when dir in [:asc_nulls_first, :asc_nulls_last, :desc_nulls_first, :desc_nulls_last] do
      raise ArgumentError,
            "SQLite indexes cannot order NULLs (#{inspect(dir)} on #{inspect(column)}): " <>
              "use :asc or :desc (NULLs sort first ascending, last descending)"
    end

    defp index_expr(literal) when is_binary(literal), do: literal
    defp index_expr(literal), do: quote_name(literal)

    # A reference is named (`CONSTRAINT "<name>"`) only when `name:` is given: the driver reports
    # a broken key by that name, or else by Ecto's default `<table>_<column>_fkey`.
    defp reference_expr(%Reference{with: [_ | _]}, _table, _name), do: []

    defp reference_expr(%Reference{} = ref, table, name) do
      [
        if_do(ref.name != nil, [" CONSTRAINT ", quote_name(ref.name)]),
        " REFERENCES ",
        reference_table(ref, table),
        ?(,
        quote_name(ref.column || :id),
        ?),
        reference_actions(ref, [name])
      ]
    end

    defp reference_name(%Reference{name: nil}, table, column),
      do: quote_name("#{table.name}_#{column}_fkey")

    defp reference_name(%Reference{name: name}, _table, _column), do: quote_name(name)

    # SQLite resolves a foreign key's table in the schema (main or attached database) of the
    # table that declares it, and its syntax has no schema name there.
    defp reference_table(%Reference{} = ref, table) do
      prefix = Keyword.get(ref.options || [], :prefix, ref.prefix) || table.prefix

      if prefix != table.prefix do
        raise ArgumentError,
              "SQLite cannot reference a table in another database: " <>
                "#{table.prefix || "main"}.#{table.name} -> #{prefix}.#{ref.table}"
      end

      quote_name(ref.table)
    end

    defp reference_actions(ref, columns) do
      [
        reference_match(ref.match),
        reference_on_delete(column_list_action(ref.on_delete, columns)),
        reference_on_update(ref.on_update)
      ]
    end

    # SQLite's SET NULL / SET DEFAULT act on every column of the foreign key: a column list
    # works only when it names them all.
    defp column_list_action({action, list}, columns) when action in [:nilify, :default] do
      if Enum.sort(Enum.map(list, &to_string/1)) == Enum.sort(Enum.map(columns, &to_string/1)) do
        if action == :nilify, do: :nilify_all, else: :default_all
      else
        sql = if action == :nilify, do: "SET NULL", else: "SET DEFAULT"

        raise ArgumentError,
              "SQLite cannot #{action} some columns of a foreign key only: ON DELETE #{sql} " <>
                "acts on every column of the key (#{Enum.join(columns, ", ")}), " <>
                "got on_delete: #{inspect({action, list})}"
      end
    end

    defp column_list_action(action, _columns), do: action

    defp reference_match(nil), do: []
    defp reference_match(:full), do: " MATCH FULL"
    defp reference_match(:simple), do: " MATCH SIMPLE"
    defp reference_match(:partial), do: " MATCH PARTIAL"

    defp reference_on_delete(:nilify_all), do: " ON DELETE SET NULL"
    defp reference_on_delete(:default_all), do: " ON DELETE SET DEFAULT"
    defp reference_on_delete(:delete_all), do: " ON DELETE CASCADE"
    defp reference_on_delete(:restrict), do: " ON DELETE RESTRICT"

    defp reference_on_delete(_), do: []

    defp reference_on_update(:nilify_all), do: " ON UPDATE SET NULL"
    defp reference_on_update(:update_all), do: " ON UPDATE CASCADE"
    defp reference_on_update(:restrict), do: " ON UPDATE RESTRICT"
    defp reference_on_update(_), do: []

    defp drop(what, command, %{prefix: prefix, name: name}),
      do: [
        "DROP ",
        what,
        if_do(command == :drop_if_exists, "IF EXISTS "),
        quote_table(prefix, name)
      ]

    defp if_do(condition, value), do: if(condition, do: value, else: [])
  end
end
