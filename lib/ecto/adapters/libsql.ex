if Code.ensure_loaded?(Ecto.Adapters.SQL) do
  defmodule Ecto.Adapters.LibSql do
    @moduledoc """
    Ecto adapter for libSQL and Turso: local database files, remote servers and embedded
    replicas, over the `EctoLibSql` driver.

        config :my_app, MyApp.Repo,
          adapter: Ecto.Adapters.LibSql,
          database: "my_app.db"

    Storage: dates and times are ISO 8601 text, booleans 0/1, maps and arrays JSON text,
    decimals numbers SQLite holds exactly (a decimal it cannot hold raises), UUIDs
    (`:binary_id`, `Ecto.UUID`) their text form.
    Schemaless selects of NUMERIC / DECIMAL columns answer decimals.

    Prefixes are attached databases: `attach: [name: path]` attaches them on every connection.

    Migrations: column changes SQLite's `ALTER TABLE` cannot make (`modify`, adding or dropping
    constraints, adding a primary key column, removing a key column) rebuild the table inside
    the migration's transaction, keeping its rows, indexes, triggers and the references to it.
    `add_if_not_exists` / `remove_if_exists` look the column up first.
    The migration lock of a local database is an immediate transaction on a lock file next to
    the database (`<database>-migration-lock`), so migrators in other OS processes and nodes
    sharing the file wait for each other. A database on a server (remote mode, embedded
    replicas) is locked by a row of a table on the server (`<migration_source>_lock`), so
    migrators on every machine wait for each other; a replica syncs when it has the lock, and
    its migrations run on the server.

    Storage: `mix ecto.create` creates a local file, bootstraps an embedded replica from its
    server, and checks that a remote database answers; `mix ecto.drop` removes local files (a
    replica's too), never a database on a server. Structure dumps and loads of remote databases
    and replicas read and write the server's schema. See docs/ecto.md.
    """

    use Ecto.Adapters.SQL, driver: :ecto_libsql

    @behaviour Ecto.Adapter.Storage
    @behaviour Ecto.Adapter.Structure

    alias Ecto.Adapters.LibSql.{Codec, Connection, MigrationLock, Rebuild}

    defoverridable init: 1

    # The adapter meta keeps where the database is, so DDL knows whether it runs on a server,
    # and the connection options (behind a function: meta shows up in logs, the token must not)
    # for the migration lock.
    @impl Ecto.Adapter
    def init(config) do
      {:ok, child_spec, meta} = super(config)

      # What the adapter needs to know of the repo's database (printable: no secret, the URL
      # redacted), and a function answering the whole configuration for connections of its own
      # (the migration lock, replica syncs).
      location =
        EctoLibSql.Options.printable(Keyword.take(config, [:database, :uri, :offline])) ++
          [mode: EctoLibSql.State.detect_mode(config), options: fn -> config end]

      {:ok, child_spec, Map.put(meta, :libsql, location)}
    end

    ## Types

    @impl Ecto.Adapter
    def loaders(:boolean, type), do: [&Codec.load_boolean/1, type]
    def loaders(:binary_id, type), do: [&Codec.load_binary_id/1, type]
    def loaders(:uuid, type), do: [&Codec.load_uuid/1, type]
    def loaders(:map, type), do: [&Codec.load_json/1, type]

    def loaders({:map, _}, type),
      do: [&Codec.load_json/1, &Ecto.Type.embedded_load(type, &1, :json)]

    def loaders({:array, _}, type), do: [&Codec.load_array/1, type]
    def loaders(:float, type), do: [&Codec.load_float/1, type]
    def loaders(:decimal, type), do: [&Codec.load_decimal/1, type]
    def loaders(:date, type), do: [&Codec.load_date/1, type]
    def loaders(:time, type), do: [&Codec.load_time/1, type]
    def loaders(:time_usec, type), do: [&Codec.load_time/1, type]
    def loaders(:naive_datetime, type), do: [&Codec.load_naive/1, type]
    def loaders(:naive_datetime_usec, type), do: [&Codec.load_naive/1, type]
    def loaders(:utc_datetime, type), do: [&Codec.load_utc/1, type]
    def loaders(:utc_datetime_usec, type), do: [&Codec.load_utc/1, type]
    def loaders(:duration, type), do: [&Codec.load_duration/1, type]
    def loaders(_, type), do: [type]

    @impl Ecto.Adapter
    def dumpers(:boolean, type), do: [type, &Codec.dump_boolean/1]
    def dumpers(:decimal, type), do: [type, &Codec.dump_decimal/1]

    def dumpers(primitive, type)
        when primitive in [
               :date,
               :time,
               :time_usec,
               :naive_datetime,
               :naive_datetime_usec,
               :utc_datetime,
               :utc_datetime_usec
             ],
        do: [type, &Codec.dump_iso8601/1]

    def dumpers(:binary_id, type), do: [type, &Codec.dump_uuid/1]
    def dumpers(:uuid, type), do: [type, &Codec.dump_uuid/1]

    def dumpers({:map, _}, type),
      do: [&Ecto.Type.embedded_dump(type, &1, :json), &Codec.dump_json/1]

    def dumpers(:map, type), do: [type, &Codec.dump_json/1]
    def dumpers({:array, _}, type), do: [type, &Codec.dump_json/1]
    def dumpers(:duration, type), do: [type, &Codec.dump_duration/1]
    def dumpers(_, type), do: [type]

    # Binary ids are stored in their text form, as the original adapter stores them.
    @impl Ecto.Adapter.Schema
    def autogenerate(:binary_id), do: Ecto.UUID.generate()
    def autogenerate(type), do: super(type)

    ## Schemaless selects of NUMERIC columns

    # SQLite's values carry no column type: a NUMERIC column holds integers, reals or text. A
    # select of schemaless fields (type :any) of NUMERIC / DECIMAL columns answers Decimals, as
    # PostgreSQL's numeric does: prepare notes which row positions are such fields (in the
    # cached query's id), and execute reads the columns' declared types on the same connection
    # (so a column changed in the current transaction counts) and converts those positions.
    # Streams return the stored values.
    @impl Ecto.Adapter.Queryable
    def prepare(:all, query) do
      {:cache, {id, sql}} = super(:all, query)

      case schemaless_fields(query) do
        [] -> {:cache, {id, sql}}
        fields -> {:cache, {{id, fields}, sql}}
      end
    end

    def prepare(kind, query), do: super(kind, query)

    @impl Ecto.Adapter.Queryable
    def execute(meta, query_meta, {:cache, update, {{id, fields}, sql}}, params, opts) do
      update = fn {id, query} -> update.({{id, fields}, query}) end

      meta
      |> super(query_meta, {:cache, update, {id, sql}}, params, opts)
      |> numeric_fields(meta, fields)
    end

    def execute(meta, query_meta, {:cached, update, reset, {{id, fields}, cached}}, params, opts) do
      update = fn {id, query} -> update.({{id, fields}, query}) end
      reset = fn {id, sql} -> reset.({{id, fields}, sql}) end

      meta
      |> super(query_meta, {:cached, update, reset, {id, cached}}, params, opts)
      |> numeric_fields(meta, fields)
    end

    def execute(meta, query_meta, {:nocache, {{id, fields}, sql}}, params, opts) do
      meta
      |> super(query_meta, {:nocache, {id, sql}}, params, opts)
      |> numeric_fields(meta, fields)
    end

    def execute(meta, query_meta, prepared, params, opts),
      do: super(meta, query_meta, prepared, params, opts)

    defp schemaless_fields(%Ecto.Query{select: %{fields: fields}, sources: sources})
         when is_list(fields) do
      fields
      |> Enum.with_index()
      |> Enum.flat_map(fn
        {{{:., meta, [{:&, _, [ix]}, field]}, _, []}, pos} when is_atom(field) ->
          case {meta[:type], elem(sources, ix)} do
            {:any, {table, nil, prefix}} when is_binary(table) -> [{pos, prefix, table, field}]
            _ -> []
          end

        _ ->
          []
      end)
    end

    defp schemaless_fields(_query), do: []

    defp numeric_fields({_count, []} = result, _meta, _fields), do: result

    defp numeric_fields({count, rows}, meta, fields) do
      numeric =
        fields
        |> Enum.group_by(fn {_pos, prefix, table, _field} -> {prefix, table} end)
        |> Enum.flat_map(fn {{prefix, table}, fields} ->
          declared = declared_types(meta, prefix, table)

          for {pos, _, _, field} <- fields,
              type = Map.get(declared, Atom.to_string(field), ""),
              type =~ ~r/NUMERIC|DECIMAL/i,
              do: pos
        end)

      if numeric == [] do
        {count, rows}
      else
        {count, Enum.map(rows, &decimals(&1, numeric))}
      end
    end

    defp declared_types(meta, prefix, table) do
      schema = if prefix, do: [Connection.quote_name(to_string(prefix)), ?.], else: []

      sql =
        IO.iodata_to_binary(["PRAGMA ", schema, "table_xinfo(", Connection.quote_name(table), ?)])

      case Ecto.Adapters.SQL.query(meta, sql, [], log: false, telemetry_event: nil) do
        {:ok, %{columns: columns, rows: rows}} ->
          name = Enum.find_index(columns, &(&1 == "name"))
          type = Enum.find_index(columns, &(&1 == "type"))
          Map.new(rows, &{Enum.at(&1, name), Enum.at(&1, type)})

        {:error, _} ->
          %{}
      end
    end

    defp decimals(row, positions) do
      Enum.reduce(positions, row, fn pos, row ->
        List.update_at(row, pos, fn value ->
          case Codec.load_decimal(value) do
            {:ok, decimal} -> decimal
            :error -> value
          end
        end)
      end)
    end

    ## insert_all

    # SQLite has no DEFAULT in VALUES: rows that leave out fields others set are split into runs
    # of contiguous rows setting the same fields, one INSERT each (a row setting none is
    # `DEFAULT VALUES`), in one transaction. Counts add up; returned rows keep the input order.
    # Rows holding queries stay one statement (Ecto numbers a query's parameters across the
    # whole statement): there a missing field is NULL.
    @impl Ecto.Adapter.Schema
    def insert_all(meta, schema_meta, header, rows, on_conflict, returning, placeholders, opts)
        when is_list(rows) do
      if Enum.any?(rows, fn row -> Enum.any?(row, &match?({_, {%Ecto.Query{}, _}}, &1)) end),
        do: super(meta, schema_meta, header, rows, on_conflict, returning, placeholders, opts),
        else:
          insert_runs(meta, schema_meta, header, rows, on_conflict, returning, placeholders, opts)
    end

    def insert_all(meta, schema_meta, header, query, on_conflict, returning, placeholders, opts),
      do: super(meta, schema_meta, header, query, on_conflict, returning, placeholders, opts)

    defp insert_runs(meta, schema_meta, header, rows, on_conflict, returning, placeholders, opts) do
      insert = fn fields, rows ->
        Ecto.Adapters.SQL.insert_all(
          meta,
          schema_meta,
          Connection,
          fields,
          rows,
          on_conflict,
          returning,
          placeholders,
          opts
        )
      end

      runs =
        rows
        |> Enum.chunk_by(fn row -> for key <- header, :lists.keymember(key, 1, row), do: key end)
        |> Enum.flat_map(fn [row | _] = run ->
          case for(key <- header, :lists.keymember(key, 1, row), do: key) do
            [] -> Enum.map(run, &{[], [&1]})
            fields -> [{fields, run}]
          end
        end)

      case runs do
        [] ->
          insert.(header, rows)

        [{fields, _}] ->
          insert.(fields, rows)

        runs ->
          {:ok, result} =
            transaction(meta, opts, fn ->
              Enum.reduce(runs, {0, nil}, fn {fields, run}, {count, returned} ->
                {n, rows} = insert.(fields, run)
                {count + n, if(rows, do: (returned || []) ++ rows, else: returned)}
              end)
            end)

          result
      end
    end

    ## Migrations

    @impl true
    def supports_ddl_transaction?, do: true

    @impl true
    def execute_ddl(meta, definition, opts) do
      check_random_rowid!(Map.get(meta, :libsql, meta.opts), definition)

      case Rebuild.plan(definition) do
        :sql ->
          run = fn -> super(meta, definition, opts) end
          if migrations_table?(meta, definition, opts), do: wait_while_busy(run), else: run.()

        {:adapter, fun} ->
          fun.(meta, opts)
      end
    end

    # RANDOM ROWID is libSQL's: servers (remote and replica modes) have it, the SQLite that opens
    # local databases does not. Said here, where the mode is known, rather than as SQLite's
    # syntax error.
    defp check_random_rowid!(location, {command, %Ecto.Migration.Table{options: options}, _})
         when command in [:create, :create_if_not_exists] and is_list(options) do
      if Keyword.keyword?(options) and Keyword.get(options, :random_rowid) == true and
           is_nil(location[:uri]) do
        raise ArgumentError,
              "random_rowid: true is libSQL's RANDOM ROWID, a libSQL server feature: it works " <>
                "in remote and replica modes, but this repo opens a local database with " <>
                "SQLite, which does not have it"
      end
    end

    defp check_random_rowid!(_location, _definition), do: :ok

    # Ecto creates its migrations table before it takes the migration lock. On a server another
    # migrator's migration may hold the write lock meanwhile: the creation waits for it (up to
    # @busy_wait ms), as the migrators wait for the lock.
    @busy_wait 120_000

    defp migrations_table?(meta, definition, opts) do
      opts[:schema_migration] == true and
        match?({:create_if_not_exists, %Ecto.Migration.Table{}, _}, definition) and
        match?({:server, _}, lock_place(Map.get(meta, :libsql, [])))
    end

    defp wait_while_busy(run, waited \\ 0) do
      run.()
    rescue
      e in EctoLibSql.Error ->
        if e.sqlite[:code] in [:busy, :locked] and waited < @busy_wait do
          Process.sleep(500)
          wait_while_busy(run, waited + 500)
        else
          reraise e, __STACKTRACE__
        end
    end

    @impl true
    def lock_for_migrations(meta, opts, fun) do
      location = Map.get(meta, :libsql, [])
      source = opts[:migration_source] || "schema_migrations"

      case lock_place(location) do
        {:file, path} ->
          {:ok, lock} = EctoLibSql.Native.connect(database: path, busy_timeout: :timer.hours(1))

          try do
            {:ok, _, _, _} =
              EctoLibSql.Native.query(lock, %EctoLibSql.Query{statement: "BEGIN IMMEDIATE"}, [])

            fun.()
          after
            EctoLibSql.Native.close(lock)
          end

        {:server, config} ->
          replica? = location[:mode] == :remote_replica

          MigrationLock.run(server_options(config), MigrationLock.table(source), fn ->
            # The migrated versions are read from the replica: it catches up with what the
            # migrator before this one did, and afterwards with what this one did (also when
            # read_your_writes is off).
            if replica?, do: sync_replica!(config)
            result = fun.()
            if replica?, do: sync_replica(config)
            result
          end)

        nil ->
          fun.()
      end
    end

    # Local files and offline replicas (whose writes go to the local file) lock a file next to
    # the database; remote databases and replicas lock a row on the server.
    defp lock_place(location) do
      case {location[:mode], location[:database], location[:offline] == true} do
        {:local, db, _} when is_binary(db) and db != ":memory:" ->
          if String.starts_with?(db, "file:"), do: nil, else: {:file, db <> "-migration-lock"}

        {:remote_replica, db, true} when is_binary(db) ->
          {:file, db <> "-migration-lock"}

        {mode, _, _} when mode in [:remote, :remote_replica] ->
          {:server, location[:options].()}

        _ ->
          nil
      end
    end

    # The options of a connection to the server of a remote database or replica.
    defp server_options(config) do
      Keyword.take(config, [
        :uri,
        :auth_token,
        :tls_ca_file,
        :connect_timeout,
        :request_timeout,
        :transport,
        :remote_encryption_key
      ])
    end

    # Opens the replica of `config` on its own and pulls.
    defp sync_replica!(config) do
      case sync_replica(config) do
        :ok -> :ok
        {:error, message} -> raise "cannot sync the replica #{config[:database]}: #{message}"
      end
    end

    defp sync_replica(config) do
      with_connection(Keyword.put(config, :sync, false), fn state ->
        with {:ok, _} <- EctoLibSql.Native.sync(state), do: :ok
      end)
    end

    # Runs `fun` on a connection of its own, closed afterwards; answers {:error, message} when
    # the connection does not open.
    defp with_connection(opts, fun) do
      case EctoLibSql.Native.connect(opts) do
        {:ok, state} ->
          try do
            fun.(state)
          after
            EctoLibSql.Native.close(state)
          end

        {:error, error} ->
          {:error, Exception.message(error)}
      end
    end

    ## Storage

    # Local files are created and removed here. An embedded replica is bootstrapped from its
    # server (its local files removed by storage_down); a database on a server is created and
    # dropped with the server's own tools, never here.

    # Every file of a local database or replica: journals, encryption tags, the migration lock
    # file, and a replica's sync state, lock, offline-write copies and bootstrap leftovers.
    @local_files [
      "",
      "-journal",
      "-journal-spare",
      "-wal",
      "-shm",
      "-integrity",
      "-migration-lock",
      "-sync",
      "-sync.lock",
      "-base",
      "-base-integrity",
      "-push",
      "-pull",
      ".bootstrap",
      ".bootstrap-integrity"
    ]

    @impl Ecto.Adapter.Storage
    def storage_up(opts) do
      case storage_mode(opts) do
        :local -> local_up(opts)
        :remote -> server_up(opts)
        :remote_replica -> replica_up(opts)
        {:error, _} = error -> error
      end
    end

    @impl Ecto.Adapter.Storage
    def storage_down(opts) do
      case storage_mode(opts) do
        # Dropped on its server (for Turso: turso db destroy <name>), never here: the original
        # adapter's answer.
        :remote ->
          {:error, :not_supported}

        {:error, _} = error ->
          error

        _local_or_replica ->
          path = Path.expand(opts[:database])

          if File.exists?(path) do
            for suffix <- @local_files, do: File.rm(path <> suffix)
            :ok
          else
            {:error, :already_down}
          end
      end
    end

    @impl Ecto.Adapter.Storage
    def storage_status(opts) do
      case storage_mode(opts) do
        :local ->
          if File.exists?(Path.expand(opts[:database])), do: :up, else: :down

        :remote_replica ->
          path = Path.expand(opts[:database])
          if File.exists?(path) and File.exists?(path <> "-sync"), do: :up, else: :down

        :remote ->
          case server_check(opts) do
            :ok -> :up
            error -> error
          end

        {:error, _} = error ->
          error
      end
    end

    defp storage_mode(opts) do
      case EctoLibSql.State.detect_mode(opts) do
        :local ->
          cond do
            opts[:database] == ":memory:" ->
              {:error, "an in-memory database has no storage to manage"}

            String.starts_with?(opts[:database], "file:") ->
              {:error, "a file: URI database is managed by SQLite, not by this adapter"}

            true ->
              :local
          end

        :unknown ->
          raise ArgumentError,
                "the :database option (a local file or replica) or :uri and :auth_token " <>
                  "(a remote database) are required"

        mode ->
          mode
      end
    end

    defp local_up(opts) do
      path = Path.expand(opts[:database])

      if File.exists?(path) do
        {:error, :already_up}
      else
        File.mkdir_p!(Path.dirname(path))

        with_connection(Keyword.take(opts, [:database, :encryption_key]), fn state ->
          # Writing the schema makes the file a database even before the first table.
          EctoLibSql.Native.execute(state, "PRAGMA user_version = 0", [])
          :ok
        end)
      end
    end

    # The database exists on the server when it answers.
    defp server_up(opts) do
      case server_check(opts) do
        :ok -> {:error, :already_up}
        error -> error
      end
    end

    defp server_check(opts) do
      answer =
        with_connection(server_options(opts), fn state ->
          case EctoLibSql.Native.execute(state, "SELECT 1", []) do
            {:ok, _} -> :ok
            {:error, error} -> {:error, Exception.message(error)}
          end
        end)

      with {:error, reason} <- answer do
        {:error,
         "the remote database at #{opts[:uri]} does not answer (#{reason}); a remote database " <>
           "is created on its server (for Turso: turso db create <name>)"}
      end
    end

    # The first connect of a replica bootstraps it: the whole database is pulled.
    defp replica_up(opts) do
      path = Path.expand(opts[:database])

      cond do
        File.exists?(path) and File.exists?(path <> "-sync") ->
          {:error, :already_up}

        File.exists?(path) and File.stat!(path).size > 0 ->
          {:error,
           "#{path} exists but is not an embedded replica (there is no #{path}-sync): " <>
             "remove it (or point :database at a new file) and run mix ecto.create again"}

        true ->
          File.mkdir_p!(Path.dirname(path))

          with {:error, message} <- with_connection(opts, fn _state -> :ok end) do
            {:error, "cannot bootstrap the replica #{path} from #{opts[:uri]}: " <> message}
          end
      end
    end

    ## Structure

    @impl Ecto.Adapter.Structure
    def structure_dump(default, config) do
      path = config[:dump_path] || Path.join(default, "structure.sql")
      migration_source = config[:migration_source] || "schema_migrations"

      with_connection(structure_options(config), fn state ->
        {:ok, _, schema, _} =
          EctoLibSql.Native.query(
            state,
            %EctoLibSql.Query{
              statement:
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' " <>
                  "AND name <> ?1 " <>
                  "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid"
            },
            # The migration lock of server databases is not part of the structure.
            [MigrationLock.table(migration_source)]
          )

        versions =
          case EctoLibSql.Native.query(
                 state,
                 %EctoLibSql.Query{
                   statement: "SELECT version FROM #{migration_source} ORDER BY version"
                 },
                 []
               ) do
            {:ok, _, %{rows: rows}, _} -> Enum.map(rows, &hd/1)
            _ -> []
          end

        sql =
          Enum.map(schema.rows, fn [sql] -> sql <> ";\n" end) ++
            Enum.map(versions, fn v ->
              "INSERT INTO \"#{migration_source}\" (version) VALUES (#{v});\n"
            end)

        File.mkdir_p!(Path.dirname(path))
        File.write!(path, sql)
        {:ok, path}
      end)
    end

    @impl Ecto.Adapter.Structure
    def structure_load(default, config) do
      path = config[:dump_path] || Path.join(default, "structure.sql")

      case File.read(path) do
        {:ok, sql} ->
          with_connection(structure_options(config), &load_structure(&1, sql, config, path))

        {:error, reason} ->
          {:error, inspect(reason)}
      end
    end

    defp load_structure(state, sql, config, path) do
      # On a server the structure loads all or nothing.
      loaded =
        if state.mode == :remote,
          do: EctoLibSql.Native.execute_transactional_batch_sql(state, sql),
          else: EctoLibSql.Native.execute_batch_sql(state, sql)

      case loaded do
        {:ok, _} ->
          # A replica pulls what was loaded on its server.
          if EctoLibSql.State.detect_mode(config) == :remote_replica and
               File.exists?(Path.expand(config[:database])),
             do: sync_replica(config)

          {:ok, path}

        {:error, error} ->
          {:error, if(is_binary(error), do: error, else: Exception.message(error))}
      end
    end

    # The schema of a remote database or replica is the server's: dumps read it there and loads
    # write it there (a replica pulls afterwards). Local files are read and written directly.
    defp structure_options(config) do
      case EctoLibSql.State.detect_mode(config) do
        mode when mode in [:remote, :remote_replica] ->
          if config[:offline] == true,
            do: Keyword.take(config, [:database, :uri, :auth_token, :offline, :encryption_key]),
            else: server_options(config)

        _ ->
          Keyword.take(config, [:database, :encryption_key])
      end
    end

    @impl Ecto.Adapter.Structure
    def dump_cmd(_args, _opts, _config) do
      raise "the libSQL adapter dumps through the driver: use mix ecto.dump"
    end
  end
end
