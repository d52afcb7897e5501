defmodule Ecto.Adapters.LibSql.MemoryDatabaseTest do
  # `database: ":memory:"` with a pool of several connections: the repo's connections share
  # one in-memory database, which lives while connections come and go and is the repo's own.
  use ExUnit.Case, async: false

  defmodule Repo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  defmodule OtherRepo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  @config [database: ":memory:", pool_size: 4, log: false]

  defp tables(repo) do
    %{rows: rows} = repo.query!("SELECT name FROM sqlite_master WHERE type = 'table'")
    List.flatten(rows)
  end

  test "every connection of the pool sees the same database" do
    start_supervised!({Repo, @config})
    Repo.query!("CREATE TABLE t (x INTEGER)")

    # Four clients at once hold the four connections, each writing and reading.
    1..4
    |> Enum.map(fn n ->
      Task.async(fn ->
        Repo.checkout(fn ->
          Repo.query!("INSERT INTO t VALUES (?)", [n])
          Process.sleep(50)
          %{rows: [[count]]} = Repo.query!("SELECT count(*) FROM t")
          count
        end)
      end)
    end)
    |> Task.await_many(10_000)
    |> Enum.each(&assert(&1 in 1..4))

    assert %{rows: [[4]]} = Repo.query!("SELECT count(*) FROM t")
    # Foreign keys are enforced, as for database files.
    assert %{rows: [[1]]} = Repo.query!("PRAGMA foreign_keys")
  end

  # One connection: when it reconnects, no other connection of the pool holds the database.
  test "the database lives while connections reconnect" do
    start_supervised!(
      {Repo, Keyword.merge(@config, pool_size: 1, connection_listeners: [self()])}
    )

    assert_receive {:connected, _}
    Repo.query!("CREATE TABLE kept (x)")
    Repo.query!("INSERT INTO kept VALUES (1)")

    %{pid: pool} = Ecto.Adapter.lookup_meta(Repo)
    DBConnection.disconnect_all(pool, 0)
    Repo.query("SELECT 1")
    assert_receive {:disconnected, conn}, 5_000
    assert_receive {:connected, ^conn}, 5_000

    assert %{rows: [[1]]} = Repo.query!("SELECT count(*) FROM kept")
  end

  test "two repos, and a restarted repo, do not share a database" do
    start_supervised!({Repo, @config})
    start_supervised!({OtherRepo, @config})
    Repo.query!("CREATE TABLE mine (x)")
    assert "mine" in tables(Repo)
    refute "mine" in tables(OtherRepo)

    stop_supervised!(Repo)
    start_supervised!({Repo, @config})
    refute "mine" in tables(Repo)
  end

  test "migrations run on the shared database" do
    defmodule CreateNotes do
      use Ecto.Migration

      def change do
        create table(:notes) do
          add(:body, :string)
        end
      end
    end

    start_supervised!({Repo, @config})
    assert [1] = Ecto.Migrator.run(Repo, [{1, CreateNotes}], :up, all: true, log: false)
    assert "notes" in tables(Repo)
    assert "schema_migrations" in tables(Repo)
  end
end
