unless Code.ensure_loaded?(EctoLibSql.ReplicaServers),
  do: Code.require_file("../support/replica_servers.exs", __DIR__)

defmodule Ecto.Adapters.LibSql.ReplicaMixTest do
  @moduledoc false
  # The mix ecto.* tasks, run in-process as ecto_sql's own task tests run them, with a replica
  # config (and a remote one) against each kind of server: create bootstraps the replica, drop
  # removes its local files (never the server's database), dump and load read and write the
  # server's schema, migrate and rollback run on the server and the replica pulls.

  defmodule Repo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end
end

for {kind, name} <- EctoLibSql.ReplicaServers.kinds() do
  defmodule Module.concat(Ecto.Adapters.LibSql.ReplicaMixTest, Macro.camelize("#{kind}")) do
    use ExUnit.Case, async: false

    alias EctoLibSql.{Native, ReplicaServers}
    alias Ecto.Adapters.LibSql.ReplicaMixTest.Repo

    @kind kind
    @moduletag kind: kind
    @moduletag :capture_log
    if reason = ReplicaServers.missing(kind), do: @moduletag(skip: reason)

    @repo ["-r", inspect(Repo)]

    setup do
      shell = Mix.shell()
      Mix.shell(Mix.Shell.Process)
      # Each task compiles the migration files again, as each mix run would.
      conflicts = Code.get_compiler_option(:ignore_module_conflict)
      Code.put_compiler_option(:ignore_module_conflict, true)

      on_exit(fn ->
        Mix.shell(shell)
        Code.put_compiler_option(:ignore_module_conflict, conflicts)
      end)

      dir =
        Path.join(
          System.tmp_dir!(),
          "ecto_libsql_mix_#{System.pid()}_#{System.unique_integer([:positive])}"
        )

      migrations = Path.join(dir, "migrations")
      File.mkdir_p!(migrations)
      on_exit(fn -> File.rm_rf!(dir) end)
      write_migrations!(migrations)
      %{server: ReplicaServers.start!(@kind), dir: dir, migrations: migrations}
    end

    # Two migration files, their modules named uniquely (the migrator compiles the files).
    defp write_migrations!(dir) do
      prefix = "MixMigrations#{System.unique_integer([:positive])}"

      File.write!(Path.join(dir, "1_create_posts.exs"), """
      defmodule #{prefix}.CreatePosts do
        use Ecto.Migration

        def change do
          create table(:posts) do
            add :title, :string
          end

          execute "INSERT INTO posts (title) VALUES ('first')", "SELECT 1"
        end
      end
      """)

      File.write!(Path.join(dir, "2_index_titles.exs"), """
      defmodule #{prefix}.IndexTitles do
        use Ecto.Migration

        def change do
          alter table(:posts) do
            add :slug, :string
          end

          create unique_index(:posts, [:slug])
        end
      end
      """)
    end

    defp configure(config), do: Application.put_env(:ecto_libsql, Repo, [log: false] ++ config)

    defp replica_config(server, db),
      do: ReplicaServers.replica_options(server, db, pool_size: 1)

    defp shell_info do
      receive do
        {:mix_shell, :info, [message]} -> message
      after
        0 -> flunk("the task printed nothing")
      end
    end

    # What the replica's file holds, read without syncing.
    defp local_rows(config, sql) do
      {:ok, state} = Native.connect(Keyword.put(config, :sync, false))

      try do
        {:ok, %{rows: rows}} = Native.execute(state, sql, [])
        rows
      after
        Native.close(state)
      end
    end

    defp versions(server),
      do: ReplicaServers.rows!(server, "SELECT version FROM schema_migrations ORDER BY 1")

    test "create, migrate, rollback, dump, drop, then create, load and migrate a new one", %{
      server: server,
      dir: dir,
      migrations: migrations
    } do
      db = Path.join(dir, "app.db")
      config = replica_config(server, db)
      configure(config)

      Mix.Tasks.Ecto.Create.run(@repo)
      assert shell_info() =~ "has been created"
      assert File.exists?(db) and File.exists?(db <> "-sync")
      assert Ecto.Adapters.LibSql.storage_status(config) == :up
      Mix.Tasks.Ecto.Create.run(@repo)
      assert shell_info() =~ "has already been created"

      Mix.Tasks.Ecto.Migrate.run(@repo ++ ["--migrations-path", migrations, "--quiet"])
      assert versions(server) == [[1], [2]]
      # The replica pulled what ran on the server.
      assert local_rows(config, "SELECT title, slug FROM posts") == [["first", nil]]

      Mix.Tasks.Ecto.Rollback.run(@repo ++ ["--migrations-path", migrations, "--quiet"])
      assert versions(server) == [[1]]

      assert local_rows(config, "SELECT name FROM pragma_table_info('posts')") == [
               ["id"],
               ["title"]
             ]

      dump = Path.join(dir, "structure.sql")
      Mix.Tasks.Ecto.Dump.run(@repo ++ ["--dump-path", dump])
      assert shell_info() =~ "has been dumped"
      structure = File.read!(dump)
      assert structure =~ ~r/CREATE TABLE "?posts"?/
      assert structure =~ ~s[INSERT INTO "schema_migrations" (version) VALUES (1);]
      refute structure =~ "schema_migrations_lock"

      Mix.Tasks.Ecto.Drop.run(@repo)
      assert shell_info() =~ "has been dropped"
      assert Path.wildcard(db <> "*") == []
      assert Ecto.Adapters.LibSql.storage_status(config) == :down
      # The server's database stays.
      assert ReplicaServers.rows!(server, "SELECT title FROM posts") == [["first"]]
      Mix.Tasks.Ecto.Drop.run(@repo)
      assert shell_info() =~ "has already been dropped"

      # A new server and replica: the dump loads on the server, and the replica pulls it.
      other = ReplicaServers.start!(@kind)
      db2 = Path.join(dir, "other.db")
      config2 = replica_config(other, db2)
      configure(config2)
      Mix.Tasks.Ecto.Create.run(@repo)
      assert shell_info() =~ "has been created"
      Mix.Tasks.Ecto.Load.run(@repo ++ ["--dump-path", dump, "--quiet"])
      assert versions(other) == [[1]]
      assert local_rows(config2, "SELECT count(*) FROM posts") == [[0]]
      Mix.Tasks.Ecto.Migrate.run(@repo ++ ["--migrations-path", migrations, "--quiet"])
      assert versions(other) == [[1], [2]]

      assert local_rows(config2, "SELECT name FROM pragma_table_info('posts')") ==
               [["id"], ["title"], ["slug"]]
    end

    test "create refuses a plain file at the replica's path and reports a server that is down",
         %{server: server, dir: dir} do
      plain = Path.join(dir, "plain.db")
      {:ok, state} = Native.connect(database: plain)
      {:ok, _} = Native.execute(state, "CREATE TABLE x(y)", [])
      Native.close(state)
      configure(replica_config(server, plain))

      assert_raise Mix.Error, ~r/plain.db exists but is not an embedded replica/, fn ->
        Mix.Tasks.Ecto.Create.run(@repo)
      end

      ReplicaServers.kill(server)
      db = Path.join(dir, "new.db")
      configure(replica_config(server, db))

      assert_raise Mix.Error, ~r/cannot bootstrap the replica .*new.db from http/, fn ->
        Mix.Tasks.Ecto.Create.run(@repo)
      end

      assert Path.wildcard(db <> "*") == []
    end

    test "remote mode: create finds the database, drop leaves it, migrate, dump and load", %{
      server: server,
      dir: dir,
      migrations: migrations
    } do
      configure(ReplicaServers.remote_options(server) ++ [pool_size: 1])
      Mix.Tasks.Ecto.Create.run(@repo)
      assert shell_info() =~ "has already been created"

      # dropped on its server, never here: the original adapter's answer
      assert_raise Mix.Error, ~r/couldn't be dropped: :not_supported/, fn ->
        Mix.Tasks.Ecto.Drop.run(@repo)
      end

      Mix.Tasks.Ecto.Migrate.run(@repo ++ ["--migrations-path", migrations, "--quiet"])
      assert versions(server) == [[1], [2]]
      dump = Path.join(dir, "remote.sql")
      Mix.Tasks.Ecto.Dump.run(@repo ++ ["--dump-path", dump, "--quiet"])

      other = ReplicaServers.start!(@kind)
      configure(ReplicaServers.remote_options(other) ++ [pool_size: 1])
      Mix.Tasks.Ecto.Load.run(@repo ++ ["--dump-path", dump, "--quiet"])
      assert versions(other) == [[1], [2]]

      assert ReplicaServers.rows!(other, "SELECT name FROM pragma_table_info('posts')") ==
               [["id"], ["title"], ["slug"]]

      ReplicaServers.kill(other)

      assert_raise Mix.Error, ~r/does not answer .*turso db create/, fn ->
        Mix.Tasks.Ecto.Create.run(@repo)
      end
    end
  end
end
