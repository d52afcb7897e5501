if Code.ensure_loaded?(Ecto.Adapters.SQL) do
  defmodule Ecto.Adapters.LibSql.Rebuild do
    @moduledoc false
    # Migration commands SQLite's ALTER TABLE cannot express, run by the adapter:
    #
    #   * `modify`, adding or dropping a constraint, adding a primary key column and removing
    #     a primary key or unique column rebuild the table: the CREATE TABLE text is edited, a
    #     new table is filled from the old one, the old one dropped, the new one renamed, and
    #     the table's indexes and triggers created again, inside the migration's transaction;
    #   * `add_if_not_exists` / `remove_if_exists` look the column up first;
    #   * renaming an index drops it and creates it again under the new name.

    alias Ecto.Adapters.LibSql.{Connection, DataType, DDL}
    alias Ecto.Migration.{Constraint, Index, Reference, Table}
    alias EctoLibSql.{CreateStatement, SQL}

    # The CREATE TABLE text is read by the engine (EctoLibSql.CreateStatement, SQLite's
    # tokenizer and grammar), never by regexes here: an edit works on its items (maps with
    # `:kind`, `:name`, `:text`, `:columns`, `:clauses`) and adds new definitions as text; the
    # text before and after the column list (the name, comments, STRICT, WITHOUT ROWID) is kept
    # as written. Names compare as SQLite compares them (ASCII case-insensitively).

    def plan({:alter, %Table{} = table, changes}) do
      if Enum.all?(changes, &plain_change?/1),
        do: :sql,
        else: {:adapter, &alter(&1, table, changes, &2)}
    end

    def plan({:create, %Constraint{} = constraint}),
      do: {:adapter, &add_constraint(&1, constraint, &2)}

    def plan({command, %Constraint{} = constraint, _mode})
        when command in [:drop, :drop_if_exists],
        do: {:adapter, &drop_constraint(&1, constraint, command, &2)}

    def plan({command, %Constraint{} = constraint}) when command in [:drop, :drop_if_exists],
      do: {:adapter, &drop_constraint(&1, constraint, command, &2)}

    def plan({:rename, %Index{} = index, new_name}),
      do: {:adapter, &rename_index(&1, index, new_name, &2)}

    def plan(_definition), do: :sql

    defp plain_change?({command, _name, %Reference{with: [_ | _]}, _opts})
         when command in [:add, :remove],
         do: false

    # A primary key column cannot be added by ALTER TABLE; whether a removed column is a key
    # (which DROP COLUMN refuses) is read from the schema.
    defp plain_change?({:add, _name, _type, opts}), do: not Keyword.get(opts, :primary_key, false)
    defp plain_change?(change), do: elem(change, 0) == :add

    ## Commands

    defp alter(meta, table, changes, opts) do
      {primary_keys, changes} = Enum.split_with(changes, &adds_primary_key?/1)

      # New primary key columns are added together (several make one composite key), where
      # the first of them stood.
      changes =
        case primary_keys do
          [] -> changes
          _ -> [{:add_primary_key, primary_keys} | changes]
        end

      Enum.each(changes, fn change ->
        columns = column_names(meta, table.name, opts)

        case change do
          {:add_primary_key, adds} ->
            add_primary_key(meta, table, adds, opts)

          {:add_if_not_exists, name, type, col_opts} ->
            unless to_string(name) in columns,
              do: run_ddl(meta, {:alter, table, [{:add, name, type, col_opts}]}, opts)

          {:remove_if_exists, name, _type} ->
            if to_string(name) in columns, do: remove_column(meta, table, name, opts)

          {:remove_if_exists, name} ->
            if to_string(name) in columns, do: remove_column(meta, table, name, opts)

          # A reference over several columns is a table constraint: the column is added, then
          # the table rebuilt with the constraint.
          {:add, name, %Reference{with: [_ | _]} = ref, col_opts} ->
            run_ddl(meta, {:alter, table, [{:add, name, ref.type, col_opts}]}, opts)
            add_table_reference(meta, table, name, ref, opts)

          # Dropping such a column drops its constraint first (a rebuild).
          {:remove, name, %Reference{with: [_ | _]} = ref, _col_opts} ->
            clause = IO.iodata_to_binary(DDL.composite_reference(ref, table, name))
            rebuild(meta, table.name, opts, &without_constraint(&1, constraint_name(clause)))
            remove_column(meta, table, name, opts)

          {:remove, name, _type, _col_opts} ->
            remove_column(meta, table, name, opts)

          {:remove, name} ->
            remove_column(meta, table, name, opts)

          {:modify, name, type, col_opts} ->
            rebuild(meta, table.name, opts, fn parts ->
              definition = modified_column(table, parts, name, type, col_opts)
              parts = replace_column(parts, to_string(name), definition, table.name)

              case type do
                %Reference{with: [_ | _]} = ref ->
                  clause = IO.iodata_to_binary(DDL.composite_reference(ref, table, name))
                  without_constraint(parts, constraint_name(clause)) ++ [clause]

                _ ->
                  parts
              end
            end)

          other ->
            run_ddl(meta, {:alter, table, [other]}, opts)
        end
      end)

      {:ok, []}
    end

    defp adds_primary_key?({:add, _name, _type, col_opts}),
      do: Keyword.get(col_opts, :primary_key, false)

    defp adds_primary_key?(_change), do: false

    # `modify` writes the column's definition again. A primary key stays one unless the
    # options say otherwise (`primary_key: false`), as PostgreSQL's ALTER COLUMN ... TYPE
    # keeps it: other tables' foreign keys may refer to it.
    defp modified_column(table, parts, name, type, col_opts) do
      {column_key?, autoincrement?} =
        case Enum.find(parts, &column?(&1, to_string(name))) do
          nil -> {false, false}
          column -> {:primary_key in column.clauses, :autoincrement in column.clauses}
        end

      col_opts =
        if column_key? and not Keyword.has_key?(col_opts, :primary_key),
          do: Keyword.merge([primary_key: true, autoincrement: autoincrement?], col_opts),
          else: col_opts

      # A column of a table-level PRIMARY KEY (...) is declared without one of its own.
      composite? = Enum.any?(parts, &constraint_on?(&1, [:primary_key], to_string(name)))

      DDL.column_definition(table, {:add, name, type, col_opts}, composite?)
      |> IO.iodata_to_binary()
    end

    # SQLite's ALTER TABLE ADD COLUMN refuses PRIMARY KEY columns: the table is rebuilt with
    # them. SQLite fills a new key for existing rows only when it is the rowid (one INTEGER
    # column; the rows keep their rowids), so a table with rows and any other new key raises.
    # Rebuilds read the main database's schema: a table of another (`prefix:`) gets plain SQL
    # (which SQLite refuses).
    defp add_primary_key(meta, %Table{prefix: prefix} = table, adds, opts) when prefix != nil,
      do: run_ddl(meta, {:alter, table, adds}, opts)

    defp add_primary_key(meta, table, adds, opts) do
      name = to_string(table.name)
      composite? = length(adds) > 1

      keys =
        for [_cid, column, _type, _notnull, _default, pk, _hidden] <-
              table_xinfo(meta, name, opts),
            pk > 0,
            do: column

      if keys != [] do
        raise ArgumentError,
              "cannot add a primary key to table #{name}: it has one (#{Enum.join(keys, ", ")})"
      end

      rowid? =
        case adds do
          [{:add, _, %Reference{type: type}, col_opts}] -> integer_column?(type, col_opts)
          [{:add, _, type, col_opts}] -> integer_column?(type, col_opts)
          _ -> false
        end

      filled? = query!(meta, "SELECT 1 FROM #{quoted(name)} LIMIT 1", [], opts) != []

      if filled? and not rowid? do
        columns = Enum.map_join(adds, ", ", &to_string(elem(&1, 1)))

        raise ArgumentError,
              "cannot add primary key column #{columns} to table #{name}: it has rows, and " <>
                "SQLite fills a new primary key for existing rows only when it is a single " <>
                "integer column (the rowid)"
      end

      definitions =
        for {:add, column, type, col_opts} <- adds do
          IO.iodata_to_binary(
            DDL.column_definition(table, {:add, column, type, col_opts}, composite?)
          )
        end

      key =
        if composite?,
          do: ["PRIMARY KEY (" <> Enum.map_join(adds, ", ", &quoted(elem(&1, 1))) <> ")"],
          else: []

      # The new rowid column takes the rows' rowids (an alias SQLite's own columns may shadow).
      fill =
        with true <- rowid?,
             alias when is_binary(alias) <-
               Enum.find(~w(rowid _rowid_ oid), &(&1 not in column_names(meta, name, opts))) do
          [{to_string(elem(hd(adds), 1)), alias}]
        else
          _ -> []
        end

      rebuild(meta, name, opts, fn parts -> parts ++ definitions ++ key end, fill)
    end

    defp integer_column?(type, col_opts),
      do: String.upcase(IO.iodata_to_binary(DataType.column_type(type, col_opts))) == "INTEGER"

    # SQLite's DROP COLUMN refuses primary key and unique columns: the table is rebuilt
    # without the column and without the table-level PRIMARY KEY / UNIQUE constraints naming
    # it (PostgreSQL drops the column's constraints with it).
    # A table of another database (`prefix:`) drops the column with plain SQL.
    defp remove_column(meta, %Table{prefix: prefix} = table, name, opts) when prefix != nil,
      do: run_ddl(meta, {:alter, table, [{:remove, name}]}, opts)

    defp remove_column(meta, table, name, opts) do
      column = to_string(name)
      parts = table_parts(meta, to_string(table.name), opts)
      key_constraint? = &constraint_on?(&1, [:primary_key, :unique], column)

      rebuild? =
        Enum.any?(parts, fn part ->
          (column?(part, column) and
             Enum.any?(part.clauses, &(&1 in [:primary_key, :unique]))) or
            key_constraint?.(part)
        end)

      if rebuild? do
        rebuild(meta, table.name, opts, fn parts ->
          Enum.reject(parts, &(column?(&1, column) or key_constraint?.(&1)))
        end)
      else
        run_ddl(meta, {:alter, table, [{:remove, name}]}, opts)
      end
    end

    defp add_table_reference(meta, table, name, ref, opts) do
      clause = IO.iodata_to_binary(DDL.composite_reference(ref, table, name))
      rebuild(meta, table.name, opts, fn parts -> parts ++ [clause] end)
    end

    defp without_constraint(parts, name),
      do: Enum.reject(parts, &constraint_named?(&1, name))

    # The name a table constraint written here declares.
    defp constraint_name(clause) do
      case CreateStatement.parse("CREATE TABLE t (#{clause})") do
        {:ok, %{items: [%{name: name}]}} when is_binary(name) -> name
        _ -> raise ArgumentError, "not a named table constraint: #{clause}"
      end
    end

    defp add_constraint(meta, %Constraint{} = c, opts) do
      clause =
        cond do
          c.check -> ["CONSTRAINT ", SQL.quote_name(c.name), " CHECK (", c.check, ")"]
          true -> raise ArgumentError, "SQLite supports only check constraints (#{c.name})"
        end

      rebuild(meta, c.table, opts, fn parts -> parts ++ [IO.iodata_to_binary(clause)] end)
      {:ok, []}
    end

    defp drop_constraint(meta, %Constraint{} = c, command, opts) do
      rebuild(meta, c.table, opts, fn parts ->
        {kept, dropped} = Enum.split_with(parts, &(not constraint_named?(&1, to_string(c.name))))

        if dropped == [] and command == :drop,
          do: raise(ArgumentError, "table #{c.table} has no constraint named #{c.name}")

        kept
      end)

      {:ok, []}
    end

    defp rename_index(meta, %Index{} = index, new_name, opts) do
      case query!(
             meta,
             "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
             [to_string(index.name)],
             opts
           ) do
        [[sql]] when is_binary(sql) ->
          old = IO.iodata_to_binary(SQL.quote_name(index.name))
          new = IO.iodata_to_binary(SQL.quote_name(new_name))
          query!(meta, "DROP INDEX #{old}", [], opts)
          query!(meta, rename_object(sql, to_string(index.name), new), [], opts)
          {:ok, []}

        _ ->
          raise ArgumentError, "no index named #{index.name}"
      end
    end

    ## The table rebuild

    # All statements of a rebuild run on one connection, in one transaction (the migration's
    # when there is one). Dropping the old table with foreign keys enforced would run ON DELETE
    # actions on the rows that refer to it, so enforcement is switched off for the rebuild
    # (through the driver: PRAGMA foreign_keys is a no-op inside a transaction; a rollback
    # switches it back on) and the rebuilt table and the tables referring to it are checked
    # with PRAGMA foreign_key_check.
    #
    # `fill` lists new columns filled from an expression of the old table (column, SQL).
    defp rebuild(meta, table, opts, edit, fill \\ []) do
      table = to_string(table)

      Ecto.Adapters.LibSql.checkout(meta, opts, fn ->
        sql =
          case table_sql(meta, table, opts) do
            nil -> raise ArgumentError, "no table named #{table}"
            sql -> sql
          end

        enforced? = query!(meta, "PRAGMA foreign_keys", [], opts) == [[1]]
        location = Map.get(meta, :libsql, [])
        # Remote databases and replicas (but offline ones, which write their local file) run
        # DDL on the server.
        remote? = location[:uri] != nil and location[:offline] != true

        # A server cannot switch enforcement for one transaction. Without referrers enforcement
        # does not matter; with them, dropping the old table would fail or run their actions.
        enforced? = enforced? and not (remote? and no_referrers!(meta, table, opts))

        switch = fn on ->
          query!(meta, "SELECT 1", [], Keyword.put(opts, :foreign_keys_enforced, on))
        end

        if enforced?, do: switch.(false)

        # A failed rebuild fails its transaction (the migration's, when there is one):
        # nothing more runs on it, and the driver switches enforcement back on when it rolls
        # back.
        {:ok, _} =
          Ecto.Adapters.LibSql.transaction(meta, opts, fn ->
            rebuild_table(meta, table, sql, opts, edit, fill)
          end)

        if enforced?, do: switch.(true)
      end)

      :ok
    end

    defp table_sql(meta, table, opts) do
      case query!(
             meta,
             "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
             [table],
             opts
           ) do
        [[sql]] -> sql
        _ -> nil
      end
    end

    defp table_parts(meta, table, opts) do
      case table_sql(meta, table, opts) do
        nil ->
          raise ArgumentError, "no table named #{table}"

        sql ->
          parse_table!(sql, table).items
      end
    end

    defp referrers(meta, table, opts) do
      query!(
        meta,
        "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f " <>
          "WHERE m.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE AND m.name != ?1",
        [table],
        opts
      )
      |> Enum.map(&hd/1)
    end

    defp no_referrers!(meta, table, opts) do
      referrers = referrers(meta, table, opts)

      if referrers != [] do
        raise ArgumentError,
              "cannot rebuild table #{table} on a remote database: #{Enum.join(referrers, ", ")} " <>
                "refer to it, and a server cannot switch foreign key enforcement off for the rebuild"
      end

      true
    end

    defp rebuild_table(meta, table, sql, opts, edit, fill) do
      create = parse_table!(sql, table)
      new_parts = edit.(create.items)
      temp = "#{table}__ecto_rebuild"
      quoted_temp = quoted(temp)
      quoted_table = quoted(table)

      others =
        query!(
          meta,
          "SELECT sql FROM sqlite_master WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL",
          [table],
          opts
        )

      old_columns = stored_columns(meta, table, opts)

      create =
        rename_object(create.head, create, quoted_temp) <>
          "(" <> Enum.map_join(new_parts, ", ", &text/1) <> ")" <> create.tail

      query!(meta, create, [], opts)
      new_columns = stored_columns(meta, temp, opts)
      fill = Enum.filter(fill, fn {column, _expr} -> column in new_columns end)
      filled = Enum.map(fill, &elem(&1, 0))
      common = Enum.filter(new_columns, &(&1 in old_columns and &1 not in filled))
      targets = Enum.map_join(common ++ filled, ", ", &quoted/1)
      sources = Enum.join(Enum.map(common, &quoted/1) ++ Enum.map(fill, &elem(&1, 1)), ", ")

      if targets != "" do
        query!(
          meta,
          "INSERT INTO #{quoted_temp} (#{targets}) SELECT #{sources} FROM #{quoted_table}",
          [],
          opts
        )
      end

      query!(meta, "DROP TABLE #{quoted_table}", [], opts)
      query!(meta, "PRAGMA legacy_alter_table = ON", [], opts)

      try do
        query!(meta, "ALTER TABLE #{quoted_temp} RENAME TO #{quoted_table}", [], opts)
      after
        query!(meta, "PRAGMA legacy_alter_table = OFF", [], opts)
      end

      Enum.each(others, fn [sql] -> query!(meta, sql, [], opts) end)

      # The rebuilt table's own foreign keys, then those of the tables referring to it (a key
      # that changed type or values, or is no longer unique, breaks them).
      for checked <- [table | referrers(meta, table, opts)] do
        case query!(meta, "PRAGMA foreign_key_check(#{quoted(checked)})", [], opts) do
          [] ->
            :ok

          rows ->
            raise ArgumentError,
                  "the rebuilt table #{table} breaks foreign keys of #{checked}: #{inspect(rows)}"
        end
      end

      :ok
    end

    # Columns that hold data (generated columns are computed, not copied).
    defp stored_columns(meta, table, opts) do
      for [_cid, name, _type, _notnull, _default, _pk, hidden] <- table_xinfo(meta, table, opts),
          hidden in [0, 1],
          do: name
    end

    defp column_names(meta, table, opts),
      do: for([_, name | _] <- table_xinfo(meta, table, opts), do: name)

    defp table_xinfo(meta, table, opts),
      do: query!(meta, "PRAGMA table_xinfo(#{quoted(to_string(table))})", [], opts)

    defp quoted(name), do: IO.iodata_to_binary(SQL.quote_name(name))

    # The table's CREATE TABLE text, read by the engine.
    defp parse_table!(sql, table) do
      case CreateStatement.parse(sql) do
        {:ok, %{type: :table, items: [_ | _]} = create} ->
          create

        {:ok, _} ->
          raise ArgumentError, "cannot rebuild table #{table}: it has no column list (#{sql})"

        {:error, reason} ->
          raise ArgumentError,
                "cannot rebuild table #{table}: its CREATE TABLE text could not be read " <>
                  "(#{reason}): #{sql}"
      end
    end

    # An item's text, or a definition written here.
    defp text(%{text: text}), do: text
    defp text(definition) when is_binary(definition), do: definition

    defp replace_column(parts, name, definition, table) do
      {replaced, found?} =
        Enum.map_reduce(parts, false, fn part, found? ->
          if column?(part, name),
            do: {definition, true},
            else: {part, found?}
        end)

      if found?, do: replaced, else: raise(ArgumentError, "table #{table} has no column #{name}")
    end

    defp column?(%{kind: :column, name: name}, column), do: same_name?(name, column)
    defp column?(_part, _column), do: false

    # A table constraint of one of `kinds` over `column`.
    defp constraint_on?(%{kind: kind, columns: columns}, kinds, column),
      do: kind in kinds and Enum.any?(columns, &same_name?(&1, column))

    defp constraint_on?(_part, _kinds, _column), do: false

    defp constraint_named?(%{kind: kind, name: name}, constraint)
         when kind != :column and is_binary(name),
         do: same_name?(name, constraint)

    defp constraint_named?(_part, _constraint), do: false

    defp same_name?(a, b), do: String.downcase(a, :ascii) == String.downcase(b, :ascii)

    # Replaces the object's name in a CREATE statement's text (or its head) with `new_quoted`:
    # given the statement read already, or the name it must have.
    defp rename_object(sql, %{name_at: {offset, length}}, new_quoted),
      do:
        binary_part(sql, 0, offset) <>
          new_quoted <> binary_part(sql, offset + length, byte_size(sql) - offset - length)

    defp rename_object(sql, name, new_quoted) when is_binary(name) do
      case CreateStatement.parse(sql) do
        {:ok, create} ->
          rename_object(sql, create, new_quoted)

        {:error, reason} ->
          raise ArgumentError,
                "cannot rename #{name}: its CREATE statement could not be read (#{reason}): #{sql}"
      end
    end

    defp run_ddl(meta, definition, opts) do
      for sql <- Connection.execute_ddl(definition), do: query!(meta, sql, [], opts)
    end

    defp query!(meta, sql, params, opts) do
      %{rows: rows} = Ecto.Adapters.SQL.query!(meta, sql, params, opts)
      rows || []
    end
  end
end
