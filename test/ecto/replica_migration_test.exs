unless Code.ensure_loaded?(EctoLibSql.ReplicaServers),
  do: Code.require_file("../support/replica_servers.exs", __DIR__)

defmodule Ecto.Adapters.LibSql.ReplicaMigrationTest do
  @moduledoc false
  # Ecto migrations on embedded replicas (and remote databases), against each kind of server:
  # migrations run on the server, each in a transaction that starts with DDL, and the replica
  # pulls after; the migration lock is a row on the server, so migrators on several replicas
  # take turns.

  defmodule CreateUsers do
    use Ecto.Migration

    def up do
      create table(:users) do
        add(:email, :string, null: false)
        add(:name, :string)
      end

      create(unique_index(:users, [:email]))
      execute("INSERT INTO users (email, name) VALUES ('ann@x', 'Ann'), ('bob@x', 'Bob')")
      # Rows written through the repo in the migration's transaction, after its DDL.
      flush()
      repo().insert_all("users", [[email: "cy@x", name: "Cy"]])
    end

    def down do
      drop(index(:users, [:email]))
      drop(table(:users))
    end
  end

  defmodule AlterUsers do
    use Ecto.Migration

    def change do
      alter table(:users) do
        add(:age, :integer, default: 30)
      end

      create(index(:users, [:age]))
      rename(table(:users), :name, to: :full_name)
    end
  end

  # A table rebuild (what SQLite's ALTER TABLE cannot do): reads the schema, then rewrites the
  # table, in one transaction on the server.
  defmodule ModifyUsers do
    use Ecto.Migration

    def change do
      alter table(:users) do
        modify(:age, :decimal, default: 40, from: {:integer, default: 30})
      end
    end
  end

  # Takes its time, and notes when it ran, so that overlapping migrators would show.
  defmodule Slow do
    use Ecto.Migration

    def up do
      send(:replica_migration_test, {:started, repo(), System.monotonic_time(:millisecond)})
      create(table(:slow))
      flush()
      Process.sleep(300)
      send(:replica_migration_test, {:finished, repo(), System.monotonic_time(:millisecond)})
    end

    def down, do: drop(table(:slow))
  end

  for i <- 1..3 do
    defmodule Module.concat(__MODULE__, "Repo#{i}") do
      use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
    end
  end
end

for {kind, name} <- EctoLibSql.ReplicaServers.kinds() do
  defmodule Module.concat(Ecto.Adapters.LibSql.ReplicaMigrationTest, Macro.camelize("#{kind}")) do
    use ExUnit.Case, async: false

    alias EctoLibSql.ReplicaServers

    alias Ecto.Adapters.LibSql.ReplicaMigrationTest.{
      AlterUsers,
      CreateUsers,
      ModifyUsers,
      Repo1,
      Repo2,
      Repo3,
      Slow
    }

    @kind kind
    @moduletag kind: kind
    # Waiting migrators log who holds the lock.
    @moduletag :capture_log
    if reason = ReplicaServers.missing(kind), do: @moduletag(skip: reason)

    # tursodb --sync-server serves every client from one database connection: a second
    # pooled connection's transaction would run inside the first one's.
    @pool if kind == :tursodb, do: 1, else: 2

    setup do
      Process.register(self(), :replica_migration_test)

      dir =
        Path.join(
          System.tmp_dir!(),
          "ecto_libsql_rm_#{System.pid()}_#{System.unique_integer([:positive])}"
        )

      File.mkdir_p!(dir)
      on_exit(fn -> File.rm_rf!(dir) end)
      %{server: ReplicaServers.start!(@kind), dir: dir}
    end

    defp start_replica!(repo, server, dir, name, extra \\ []) do
      db = Path.join(dir, name)

      config = ReplicaServers.replica_options(server, db, [log: false, pool_size: @pool] ++ extra)

      Application.put_env(:ecto_libsql, repo, config)
      assert Ecto.Adapters.LibSql.storage_up(config) == :ok
      start_supervised!({repo, []}, id: repo)
      config
    end

    defp migrate(repo, migrations, direction, opts \\ [all: true]),
      do: Ecto.Migrator.run(repo, migrations, direction, [log: false] ++ opts)

    defp rows(repo, sql), do: repo.query!(sql).rows

    defp columns(repo, table), do: rows(repo, "SELECT name FROM pragma_table_info('#{table}')")

    defp index_names(repo, table) do
      rows(
        repo,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '#{table}' " <>
          "AND sql IS NOT NULL ORDER BY name"
      )
    end

    test "a migration creates a table, an index and rows; another alters it; both roll back", %{
      server: server,
      dir: dir
    } do
      start_replica!(Repo1, server, dir, "one.db")
      migrations = [{1, CreateUsers}, {2, AlterUsers}]
      assert [1, 2] = migrate(Repo1, migrations, :up)

      # On the replica (pulled after each migration's commit) and on the server.
      assert rows(Repo1, "SELECT email, full_name, age FROM users ORDER BY id") ==
               [["ann@x", "Ann", 30], ["bob@x", "Bob", 30], ["cy@x", "Cy", 30]]

      assert index_names(Repo1, "users") == [["users_age_index"], ["users_email_index"]]

      assert ReplicaServers.rows!(server, "SELECT email FROM users ORDER BY id") ==
               [["ann@x"], ["bob@x"], ["cy@x"]]

      assert ReplicaServers.rows!(server, "SELECT version FROM schema_migrations ORDER BY 1") ==
               [[1], [2]]

      assert Ecto.Migrator.migrated_versions(Repo1) == [1, 2]
      # The replica's own writes go to the server and come back.
      Repo1.insert_all("users", [[email: "dee@x"]])
      assert rows(Repo1, "SELECT count(*) FROM users") == [[4]]

      assert_raise EctoLibSql.Error, ~r/UNIQUE/, fn ->
        Repo1.insert_all("users", [[email: "dee@x"]])
      end

      assert [2] = migrate(Repo1, migrations, :down, step: 1)
      assert columns(Repo1, "users") == [["id"], ["email"], ["name"]]
      assert index_names(Repo1, "users") == [["users_email_index"]]

      assert [1] = migrate(Repo1, migrations, :down, step: 1)
      assert rows(Repo1, "SELECT count(*) FROM sqlite_master WHERE name = 'users'") == [[0]]

      assert ReplicaServers.rows!(
               server,
               "SELECT count(*) FROM sqlite_master WHERE name = 'users'"
             ) ==
               [[0]]

      assert Ecto.Migrator.migrated_versions(Repo1) == []
      # The lock row went with the migrator.
      assert ReplicaServers.rows!(server, "SELECT count(*) FROM schema_migrations_lock") == [[0]]
    end

    if kind == :tursodb do
      @tag skip:
             "tursodb --sync-server has no PRAGMA legacy_alter_table, which the table rebuild needs"
    end

    test "a table rebuild runs on the server and rolls back", %{server: server, dir: dir} do
      start_replica!(Repo1, server, dir, "one.db")
      migrations = [{1, CreateUsers}, {2, AlterUsers}, {3, ModifyUsers}]
      assert [1, 2, 3] = migrate(Repo1, migrations, :up)

      assert rows(
               Repo1,
               "SELECT type, dflt_value FROM pragma_table_info('users') WHERE name = 'age'"
             ) ==
               [["DECIMAL", "40"]]

      assert index_names(Repo1, "users") == [["users_age_index"], ["users_email_index"]]
      assert rows(Repo1, "SELECT count(*) FROM users") == [[3]]
      assert [3] = migrate(Repo1, migrations, :down, step: 1)

      assert rows(
               Repo1,
               "SELECT type, dflt_value FROM pragma_table_info('users') WHERE name = 'age'"
             ) ==
               [["INTEGER", "30"]]
    end

    test "migrators on several replicas take turns; each migration runs once", %{
      server: server,
      dir: dir
    } do
      for {repo, i} <- Enum.with_index([Repo1, Repo2, Repo3]),
          do: start_replica!(repo, server, dir, "r#{i}.db")

      migrations = [{1, CreateUsers}, {2, Slow}]

      results =
        [Repo1, Repo2, Repo3]
        |> Enum.map(fn repo -> Task.async(fn -> {repo, migrate(repo, migrations, :up)} end) end)
        |> Task.await_many(60_000)

      # Each migration ran once, on one of them (Ecto takes the lock again for each migration
      # and skips the versions found done); the slow one did not overlap with anything.
      assert results |> Enum.flat_map(&elem(&1, 1)) |> Enum.sort() == [1, 2]
      {runner, _} = Enum.find(results, fn {_, done} -> 2 in done end)
      assert_received {:started, ^runner, started}
      assert_received {:finished, ^runner, finished}
      assert finished - started >= 300
      refute_received {:started, _, _}

      for repo <- [Repo1, Repo2, Repo3] do
        assert Ecto.Migrator.migrated_versions(repo) == [1, 2]
        assert rows(repo, "SELECT count(*) FROM users") == [[3]]
      end

      # Rolling back on one replica: the others see it after a sync.
      assert [2, 1] = migrate(Repo2, migrations, :down)
      assert ReplicaServers.rows!(server, "SELECT count(*) FROM schema_migrations") == [[0]]
    end

    test "a migrator waits while the lock is held and takes an expired one", %{
      server: server,
      dir: dir
    } do
      start_replica!(Repo1, server, dir, "one.db")
      # Another migrator (on another machine) holds the lock: a row whose lease has not ended.
      ReplicaServers.exec!(server, [
        "CREATE TABLE schema_migrations_lock (id INTEGER PRIMARY KEY, holder TEXT NOT NULL, " <>
          "expires_at INTEGER NOT NULL)",
        "INSERT INTO schema_migrations_lock VALUES (1, 'elsewhere', unixepoch() + 600)"
      ])

      migrator = Task.async(fn -> migrate(Repo1, [{1, CreateUsers}], :up) end)
      refute Task.yield(migrator, 1_500)

      assert ReplicaServers.rows!(
               server,
               "SELECT count(*) FROM sqlite_master WHERE name = 'users'"
             ) ==
               [[0]]

      ReplicaServers.exec!(server, "DELETE FROM schema_migrations_lock")
      assert Task.await(migrator, 30_000) == [1]

      # A lock whose lease ran out (its migrator died) is taken at once.
      ReplicaServers.exec!(
        server,
        "INSERT INTO schema_migrations_lock VALUES (1, 'dead', unixepoch() - 1)"
      )

      assert [1] = migrate(Repo1, [{1, CreateUsers}], :down)
      assert ReplicaServers.rows!(server, "SELECT count(*) FROM schema_migrations_lock") == [[0]]
    end

    if kind == :tursodb do
      @tag skip:
             "tursodb --sync-server runs every client's statements on one connection: a write " <>
               "of another client runs inside the open transaction instead of waiting for it"
    end

    test "Ecto's migrations table waits while another client holds the server's write lock", %{
      server: server,
      dir: dir
    } do
      start_replica!(Repo1, server, dir, "one.db")
      {:ok, other} = EctoLibSql.Native.connect(ReplicaServers.remote_options(server))
      {:ok, tx} = EctoLibSql.Native.begin(other, behavior: :immediate)
      {:ok, _} = EctoLibSql.Native.execute(tx, "CREATE TABLE elsewhere(x)", [])
      migrator = Task.async(fn -> migrate(Repo1, [{1, CreateUsers}], :up) end)
      refute Task.yield(migrator, 1_500)
      assert {:ok, _} = EctoLibSql.Native.commit(tx)
      EctoLibSql.Native.close(other)
      assert Task.await(migrator, 30_000) == [1]
      assert rows(Repo1, "SELECT count(*) FROM users") == [[3]]
    end

    test "a replica migrating after another one catches up before reading the versions", %{
      server: server,
      dir: dir
    } do
      start_replica!(Repo1, server, dir, "one.db")
      # The second replica does not pull on its own (no sync at connect, no interval).
      start_replica!(Repo2, server, dir, "two.db", sync: false, read_your_writes: false)
      assert [1] = migrate(Repo1, [{1, CreateUsers}], :up)
      assert [] = migrate(Repo2, [{1, CreateUsers}], :up)
      assert rows(Repo2, "SELECT count(*) FROM users") == [[3]]
      # Its own migrations are pulled afterwards even without read_your_writes.
      assert [2] = migrate(Repo2, [{1, CreateUsers}, {2, AlterUsers}], :up)
      assert columns(Repo2, "users") == [["id"], ["email"], ["full_name"], ["age"]]
    end

    test "Repo transactions on a replica: writes, reads of them, rollback, mode: :immediate", %{
      server: server,
      dir: dir
    } do
      start_replica!(Repo1, server, dir, "one.db", sync: false)
      assert [1] = migrate(Repo1, [{1, CreateUsers}], :up)

      assert {:ok, 4} =
               Repo1.transaction(fn ->
                 Repo1.insert_all("users", [[email: "t@x"]])
                 Repo1.query!("CREATE TABLE notes (body TEXT)")
                 Repo1.query!("INSERT INTO notes VALUES ('n')")
                 assert Repo1.query!("SELECT body FROM notes").rows == [["n"]]
                 Repo1.aggregate("users", :count)
               end)

      assert rows(Repo1, "SELECT count(*) FROM notes") == [[1]]

      assert {:error, :undone} =
               Repo1.transaction(fn ->
                 Repo1.insert_all("users", [[email: "u@x"]])
                 Repo1.rollback(:undone)
               end)

      assert ReplicaServers.rows!(server, "SELECT count(*) FROM users") == [[4]]
      # Another client's row, not pulled yet: an immediate transaction reads the server.
      ReplicaServers.exec!(server, "INSERT INTO users (email) VALUES ('srv@x')")
      assert Repo1.aggregate("users", :count) == 4

      assert {:ok, 5} =
               Repo1.transaction(fn -> Repo1.aggregate("users", :count) end, mode: :immediate)
    end

    test "remote mode: migrations and the lock on the server", %{server: server} do
      config = ReplicaServers.remote_options(server) ++ [log: false, pool_size: @pool]
      Application.put_env(:ecto_libsql, Repo3, config)
      start_supervised!({Repo3, []}, id: Repo3)
      assert [1, 2] = migrate(Repo3, [{1, CreateUsers}, {2, AlterUsers}], :up)
      assert rows(Repo3, "SELECT count(*) FROM users") == [[3]]
      assert [2, 1] = migrate(Repo3, [{1, CreateUsers}, {2, AlterUsers}], :down)
      assert ReplicaServers.rows!(server, "SELECT count(*) FROM schema_migrations_lock") == [[0]]
    end
  end
end
