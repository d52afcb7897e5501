if Code.ensure_loaded?(Ecto.Adapters.SQL.Connection) do
  defmodule Ecto.Adapters.LibSql.Connection do
    @moduledoc """
    SQL generation for SQLite / libSQL, and the `Ecto.Adapters.SQL.Connection` callbacks over
    the `EctoLibSql` DBConnection driver.

    Parameters are numbered (`?1`, `?2`, ...), so placeholders of `insert_all` and parameters
    used twice bind once. Expressions SQLite cannot run raise `Ecto.QueryError` naming them.
    """

    # Over 800 lines: query generation is one recursive walk over Ecto's query (expressions
    # hold subqueries, CTEs and combinations, which are whole queries again), sharing the
    # sources, the parameter counter and the error that names the query; split across modules
    # every step of it would be public. Ecto's own adapters (Postgres, MySQL) and ecto_sqlite3
    # keep it in one file too. What is not part of that walk lives apart: migrations' SQL in
    # Ecto.Adapters.LibSql.DDL, column types in Ecto.Adapters.LibSql.DataType, constraint
    # errors in Ecto.Adapters.LibSql.Constraints, quoting in EctoLibSql.SQL.

    @behaviour Ecto.Adapters.SQL.Connection

    import EctoLibSql.SQL,
      only: [binary_literal: 1, quote_names: 1, quote_string: 1, quote_table: 2]

    alias Ecto.Adapters.LibSql.{Constraints, DDL}
    alias Ecto.Query.{BooleanExpr, ByExpr, JoinExpr, QueryExpr, WithExpr}
    alias EctoLibSql.Query

    @parent_as __MODULE__

    ## Connection callbacks

    # Local files default to WAL, so that readers and the writer do not block each other
    # (encrypted databases keep their rollback journal), and to enforced foreign keys.
    @impl true
    def child_spec(opts) do
      # Options that select no mode fail here, once, before the pool starts.
      EctoLibSql.Options.validate!(opts)

      memory? = opts[:database] == ":memory:" and is_nil(opts[:uri])
      local? = is_binary(opts[:database]) and not memory? and is_nil(opts[:uri])

      opts =
        if local? and is_nil(opts[:encryption_key]),
          do: Keyword.put_new(opts, :journal_mode, :wal),
          else: opts

      # Ecto applications expect foreign keys to be enforced; SQLite's own default is off.
      opts = if local? or memory?, do: Keyword.put_new(opts, :foreign_keys, true), else: opts
      opts = if memory? and is_nil(opts[:encryption_key]), do: shared_memory(opts), else: opts

      DBConnection.child_spec(EctoLibSql, opts)
    end

    # `database: ":memory:"` would give every connection of the pool its own empty database. The
    # pool shares one instead: an in-memory database of SQLite's memdb VFS, named for this start
    # of the repo (two repos never share one). A connection to it is opened here and kept in the
    # options, which the pool and every connection hold: the database lives while connections
    # come and go, and is freed with the last of them when the repo stops.
    defp shared_memory(opts) do
      name = "file:/ecto_libsql_memory_#{System.unique_integer([:positive])}?vfs=memdb"

      case EctoLibSql.Native.connect(database: name) do
        {:ok, keeper} ->
          opts
          |> Keyword.put(:database, name)
          |> Keyword.put(:shared_memory_keeper, keeper.conn_id)

        {:error, error} ->
          raise ArgumentError,
                "cannot open the shared in-memory database for database: \":memory:\": " <>
                  Exception.message(error)
      end
    end

    @impl true
    def prepare_execute(conn, name, sql, params, opts) do
      query = %Query{name: name, statement: IO.iodata_to_binary(sql)}
      DBConnection.prepare_execute(conn, query, params, opts)
    end

    @impl true
    def execute(conn, %Query{} = query, params, opts) do
      case DBConnection.execute(conn, query, params, opts) do
        {:ok, _query, result} -> {:ok, result}
        {:error, _} = error -> error
      end
    end

    @impl true
    def query(conn, sql, params, opts) do
      query = %Query{statement: IO.iodata_to_binary(sql)}

      case DBConnection.prepare_execute(conn, query, params, opts) do
        {:ok, _query, result} -> {:ok, result}
        {:error, _} = error -> error
      end
    end

    @impl true
    def query_many(_conn, _sql, _params, _opts) do
      raise RuntimeError, "query_many is not supported by the libSQL adapter"
    end

    @impl true
    def stream(conn, sql, params, opts) do
      DBConnection.stream(conn, %Query{statement: IO.iodata_to_binary(sql)}, params, opts)
    end

    # Any exception or map with a message, as the original adapter took them; an
    # EctoLibSql.Error naming its constraint is read from that field.
    @impl true
    defdelegate to_constraints(error, opts), to: Constraints

    # One map per row of SQLite's plan, keyed by its column names, as the original adapter
    # answered: EXPLAIN QUERY PLAN ("id", "parent", "notused", "detail") by default, the
    # bytecode program with `type: :instructions` ("addr", "opcode", "p1", ...). SQLite has no
    # EXPLAIN ANALYZE: `analyze: true` raises.
    @impl true
    def explain_query(conn, query, params, opts) do
      {type, opts} = Keyword.pop(opts, :type, :query_plan)
      {analyze, opts} = Keyword.pop(opts, :analyze, false)

      if analyze not in [false, nil] do
        raise ArgumentError,
              "SQLite has no EXPLAIN ANALYZE: explain takes no analyze: option " <>
                "(type: :query_plan or :instructions)"
      end

      prefix =
        case type do
          :query_plan ->
            "EXPLAIN QUERY PLAN "

          :instructions ->
            "EXPLAIN "

          other ->
            raise ArgumentError,
                  "explain type: must be :query_plan or :instructions, got: #{inspect(other)}"
        end

      case query(conn, [prefix | query], params, opts) do
        {:ok, %{columns: columns, rows: rows}} ->
          {:ok, Enum.map(rows, &(columns |> Enum.zip(&1) |> Map.new()))}

        error ->
          error
      end
    end

    ## Queries

    @spec all(Ecto.Query.t(), list()) :: iodata()
    @impl true
    def all(query, as_prefix \\ []) do
      sources = create_names(query, as_prefix)

      [
        cte(query, sources),
        select(query, sources),
        from(query, sources),
        join(query, sources),
        where(query, sources),
        group_by(query, sources),
        having(query, sources),
        window(query, sources),
        combinations(query, as_prefix),
        order_by(query, sources),
        limit(query, sources),
        offset(query, sources)
        | lock(query)
      ]
      |> IO.iodata_to_binary()
    end

    @spec update_all(Ecto.Query.t(), iodata() | nil) :: iodata()
    @impl true
    def update_all(%{from: %{source: source}} = query, prefix \\ nil) do
      sources = create_names(query, [])
      cte = cte(query, sources)
      {from, name} = get_source(query, sources, 0, source)
      prefix = prefix || ["UPDATE ", from, " AS ", name | " SET "]
      fields = update_fields(query, sources)
      {join, wheres} = update_join(query, sources)
      where = where(%{query | wheres: wheres ++ query.wheres}, sources)
      IO.iodata_to_binary([cte, prefix, fields, join, where | returning(query, sources)])
    end

    @impl true
    def delete_all(%{from: from} = query) do
      sources = create_names(query, [])
      cte = cte(query, sources)
      {table, name} = get_source(query, sources, 0, from)

      IO.iodata_to_binary(delete_all_sql(query, sources, cte, table, name))
    end

    defp delete_all_sql(query, sources, cte, table, name) do
      case query.joins do
        [] ->
          [
            cte,
            "DELETE FROM ",
            table,
            " AS ",
            name,
            where(query, sources)
            | returning(query, sources)
          ]

        _ ->
          # SQLite's DELETE has no join clause: the rows to delete are selected by rowid.
          [
            cte,
            "DELETE FROM ",
            table,
            " AS ",
            name,
            " WHERE ",
            name,
            ".rowid IN (SELECT ",
            name,
            ".rowid FROM ",
            table,
            " AS ",
            name,
            join(query, sources),
            where(query, sources),
            ")" | returning(query, sources)
          ]
      end
    end

    @impl true
    def insert(prefix, table, header, rows, on_conflict, returning, placeholders) do
      counter_offset = length(placeholders) + 1

      values =
        cond do
          header == [] and match?([_], rows) ->
            " DEFAULT VALUES"

          header == [] ->
            raise ArgumentError,
                  "SQLite cannot insert several rows that set no column: insert them one by one"

          match?({:raise, _, []}, on_conflict) or not is_struct(rows, Ecto.Query) ->
            [" (", quote_names(header), ") " | insert_all(rows, counter_offset)]

          # SQLite reads "SELECT ... ON CONFLICT" as a join's ON unless the SELECT has a WHERE.
          true ->
            [" (", quote_names(header), ") SELECT * FROM (", all(rows), ") WHERE true"]
        end

      IO.iodata_to_binary([
        "INSERT INTO ",
        quote_table(prefix, table),
        insert_as(on_conflict),
        values,
        on_conflict(on_conflict, header) | returning(returning)
      ])
    end

    # The table is named (`AS c0`) only when the on_conflict query filters: without a WHERE its
    # updates name the columns bare, as the original adapter wrote them.
    defp insert_as({%Ecto.Query{wheres: [_ | _], sources: sources}, _, _}) do
      {_expr, name, _schema} = create_name(sources, 0, [])
      [" AS " | name]
    end

    defp insert_as(_on_conflict), do: []

    defp on_conflict(:raise, _header), do: []
    defp on_conflict({:raise, _, _}, _header), do: []

    defp on_conflict({:nothing, _, targets}, _header),
      do: [" ON CONFLICT ", conflict_target(targets) | "DO NOTHING"]

    defp on_conflict({:replace_all, _, targets}, header),
      do: [" ON CONFLICT ", conflict_target(targets), "DO " | replace(header)]

    defp on_conflict({fields, _, targets}, _header) when is_list(fields),
      do: [" ON CONFLICT ", conflict_target(targets), "DO " | replace(fields)]

    defp on_conflict({%Ecto.Query{wheres: []} = query, _, targets}, _header) do
      sources = create_names(query, [])
      {table, _name, schema} = elem(sources, 0)
      sources = put_elem(sources, 0, {table, nil, schema})

      [
        " ON CONFLICT ",
        conflict_target(targets),
        "DO UPDATE SET " | update_fields(query, sources)
      ]
    end

    defp on_conflict({query, _, targets}, _header),
      do: [" ON CONFLICT ", conflict_target(targets), "DO " | update_all(query, "UPDATE SET ")]

    defp conflict_target({:unsafe_fragment, fragment}), do: [fragment, ?\s]

    defp conflict_target({:constraint, _name}),
      do: raise(ArgumentError, "Upsert in LibSQL does not support ON CONSTRAINT")

    defp conflict_target([]), do: []
    defp conflict_target(targets), do: [?(, quote_names(targets), ?), ?\s]

    defp replace(fields) do
      [
        "UPDATE SET "
        | Enum.map_intersperse(fields, ", ", fn field ->
            quoted = quote_name(field)
            [quoted, " = excluded." | quoted]
          end)
      ]
    end

    defp insert_all(%Ecto.Query{} = query, _counter), do: all(query)

    defp insert_all(rows, counter) do
      [
        "VALUES ",
        intersperse_reduce(rows, ", ", counter, fn row, counter ->
          {row, counter} = insert_each(row, counter)
          {[?(, row, ?)], counter}
        end)
        |> elem(0)
      ]
    end

    defp insert_each(values, counter) do
      intersperse_reduce(values, ", ", counter, fn
        # A field missing from this row: SQLite has no DEFAULT in VALUES.
        nil, counter ->
          {"NULL", counter}

        {%Ecto.Query{} = query, params_counter}, counter ->
          {[?(, all(query), ?)], counter + params_counter}

        {:placeholder, placeholder_index}, counter ->
          {[?? | to_string(placeholder_index)], counter}

        _, counter ->
          {[?? | Integer.to_string(counter)], counter + 1}
      end)
    end

    @impl true
    def update(prefix, table, fields, filters, returning) do
      {fields, count} =
        intersperse_reduce(fields, ", ", 1, fn field, acc ->
          {[quote_name(field), " = ?" | Integer.to_string(acc)], acc + 1}
        end)

      {filters, _count} = filters(filters, count)

      IO.iodata_to_binary([
        "UPDATE ",
        quote_table(prefix, table),
        " SET ",
        fields,
        " WHERE ",
        filters
        | returning(returning)
      ])
    end

    @impl true
    def delete(prefix, table, filters, returning) do
      {filters, _} = filters(filters, 1)

      IO.iodata_to_binary([
        "DELETE FROM ",
        quote_table(prefix, table),
        " WHERE ",
        filters | returning(returning)
      ])
    end

    defp filters(filters, start) do
      intersperse_reduce(filters, " AND ", start, fn
        {field, nil}, acc -> {[quote_name(field), " IS NULL"], acc}
        {field, _value}, acc -> {[quote_name(field), " = ?" | Integer.to_string(acc)], acc + 1}
      end)
    end

    @impl true
    def table_exists_query(table) do
      {"SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1 LIMIT 1", [table]}
    end

    ## Query parts

    binary_ops = [
      ==: " = ",
      !=: " != ",
      <=: " <= ",
      >=: " >= ",
      <: " < ",
      >: " > ",
      +: " + ",
      -: " - ",
      *: " * ",
      /: " / ",
      and: " AND ",
      or: " OR ",
      like: " LIKE ",
      # SQLite's LIKE ignores the case of ASCII letters.
      ilike: " LIKE "
    ]

    @binary_ops Keyword.keys(binary_ops)

    Enum.map(binary_ops, fn {op, str} ->
      defp handle_call(unquote(op), 2), do: {:binary_op, unquote(str)}
    end)

    defp handle_call(fun, _arity), do: {:fun, Atom.to_string(fun)}

    defp select(%{select: %{fields: fields}, distinct: distinct} = query, sources) do
      ["SELECT", distinct(distinct, query), ?\s | select_fields(fields, sources, query)]
    end

    defp select_fields([], _sources, _query), do: "1"

    defp select_fields(fields, sources, query) do
      Enum.map_intersperse(fields, ", ", fn
        {:&, _, [idx]} ->
          case elem(sources, idx) do
            {nil, source, nil} ->
              error!(
                query,
                "SQLite cannot select all fields from fragment #{source}: " <>
                  "name the fields to select"
              )

            # A table without a schema: all its columns (RETURNING names no table).
            {_source, nil, nil} ->
              "*"

            {_source, name, nil} ->
              [name, ".*"]

            {_, source, _} ->
              source
          end

        {key, value} ->
          [expr(value, sources, query), " AS " | quote_name(key)]

        value ->
          expr(value, sources, query)
      end)
    end

    defp distinct(nil, _query), do: []
    defp distinct(%ByExpr{expr: []}, _query), do: []
    defp distinct(%ByExpr{expr: true}, _query), do: " DISTINCT"
    defp distinct(%ByExpr{expr: false}, _query), do: []

    defp distinct(%ByExpr{expr: exprs}, query) when is_list(exprs) do
      error!(query, "DISTINCT ON is not supported by SQLite")
    end

    defp from(%{from: %{source: source, hints: hints}} = query, sources) do
      {from, name} = get_source(query, sources, 0, source)
      [" FROM ", from, " AS ", name | Enum.map(hints, &[?\s | &1])]
    end

    defp cte(%{with_ctes: %WithExpr{queries: [_ | _]}} = query, sources) do
      %{with_ctes: with} = query
      recursive = if with.recursive, do: "RECURSIVE ", else: ""
      ctes = Enum.map_intersperse(with.queries, ", ", &cte_expr(&1, sources, query))
      ["WITH ", recursive, ctes, " "]
    end

    defp cte(_query, _sources), do: []

    defp cte_expr({name, opts, cte}, sources, query) do
      materialized =
        case opts[:materialized] do
          nil -> ""
          true -> "MATERIALIZED"
          false -> "NOT MATERIALIZED"
        end

      [
        quote_name(name),
        " AS ",
        materialized,
        cte_query(cte, sources, query, Map.get(opts, :operation))
      ]
    end

    defp cte_query(%Ecto.Query{} = query, sources, parent_query, operation)
         when operation in [nil, :all] do
      query = put_in(query.aliases[@parent_as], {parent_query, sources})
      ["(", all(query, subquery_as_prefix(sources)), ")"]
    end

    defp cte_query(%Ecto.Query{} = query, _sources, _parent, operation) do
      error!(
        query,
        "SQLite does not support data-modifying CTEs (#{operation}): " <>
          "run the statement on its own"
      )
    end

    defp cte_query(%QueryExpr{expr: expr}, sources, query, _operation),
      do: expr(expr, sources, query)

    defp update_fields(%{updates: updates} = query, sources) do
      for(
        %{expr: expr} <- updates,
        {op, kw} <- expr,
        {key, value} <- kw,
        do: update_op(op, key, value, sources, query)
      )
      |> Enum.intersperse(", ")
    end

    defp update_op(:set, key, value, sources, query),
      do: [quote_name(key), " = " | expr(value, sources, query)]

    # `key = <before> key <between> value <after>`; arrays are JSON text.
    @update_ops [
      inc: {" = ", " + ", ""},
      push: {" = json_insert(coalesce(", ", '[]'), '$[#]', ", ")"},
      pull: {" = (SELECT json_group_array(value) FROM json_each(", ") WHERE value IS NOT ", ")"}
    ]

    for {op, {before, between, after_value}} <- @update_ops do
      defp update_op(unquote(op), key, value, sources, query) do
        [
          quote_name(key),
          unquote(before),
          quote_qualified_name(key, sources, 0),
          unquote(between),
          expr(value, sources, query),
          unquote(after_value)
        ]
      end
    end

    defp update_op(command, _key, _value, _sources, query),
      do: error!(query, "unknown update operation #{inspect(command)} for SQLite")

    defp update_join(%{joins: []}, _sources), do: {[], []}

    # Inner joins become UPDATE ... FROM's tables, their ON conditions the WHERE.
    defp update_join(%{joins: joins} = query, sources) do
      if Enum.all?(joins, &(&1.qual == :inner)) do
        froms =
          Enum.map_intersperse(joins, ", ", fn %JoinExpr{ix: ix, source: source} ->
            {join, name} = get_source(query, sources, ix, source)
            [join, " AS " | name]
          end)

        wheres =
          for %JoinExpr{on: %QueryExpr{expr: value} = expr} <- joins,
              value != true,
              do: expr |> Map.put(:__struct__, BooleanExpr) |> Map.put(:op, :and)

        {[" FROM ", froms], wheres}
      else
        update_outer_join(query, sources)
      end
    end

    # SQLite's UPDATE ... FROM cannot name the updated table in the ON of its joins, which a
    # left (or cross, right, full) join needs: the joins start from a second instance of the
    # table ("p0_"), matched to the updated row by primary key.
    defp update_outer_join(query, sources) do
      {table, name, _schema} = elem(sources, 0)
      self_name = [name | "_"]

      keys =
        primary_key_columns(sources, 0) ||
          error!(
            query,
            "update_all with a #{Enum.find(query.joins, &(&1.qual != :inner)).qual} join " <>
              "needs a schema with a primary key in SQLite (its joins start from the updated " <>
              "table again, matched by primary key)"
          )

      wheres =
        for key <- keys do
          column = [self_name, ?. | quote_name(key)]

          %BooleanExpr{
            op: :and,
            expr: {:fragment, [], [raw: column, raw: " = ", expr: key_expr(0, key)]}
          }
        end

      self_sources = put_elem(sources, 0, {table, self_name, nil})
      {[" FROM ", table, " AS ", self_name | join(query, self_sources)], wheres}
    end

    # The columns of a binding's primary key, from its schema (nil without one).
    defp primary_key_columns(sources, ix) do
      with {_table, _name, schema} when schema != nil <- elem(sources, ix),
           [_ | _] = keys <- schema.__schema__(:primary_key) do
        Enum.map(keys, &schema.__schema__(:field_source, &1))
      else
        _ -> nil
      end
    end

    defp key_expr(ix, column), do: {{:., [], [{:&, [], [ix]}, column]}, [], []}

    defp join(%{joins: []}, _sources), do: []

    defp join(%{joins: joins} = query, sources) do
      [
        ?\s
        | Enum.map_intersperse(joins, ?\s, fn
            %JoinExpr{
              on: %QueryExpr{expr: expr},
              qual: qual,
              ix: ix,
              source: source,
              hints: hints
            } ->
              {join, name} = get_source(query, sources, ix, source)

              [
                join_qual(qual, query),
                join,
                " AS ",
                name,
                Enum.map(hints, &[?\s | &1])
                | join_on(qual, expr, sources, query)
              ]
          end)
      ]
    end

    defp join_on(:cross, true, _sources, _query), do: []
    defp join_on(_qual, expr, sources, query), do: [" ON " | expr(expr, sources, query)]

    defp join_qual(:inner, _), do: "INNER JOIN "
    defp join_qual(:left, _), do: "LEFT OUTER JOIN "
    defp join_qual(:right, _), do: "RIGHT OUTER JOIN "
    defp join_qual(:full, _), do: "FULL OUTER JOIN "
    defp join_qual(:cross, _), do: "CROSS JOIN "

    defp join_qual(qual, query),
      do: error!(query, "join qualifier #{inspect(qual)} is not supported by SQLite")

    defp where(%{wheres: wheres} = query, sources), do: boolean(" WHERE ", wheres, sources, query)

    defp having(%{havings: havings} = query, sources),
      do: boolean(" HAVING ", havings, sources, query)

    defp group_by(%{group_bys: []}, _sources), do: []

    defp group_by(%{group_bys: group_bys} = query, sources) do
      [
        " GROUP BY "
        | Enum.map_intersperse(group_bys, ", ", fn %ByExpr{expr: expr} ->
            Enum.map_intersperse(expr, ", ", &expr(&1, sources, query))
          end)
      ]
    end

    defp window(%{windows: []}, _sources), do: []

    defp window(%{windows: windows} = query, sources) do
      [
        " WINDOW "
        | Enum.map_intersperse(windows, ", ", fn {name, %{expr: kw}} ->
            [quote_name(name), " AS " | window_exprs(kw, sources, query)]
          end)
      ]
    end

    defp window_exprs(kw, sources, query),
      do: [?(, Enum.map_intersperse(kw, ?\s, &window_expr(&1, sources, query)), ?)]

    defp window_expr({:partition_by, fields}, sources, query),
      do: ["PARTITION BY " | Enum.map_intersperse(fields, ", ", &expr(&1, sources, query))]

    defp window_expr({:order_by, fields}, sources, query),
      do: ["ORDER BY " | Enum.map_intersperse(fields, ", ", &order_by_expr(&1, sources, query))]

    defp window_expr({:frame, {:fragment, _, _} = fragment}, sources, query),
      do: expr(fragment, sources, query)

    defp order_by(%{order_bys: []}, _sources), do: []

    defp order_by(%{order_bys: order_bys} = query, sources) do
      exprs = Enum.flat_map(order_bys, & &1.expr)
      [" ORDER BY " | Enum.map_intersperse(exprs, ", ", &order_by_expr(&1, sources, query))]
    end

    defp order_by_expr({dir, expr}, sources, query) do
      str = expr(expr, sources, query)

      case dir do
        :asc -> str
        :asc_nulls_last -> [str | " ASC NULLS LAST"]
        :asc_nulls_first -> [str | " ASC NULLS FIRST"]
        :desc -> [str | " DESC"]
        :desc_nulls_last -> [str | " DESC NULLS LAST"]
        :desc_nulls_first -> [str | " DESC NULLS FIRST"]
      end
    end

    defp limit(%{limit: nil}, _sources), do: []

    defp limit(%{limit: %{with_ties: true}} = query, _sources),
      do: error!(query, "SQLite does not support LIMIT ... WITH TIES")

    defp limit(%{limit: %{expr: expr}} = query, sources),
      do: [" LIMIT " | expr(expr, sources, query)]

    defp offset(%{offset: nil, limit: _}, _sources), do: []

    # SQLite needs a LIMIT before OFFSET: -1 is no limit.
    defp offset(%{offset: %QueryExpr{expr: expr}, limit: nil} = query, sources),
      do: [" LIMIT -1 OFFSET " | expr(expr, sources, query)]

    defp offset(%{offset: %QueryExpr{expr: expr}} = query, sources),
      do: [" OFFSET " | expr(expr, sources, query)]

    defp combinations(%{combinations: combinations}, as_prefix) do
      Enum.map(combinations, fn
        {:union, query} -> [" UNION ", combination(query, as_prefix)]
        {:union_all, query} -> [" UNION ALL ", combination(query, as_prefix)]
        {:except, query} -> [" EXCEPT ", combination(query, as_prefix)]
        {:intersect, query} -> [" INTERSECT ", combination(query, as_prefix)]
        {op, query} -> error!(query, "SQLite does not support #{op}")
      end)
    end

    # A member of a compound SELECT cannot carry ORDER BY, LIMIT, OFFSET or WITH in SQLite,
    # and one that is itself a compound would merge with it: such a member is a subquery.
    # Others are written as they are, which the recursive member of a recursive CTE must be
    # (SQLite finds the CTE's name only in that SELECT's own FROM).
    defp combination(query, as_prefix) do
      if query.order_bys != [] or query.limit != nil or query.offset != nil or
           query.combinations != [] or match?(%WithExpr{queries: [_ | _]}, query.with_ctes),
         do: ["SELECT * FROM (", all(query, as_prefix), ")"],
         else: all(query, as_prefix)
    end

    defp lock(%{lock: nil}), do: []

    defp lock(query),
      do: error!(query, "SQLite has no row locks (FOR UPDATE and the like): remove the lock")

    defp boolean(_name, [], _sources, _query), do: []

    defp boolean(name, [%{expr: expr, op: op} | query_exprs], sources, query) do
      [
        name
        | Enum.reduce(query_exprs, {op, paren_expr(expr, sources, query)}, fn
            %BooleanExpr{expr: expr, op: op}, {op, acc} ->
              {op, [acc, operator_to_boolean(op), paren_expr(expr, sources, query)]}

            %BooleanExpr{expr: expr, op: op}, {_, acc} ->
              {op, [?(, acc, ?), operator_to_boolean(op), paren_expr(expr, sources, query)]}
          end)
          |> elem(1)
      ]
    end

    defp operator_to_boolean(:and), do: " AND "
    defp operator_to_boolean(:or), do: " OR "

    # A fragment that is a query (SELECT, WITH ... SELECT, VALUES) is a subquery wherever it
    # stands (a FROM or JOIN source, an expression).
    defp parens_for_select([first_expr | _] = expr) do
      if is_binary(first_expr) and String.match?(first_expr, ~r/^\s*(select\s|with\s|values\b)/i),
        do: [?(, expr, ?)],
        else: expr
    end

    defp paren_expr(expr, sources, query), do: [?(, expr(expr, sources, query), ?)]

    ## Expressions

    defp expr({:^, [], [ix]}, _sources, _query), do: [?? | Integer.to_string(ix + 1)]

    defp expr({{:., _, [{:parent_as, _, [as]}, field]}, _, []}, _sources, query)
         when is_atom(field) or is_binary(field) do
      {ix, sources} = get_parent_sources_ix(query, as)
      quote_qualified_name(field, sources, ix)
    end

    defp expr({{:., _, [{:&, _, [idx]}, field]}, _, []}, sources, _query)
         when is_atom(field) or is_binary(field),
         do: quote_qualified_name(field, sources, idx)

    defp expr({:&, _, [idx]}, sources, _query) do
      {_, source, _} = elem(sources, idx)
      source
    end

    # SQLite reads `IN ()` too; this is the original adapter's spelling.
    defp expr({:in, _, [left, []]}, sources, query),
      do: [expr(left, sources, query), " IN (SELECT NULL WHERE 1=0)"]

    defp expr({:in, _, [left, right]}, sources, query) when is_list(right) do
      args = Enum.map_intersperse(right, ?,, &expr(&1, sources, query))
      [expr(left, sources, query), " IN (", args, ?)]
    end

    defp expr({:in, _, [left, {:^, _, [_ix, 0]}]}, sources, query),
      do: [expr(left, sources, query), " IN (SELECT NULL WHERE 1=0)"]

    defp expr({:in, _, [left, {:^, _, [ix, length]}]}, sources, query) do
      args = Enum.map_intersperse(1..length, ", ", &[?? | Integer.to_string(ix + &1)])
      [expr(left, sources, query), " IN (", args, ?)]
    end

    defp expr({:in, _, [left, %Ecto.SubQuery{} = subquery]}, sources, query),
      do: [expr(left, sources, query), " IN ", expr(subquery, sources, query)]

    # An array (JSON text) on the right.
    defp expr({:in, _, [left, right]}, sources, query) do
      [
        expr(left, sources, query),
        " IN (SELECT value FROM json_each(",
        expr(right, sources, query),
        "))"
      ]
    end

    defp expr({:is_nil, _, [arg]}, sources, query), do: [expr(arg, sources, query) | " IS NULL"]
    defp expr({:not, _, [expr]}, sources, query), do: ["NOT (", expr(expr, sources, query), ?)]

    defp expr({:exists, _, [%Ecto.SubQuery{} = subquery]}, sources, query),
      do: ["EXISTS ", expr(subquery, sources, query)]

    defp expr(%Ecto.SubQuery{} = subquery, sources, parent_query),
      do: subquery(subquery, sources, {parent_query, sources})

    defp expr({:fragment, _, [kw]}, _sources, query) when is_list(kw) or tuple_size(kw) == 3,
      do: error!(query, "SQLite does not support keyword or interpolated fragments")

    defp expr({:fragment, _, parts}, sources, query) do
      Enum.map(parts, fn
        {:raw, part} -> part
        {:expr, expr} -> expr(expr, sources, query)
      end)
      |> parens_for_select()
    end

    # SQLite names VALUES columns column1, column2...: a SELECT gives them the field names.
    defp expr({:values, _, [types, idx, num_rows]}, _, _query) do
      columns =
        types
        |> Enum.with_index(1)
        |> Enum.map_intersperse(", ", fn {{field, _type}, i} ->
          ["column", Integer.to_string(i), " AS " | quote_name(field)]
        end)

      ["(SELECT ", columns, " FROM (", values_list(types, idx + 1, num_rows), "))"]
    end

    defp expr({:literal, _, [literal]}, _sources, _query), do: quote_name(literal)
    defp expr({:identifier, _, [literal]}, _sources, _query), do: quote_name(literal)

    defp expr({:constant, _, [literal]}, _sources, _query) when is_binary(literal),
      do: quote_string(literal)

    defp expr({:constant, _, [literal]}, _sources, _query) when is_number(literal),
      do: [to_string(literal)]

    defp expr({:splice, _, [{:^, _, [idx, length]}]}, _sources, _query),
      do: Enum.map_join(1..length, ",", &"?#{idx + &1}")

    defp expr({:selected_as, _, [name]}, _sources, _query), do: [quote_name(name)]

    # The microseconds of the ISO 8601 text ecto_dt ("...:SS.ffffff", a shorter fraction, "Z").
    @micro_fraction "(CASE WHEN substr(ecto_dt, 20, 1) = '.' THEN " <>
                      "CAST(substr(replace(substr(ecto_dt, 21, 6), 'Z', '') || '000000', 1, 6) " <>
                      "AS INTEGER) ELSE 0 END)"

    # Months and years move to the same day of the target month, or its last day when the month
    # is shorter (as PostgreSQL does; SQLite's own modifier would run into the next month).
    # ecto_month is the first day of the target month.
    @clamped_month_date "min(date(ecto_month, '+' || (CAST(substr(ecto_dt, 9, 2) AS INTEGER) - 1) " <>
                          "|| ' days'), date(ecto_month, '+1 month', '-1 day'))"

    # Exact to the microsecond (SQLite's own %f stops at milliseconds): the ISO 8601 text is
    # split into whole seconds and microseconds, the interval added in microseconds (months
    # and years as date modifiers), and the result written with six fraction digits. The
    # subqueries evaluate the operand once.
    defp expr({:datetime_add, _, [datetime, count, interval]}, sources, query) do
      base = ["(SELECT ", expr(datetime, sources, query), " AS ecto_dt)"]

      case interval_micros(interval) do
        nil ->
          [
            "(SELECT ",
            @clamped_month_date,
            " || 'T' || substr(ecto_dt, 12, 8) || '.' || printf('%06d', ",
            @micro_fraction,
            ") FROM (SELECT ecto_dt, date(substr(ecto_dt, 1, 10), 'start of month', ",
            modifier(count, interval, sources, query),
            ") AS ecto_month FROM ",
            base,
            "))"
          ]

        micros ->
          [
            "(SELECT strftime('%Y-%m-%dT%H:%M:%S', (ecto_us - ecto_frac) / 1000000, 'unixepoch')",
            " || '.' || printf('%06d', ecto_frac) FROM (SELECT ecto_us,",
            " ((ecto_us % 1000000) + 1000000) % 1000000 AS ecto_frac FROM",
            " (SELECT unixepoch(substr(ecto_dt, 1, 19)) * 1000000 + ",
            @micro_fraction,
            " + CAST(round(",
            count_expr(count, sources, query),
            " * ",
            Integer.to_string(micros),
            ") AS INTEGER) AS ecto_us FROM ",
            base,
            ")))"
          ]
      end
    end

    defp expr({:date_add, _, [date, count, interval]}, sources, query) do
      base = ["(SELECT ", expr(date, sources, query), " AS ecto_dt)"]

      case interval_micros(interval) do
        nil ->
          [
            "(SELECT ",
            @clamped_month_date,
            " FROM (SELECT ecto_dt, date(substr(ecto_dt, 1, 10), 'start of month', ",
            modifier(count, interval, sources, query),
            ") AS ecto_month FROM ",
            base,
            "))"
          ]

        _ ->
          [
            "date(",
            expr(date, sources, query),
            ", ",
            modifier(count, interval, sources, query),
            ?)
          ]
      end
    end

    # SQLite's JSON paths cannot hold a key with a double quote: such keys are looked up with
    # json_each, the rest of the path with json_extract.
    defp expr({:json_extract_path, _, [expr, path]}, sources, query) do
      path
      |> Enum.chunk_by(&json_quoted_key?/1)
      |> Enum.reduce(expr(expr, sources, query), fn chunk, json ->
        if json_quoted_key?(hd(chunk)) do
          Enum.reduce(chunk, json, fn key, json ->
            ["(SELECT value FROM json_each(", json, ") WHERE key = ", quote_string(key), ")"]
          end)
        else
          ["json_extract(", json, ", ", json_path(chunk, sources, query), ")"]
        end
      end)
    end

    defp expr({:filter, _, [agg, filter]}, sources, query),
      do: [expr(agg, sources, query), " FILTER (WHERE ", expr(filter, sources, query), ?)]

    defp expr({:over, _, [agg, name]}, sources, query) when is_atom(name),
      do: [expr(agg, sources, query), " OVER " | quote_name(name)]

    defp expr({:over, _, [agg, kw]}, sources, query),
      do: [expr(agg, sources, query), " OVER ", window_exprs(kw, sources, query)]

    defp expr({:{}, _, elems}, sources, query),
      do: [?(, Enum.map_intersperse(elems, ?,, &expr(&1, sources, query)), ?)]

    defp expr({:count, _, []}, _sources, _query), do: "count(*)"

    # count(p): the rows where the binding is present (a left join's missing rows are not), as
    # its primary key tells: SQLite has no row values to count.
    defp expr({:count, meta, [{:&, _, [ix]} | distinct]}, sources, query) do
      case primary_key_columns(sources, ix) do
        [key | _] ->
          expr({:count, meta, [key_expr(ix, key) | distinct]}, sources, query)

        nil ->
          error!(
            query,
            "SQLite cannot count a binding without a schema that has a primary key " <>
              "(count/1 of binding #{ix}): count one of its columns instead"
          )
      end
    end

    defp expr({fun, _, args}, sources, query) when is_atom(fun) and is_list(args) do
      {modifier, args} =
        case args do
          [rest, :distinct] -> {"DISTINCT ", [rest]}
          _ -> {[], args}
        end

      case handle_call(fun, length(args)) do
        {:binary_op, op} ->
          [left, right] = args
          [maybe_paren(left, sources, query), op | maybe_paren(right, sources, query)]

        {:fun, fun} ->
          [fun, ?(, modifier, Enum.map_intersperse(args, ", ", &expr(&1, sources, query)), ?)]
      end
    end

    defp expr(list, sources, query) when is_list(list),
      do: ["json_array(", Enum.map_intersperse(list, ?,, &expr(&1, sources, query)), ?)]

    defp expr(%Decimal{} = decimal, _sources, _query), do: Decimal.to_string(decimal, :normal)

    defp expr(%Ecto.Query.Tagged{value: binary, type: :binary}, sources, query)
         when is_binary(binary),
         do: expr(binary, sources, query)

    defp expr(%Ecto.Query.Tagged{value: other, type: type}, sources, query)
         when type in [:integer, :id, :float, :decimal, :string, :binary] do
      ["CAST(", expr(other, sources, query), " AS ", cast_type(type), ?)]
    end

    defp expr(%Ecto.Query.Tagged{value: other}, sources, query), do: expr(other, sources, query)

    defp expr(nil, _sources, _query), do: "NULL"
    defp expr(true, _sources, _query), do: "1"
    defp expr(false, _sources, _query), do: "0"

    # Binaries as the driver binds them: UTF-8 as TEXT (written as a cast BLOB literal when it
    # holds NUL, which an SQL string literal cannot), anything else as a BLOB.
    defp expr(literal, _sources, _query) when is_binary(literal), do: binary_literal(literal)

    defp expr(literal, _sources, _query) when is_integer(literal),
      do: Integer.to_string(literal)

    defp expr(literal, _sources, _query) when is_float(literal), do: Float.to_string(literal)

    defp expr(expr, _sources, query),
      do: error!(query, "unsupported expression for SQLite: #{inspect(expr)}")

    defp cast_type(type) when type in [:integer, :id], do: "INTEGER"
    defp cast_type(:float), do: "REAL"
    defp cast_type(:decimal), do: "NUMERIC"
    defp cast_type(:string), do: "TEXT"
    defp cast_type(:binary), do: "BLOB"

    defp json_quoted_key?(key), do: is_binary(key) and String.contains?(key, "\"")

    # A JSON path: one literal ('$."a"[0]') when every element is known, otherwise the path is
    # built in SQL, an element taken from a field or parameter becoming an index when it is an
    # integer and a key otherwise.
    defp json_path(path, sources, query) do
      elements =
        Enum.map(path, fn
          key when is_binary(key) ->
            {:literal, [?., ?", key, ?"]}

          # SQLite counts from the end with "#-1" (the last element).
          index when is_integer(index) and index < 0 ->
            {:literal, [?[, ?#, Integer.to_string(index), ?]]}

          index when is_integer(index) ->
            {:literal, [?[, Integer.to_string(index), ?]]}

          other ->
            value = expr(other, sources, query)

            {:expr,
             [
               "(CASE WHEN typeof(",
               value,
               ") = 'integer' THEN '[' || ",
               value,
               " || ']' ELSE '.\"' || ",
               value,
               " || '\"' END)"
             ]}
        end)

      if Enum.all?(elements, &match?({:literal, _}, &1)) do
        quote_string(IO.iodata_to_binary(["$" | Enum.map(elements, &elem(&1, 1))]))
      else
        Enum.map_intersperse([{:literal, "$"} | elements], " || ", fn
          {:literal, text} -> quote_string(IO.iodata_to_binary(text))
          {:expr, sql} -> sql
        end)
      end
    end

    # Intervals of fixed length, in microseconds; months and years have none.
    defp interval_micros("week"), do: 604_800_000_000
    defp interval_micros("day"), do: 86_400_000_000
    defp interval_micros("hour"), do: 3_600_000_000
    defp interval_micros("minute"), do: 60_000_000
    defp interval_micros("second"), do: 1_000_000
    defp interval_micros("millisecond"), do: 1000
    defp interval_micros("microsecond"), do: 1
    defp interval_micros(_), do: nil

    defp count_expr(n, _sources, _query) when is_number(n), do: to_string(n)
    defp count_expr(%Decimal{} = d, _sources, _query), do: Decimal.to_string(d, :normal)
    defp count_expr(other, sources, query), do: ["(", expr(other, sources, query), " + 0)"]

    # An SQLite date modifier: "+3 days". Weeks become days, sub-second units seconds.
    defp modifier(count, interval, sources, query) do
      {factor, unit} =
        case interval do
          "year" -> {1, "years"}
          "month" -> {1, "months"}
          "week" -> {7, "days"}
          "day" -> {1, "days"}
          "hour" -> {1, "hours"}
          "minute" -> {1, "minutes"}
          "second" -> {1, "seconds"}
          "millisecond" -> {0.001, "seconds"}
          "microsecond" -> {0.000001, "seconds"}
          other -> error!(query, "unsupported interval for SQLite: #{inspect(other)}")
        end

      case count do
        n when is_integer(n) and factor == 1 ->
          [?', Integer.to_string(n), ?\s, unit, ?']

        n when is_number(n) ->
          [?', to_string(n * factor), ?\s, unit, ?']

        other ->
          [
            "CAST(",
            expr(other, sources, query),
            if(factor == 1, do: [], else: [" * ", to_string(factor)]),
            " AS TEXT) || ' ",
            unit,
            ?'
          ]
      end
    end

    defp values_list(types, idx, num_rows) do
      rows = :lists.seq(1, num_rows, 1)

      [
        "VALUES ",
        intersperse_reduce(rows, ?,, idx, fn _, idx ->
          {value, idx} =
            intersperse_reduce(types, ?,, idx, fn {_field, _type}, idx ->
              {[?? | Integer.to_string(idx)], idx + 1}
            end)

          {[?(, value, ?)], idx}
        end)
        |> elem(0)
      ]
    end

    defp maybe_paren({op, _, [_, _]} = expr, sources, query) when op in @binary_ops,
      do: paren_expr(expr, sources, query)

    defp maybe_paren({:is_nil, _, [_]} = expr, sources, query),
      do: paren_expr(expr, sources, query)

    defp maybe_paren(expr, sources, query), do: expr(expr, sources, query)

    # RETURNING may only name columns of the modified table, unqualified.
    defp returning(%{select: nil}, _sources), do: []

    defp returning(%{select: %{fields: fields}} = query, sources) do
      {_, other} =
        Macro.prewalk(fields, nil, fn
          {:&, _, [ix]} = node, nil when ix != 0 -> {node, ix}
          node, acc -> {node, acc}
        end)

      if other do
        error!(
          query,
          "SQLite's RETURNING names columns of the updated or deleted table only, " <>
            "not of joined tables (the select names binding #{other})"
        )
      end

      {table, _name, schema} = elem(sources, 0)
      sources = put_elem(sources, 0, {table, nil, schema})
      [" RETURNING " | select_fields(fields, sources, query)]
    end

    defp returning([]), do: []

    defp returning(returning),
      do: [" RETURNING " | Enum.map_intersperse(returning, ?,, &quote_name/1)]

    defp create_names(%{sources: sources}, as_prefix) do
      create_names(sources, 0, tuple_size(sources), as_prefix) |> List.to_tuple()
    end

    defp create_names(sources, pos, limit, as_prefix) when pos < limit,
      do: [
        create_name(sources, pos, as_prefix) | create_names(sources, pos + 1, limit, as_prefix)
      ]

    defp create_names(_sources, pos, pos, as_prefix), do: [as_prefix]

    defp subquery_as_prefix(sources), do: [?s | :erlang.element(tuple_size(sources), sources)]

    defp create_name(sources, pos, as_prefix) do
      case elem(sources, pos) do
        {:fragment, _, _} ->
          {nil, as_prefix ++ [?f | Integer.to_string(pos)], nil}

        {:values, _, _} ->
          {nil, as_prefix ++ [?v | Integer.to_string(pos)], nil}

        {table, schema, prefix} ->
          name = as_prefix ++ [create_alias(table) | Integer.to_string(pos)]
          {quote_table(prefix, table), name, schema}

        %Ecto.SubQuery{} ->
          {nil, as_prefix ++ [?s | Integer.to_string(pos)], nil}
      end
    end

    defp create_alias(<<first, _rest::binary>>) when first in ?a..?z when first in ?A..?Z,
      do: first

    defp create_alias(_), do: ?t

    defp get_source(query, sources, ix, source) do
      {expr, name, _schema} = elem(sources, ix)
      name = maybe_add_column_names(source, name)

      case {expr, source} do
        # A subquery in FROM or JOIN: it may not name its query's bindings (see below).
        {nil, %Ecto.SubQuery{}} -> {subquery(source, sources, {:source, query, sources}), name}
        _ -> {expr || expr(source, sources, query), name}
      end
    end

    # `parent` ({parent_query, sources}, or {:source, ...} for a FROM or JOIN source) is how
    # parent_as/1 in the subquery finds the parent query's bindings.
    defp subquery(%Ecto.SubQuery{query: query}, sources, parent) do
      combinations =
        Enum.map(query.combinations, fn {type, combination_query} ->
          {type, put_in(combination_query.aliases[@parent_as], parent)}
        end)

      query = put_in(query.combinations, combinations)
      query = put_in(query.aliases[@parent_as], parent)
      [?(, all(query, subquery_as_prefix(sources)), ?)]
    end

    defp maybe_add_column_names(_, name), do: name

    defp get_parent_sources_ix(query, as) do
      case query.aliases[@parent_as] do
        {%{aliases: %{^as => ix}}, sources} ->
          {ix, sources}

        {%{} = parent, _sources} ->
          get_parent_sources_ix(parent, as)

        # A subquery in FROM or JOIN cannot see the other tables of that FROM in SQLite (that
        # is a lateral join); the tables of queries around it it can.
        {:source, %{aliases: %{^as => _}}, _sources} ->
          error!(
            query,
            "SQLite cannot run a subquery in FROM or JOIN that names a binding of the query " <>
              "it is joined in (parent_as(#{inspect(as)})): that is a lateral join, which " <>
              "SQLite does not have"
          )

        {:source, parent, _sources} ->
          get_parent_sources_ix(parent, as)
      end
    end

    defp quote_qualified_name(name, sources, ix) do
      case elem(sources, ix) do
        {_, nil, _} -> quote_name(name)
        {_, source, _} -> [source, ?. | quote_name(name)]
      end
    end

    ## DDL (Ecto.Adapters.LibSql.DDL)

    @impl true
    defdelegate execute_ddl(command), to: DDL

    @impl true
    def ddl_logs(_result), do: []

    ## Helpers

    @doc false
    @spec quote_name(String.t() | atom()) :: String.t()
    defdelegate quote_name(name), to: EctoLibSql.SQL

    defp intersperse_reduce(list, separator, user_acc, reducer, acc \\ [])

    defp intersperse_reduce([], _separator, user_acc, _reducer, acc),
      do: {acc, user_acc}

    defp intersperse_reduce([elem], _separator, user_acc, reducer, acc) do
      {elem, user_acc} = reducer.(elem, user_acc)
      {[acc | elem], user_acc}
    end

    defp intersperse_reduce([elem | rest], separator, user_acc, reducer, acc) do
      {elem, user_acc} = reducer.(elem, user_acc)
      intersperse_reduce(rest, separator, user_acc, reducer, [acc, elem, separator])
    end

    defp error!(nil, message), do: raise(ArgumentError, message)
    defp error!(query, message), do: raise(Ecto.QueryError, query: query, message: message)
  end
end
