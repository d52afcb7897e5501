if Code.ensure_loaded?(Ecto.Adapters.SQL) do
  defmodule Ecto.Adapters.LibSql.Rebuild do
    @moduledoc false
    # Migration commands SQLite's ALTER TABLE cannot express, run by the adapter:
    #
    #   * `modify` and adding or dropping a constraint rebuild the table: the CREATE TABLE text
    #     is edited, a new table is filled from the old one, the old one dropped, the new one
    #     renamed, and the table's indexes and triggers created again, inside the migration's
    #     transaction;
    #   * `add_if_not_exists` / `remove_if_exists` look the column up first;
    #   * renaming an index drops it and creates it again under the new name.

    alias Ecto.Adapters.LibSql.Connection
    alias Ecto.Migration.{Constraint, Index, Reference, Table}

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

    defp plain_change?(change), do: elem(change, 0) in [:add, :remove]

    ## Commands

    defp alter(meta, table, changes, opts) do
      Enum.each(changes, fn change ->
        columns = column_names(meta, table.name, opts)

        case change do
          {:add_if_not_exists, name, type, col_opts} ->
            unless to_string(name) in columns,
              do: run_ddl(meta, {:alter, table, [{:add, name, type, col_opts}]}, opts)

          {:remove_if_exists, name, _type} ->
            if to_string(name) in columns,
              do: run_ddl(meta, {:alter, table, [{:remove, name}]}, opts)

          {:remove_if_exists, name} ->
            if to_string(name) in columns,
              do: run_ddl(meta, {:alter, table, [{:remove, name}]}, opts)

          # A reference over several columns is a table constraint: the column is added, then
          # the table rebuilt with the constraint.
          {:add, name, %Reference{with: [_ | _]} = ref, col_opts} ->
            run_ddl(meta, {:alter, table, [{:add, name, ref.type, col_opts}]}, opts)
            add_table_reference(meta, table, name, ref, opts)

          # Dropping such a column drops its constraint first (a rebuild).
          {:remove, name, %Reference{with: [_ | _]} = ref, _col_opts} ->
            clause = IO.iodata_to_binary(Connection.composite_reference(ref, table, name))
            rebuild(meta, table.name, opts, &without_constraint(&1, constraint_name(clause)))
            run_ddl(meta, {:alter, table, [{:remove, name}]}, opts)

          {:modify, name, type, col_opts} ->
            definition =
              Connection.column_definition(table, {:add, name, type, col_opts}, false)
              |> IO.iodata_to_binary()

            rebuild(meta, table.name, opts, fn parts ->
              parts = replace_column(parts, to_string(name), definition, table.name)

              case type do
                %Reference{with: [_ | _]} = ref ->
                  clause = IO.iodata_to_binary(Connection.composite_reference(ref, table, name))
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

    defp add_table_reference(meta, table, name, ref, opts) do
      clause = IO.iodata_to_binary(Connection.composite_reference(ref, table, name))
      rebuild(meta, table.name, opts, fn parts -> parts ++ [clause] end)
    end

    defp without_constraint(parts, name),
      do: Enum.reject(parts, &constraint_named?(&1, name))

    defp constraint_name(clause) do
      [_, quoted] = Regex.run(~r/^CONSTRAINT\s+("(?:[^"]|"")+")/, clause)
      unquote_identifier(quoted)
    end

    defp add_constraint(meta, %Constraint{} = c, opts) do
      clause =
        cond do
          c.check -> ["CONSTRAINT ", Connection.quote_name(c.name), " CHECK (", c.check, ")"]
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
          old = IO.iodata_to_binary(Connection.quote_name(index.name))
          new = IO.iodata_to_binary(Connection.quote_name(new_name))
          query!(meta, "DROP INDEX #{old}", [], opts)
          query!(meta, replace_object_name(sql, to_string(index.name), new), [], opts)
          {:ok, []}

        _ ->
          raise ArgumentError, "no index named #{index.name}"
      end
    end

    ## The table rebuild

    # All statements of a rebuild run on one connection, in one transaction (the migration's
    # when there is one). Dropping the old table with foreign keys enforced would run ON DELETE
    # actions on the rows that refer to it, so enforcement is switched off for the rebuild
    # (through the driver: PRAGMA foreign_keys is a no-op inside a transaction) and the rebuilt
    # table is checked with PRAGMA foreign_key_check.
    defp rebuild(meta, table, opts, edit) do
      table = to_string(table)

      Ecto.Adapters.LibSql.checkout(meta, opts, fn ->
        sql =
          case query!(
                 meta,
                 "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                 [table],
                 opts
               ) do
            [[sql]] -> sql
            _ -> raise ArgumentError, "no table named #{table}"
          end

        enforced? = query!(meta, "PRAGMA foreign_keys", [], opts) == [[1]]
        location = Map.get(meta, :libsql, [])
        remote? = location[:uri] != nil and location[:database] == nil

        # A server cannot switch enforcement for one transaction. Without referrers enforcement
        # does not matter; with them, dropping the old table would fail or run their actions.
        enforced? = enforced? and not (remote? and no_referrers!(meta, table, opts))

        switch = fn on ->
          query!(meta, "SELECT 1", [], Keyword.put(opts, :foreign_keys_enforced, on))
        end

        if enforced?, do: switch.(false)

        try do
          {:ok, _} =
            Ecto.Adapters.LibSql.transaction(meta, opts, fn ->
              rebuild_table(meta, table, sql, opts, edit)
            end)
        after
          if enforced?, do: switch.(true)
        end
      end)

      :ok
    end

    defp no_referrers!(meta, table, opts) do
      referrers =
        query!(
          meta,
          "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f " <>
            "WHERE m.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE AND m.name != ?1",
          [table],
          opts
        )

      if referrers != [] do
        raise ArgumentError,
              "cannot rebuild table #{table} on a remote database: #{Enum.map_join(referrers, ", ", &hd/1)} " <>
                "refer to it, and a server cannot switch foreign key enforcement off for the rebuild"
      end

      true
    end

    defp rebuild_table(meta, table, sql, opts, edit) do
      {head, parts, tail} = split_create(sql)
      new_parts = edit.(parts)
      temp = "#{table}__ecto_rebuild"
      quoted_temp = IO.iodata_to_binary(Connection.quote_name(temp))
      quoted = IO.iodata_to_binary(Connection.quote_name(table))

      others =
        query!(
          meta,
          "SELECT sql FROM sqlite_master WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL",
          [table],
          opts
        )

      old_columns = stored_columns(meta, table, opts)

      create =
        replace_object_name(head, table, quoted_temp) <>
          "(" <> Enum.join(new_parts, ", ") <> ")" <> tail

      query!(meta, create, [], opts)
      new_columns = stored_columns(meta, temp, opts)
      common = Enum.filter(new_columns, &(&1 in old_columns))
      list = Enum.map_join(common, ", ", &IO.iodata_to_binary(Connection.quote_name(&1)))
      query!(meta, "INSERT INTO #{quoted_temp} (#{list}) SELECT #{list} FROM #{quoted}", [], opts)
      query!(meta, "DROP TABLE #{quoted}", [], opts)
      query!(meta, "PRAGMA legacy_alter_table = ON", [], opts)

      try do
        query!(meta, "ALTER TABLE #{quoted_temp} RENAME TO #{quoted}", [], opts)
      after
        query!(meta, "PRAGMA legacy_alter_table = OFF", [], opts)
      end

      Enum.each(others, fn [sql] -> query!(meta, sql, [], opts) end)

      case query!(meta, "PRAGMA foreign_key_check(#{quoted})", [], opts) do
        [] ->
          :ok

        rows ->
          raise ArgumentError, "the rebuilt table #{table} breaks foreign keys: #{inspect(rows)}"
      end
    end

    # Columns that hold data (generated columns are computed, not copied).
    defp stored_columns(meta, table, opts) do
      quoted = IO.iodata_to_binary(Connection.quote_name(table))

      for [_cid, name, _type, _notnull, _default, _pk, hidden] <-
            query!(meta, "PRAGMA table_xinfo(#{quoted})", [], opts),
          hidden in [0, 1],
          do: name
    end

    defp column_names(meta, table, opts) do
      quoted = IO.iodata_to_binary(Connection.quote_name(table))
      for [_, name | _] <- query!(meta, "PRAGMA table_xinfo(#{quoted})", [], opts), do: name
    end

    @doc false
    # "CREATE TABLE x (a, b CHECK (a > 0), PRIMARY KEY (a)) STRICT" ->
    #   {"CREATE TABLE x ", ["a", "b CHECK (a > 0)", "PRIMARY KEY (a)"], " STRICT"}
    def split_create(sql) do
      {open, close} = outer_parens(sql)
      head = binary_part(sql, 0, open)
      body = binary_part(sql, open + 1, close - open - 1)
      tail = binary_part(sql, close + 1, byte_size(sql) - close - 1)
      {head, split_top_level(body), tail}
    end

    defp outer_parens(sql) do
      chars = String.to_charlist(sql)

      {open, close, _, _} =
        chars
        |> Enum.with_index()
        |> Enum.reduce({nil, nil, 0, nil}, fn {c, i}, {open, close, depth, quote} ->
          cond do
            quote != nil and c == quote -> {open, close, depth, nil}
            quote != nil -> {open, close, depth, quote}
            c in [?", ?', ?`] -> {open, close, depth, c}
            c == ?[ -> {open, close, depth, ?]}
            c == ?( and depth == 0 and open == nil -> {i, close, 1, nil}
            c == ?( -> {open, close, depth + 1, nil}
            c == ?) and depth == 1 -> {open, i, 0, nil}
            c == ?) -> {open, close, depth - 1, nil}
            true -> {open, close, depth, nil}
          end
        end)

      # Byte offsets: the text before them is ASCII in every schema Ecto writes; recompute
      # for safety when it is not.
      {byte_offset(chars, open), byte_offset(chars, close)}
    end

    defp byte_offset(chars, index),
      do: chars |> Enum.take(index) |> List.to_string() |> byte_size()

    defp split_top_level(body) do
      {parts, current, _, _} =
        body
        |> String.to_charlist()
        |> Enum.reduce({[], [], 0, nil}, fn c, {parts, current, depth, quote} ->
          cond do
            quote != nil and c == quote -> {parts, [c | current], depth, nil}
            quote != nil -> {parts, [c | current], depth, quote}
            c in [?", ?', ?`] -> {parts, [c | current], depth, c}
            c == ?[ -> {parts, [c | current], depth, ?]}
            c == ?( -> {parts, [c | current], depth + 1, nil}
            c == ?) -> {parts, [c | current], depth - 1, nil}
            c == ?, and depth == 0 -> {[finish(current) | parts], [], depth, nil}
            true -> {parts, [c | current], depth, nil}
          end
        end)

      Enum.reverse([finish(current) | parts])
    end

    defp finish(chars), do: chars |> Enum.reverse() |> List.to_string() |> String.trim()

    defp replace_column(parts, name, definition, table) do
      {replaced, found?} =
        Enum.map_reduce(parts, false, fn part, found? ->
          if first_identifier(part) == name and not table_constraint?(part),
            do: {definition, true},
            else: {part, found?}
        end)

      if found?, do: replaced, else: raise(ArgumentError, "table #{table} has no column #{name}")
    end

    defp table_constraint?(part) do
      String.match?(part, ~r/^(CONSTRAINT|PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY)\b/i) and
        not String.starts_with?(part, ["\"", "`", "["])
    end

    defp constraint_named?(part, name) do
      case Regex.run(~r/^CONSTRAINT\s+("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\S+)/i, part) do
        [_, quoted] -> unquote_identifier(quoted) == name
        _ -> false
      end
    end

    defp first_identifier(part) do
      case Regex.run(~r/^("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[^\s(]+)/, part) do
        [_, identifier] -> unquote_identifier(identifier)
        _ -> nil
      end
    end

    defp unquote_identifier("\"" <> rest),
      do: rest |> String.trim_trailing("\"") |> String.replace("\"\"", "\"")

    defp unquote_identifier("`" <> rest), do: String.trim_trailing(rest, "`")
    defp unquote_identifier("[" <> rest), do: String.trim_trailing(rest, "]")
    defp unquote_identifier(name), do: name

    # Replaces the object's name in "CREATE [UNIQUE] INDEX|TABLE [IF NOT EXISTS] name ...".
    defp replace_object_name(sql, name, new_quoted) do
      pattern =
        ~r/^(\s*CREATE\s+(?:UNIQUE\s+|TEMP\s+|TEMPORARY\s+)?(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?)("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[^\s(]+)/i

      case Regex.run(pattern, sql, return: :index) do
        [_, {_, prefix_len}, {start, len}] ->
          found = binary_part(sql, start, len)

          if unquote_identifier(found) != name,
            do: raise(ArgumentError, "unexpected schema text for #{name}: #{sql}")

          binary_part(sql, 0, prefix_len) <>
            new_quoted <>
            binary_part(sql, start + len, byte_size(sql) - start - len)

        _ ->
          raise ArgumentError, "unexpected schema text for #{name}: #{sql}"
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
