defmodule Ecto.Adapters.LibSql.RepoMigrationTest do
  # Local-mode Repo tests of migrations and insert_all that rebuild or split statements.
  use ExUnit.Case, async: false

  alias Ecto.Adapters.LibSql.RepoTest.{CreateItems, Repo}

  defmodule CompositeKeys do
    use Ecto.Migration

    def change do
      create table(:parents) do
        add(:key, :integer)
      end

      create(unique_index(:parents, [:id, :key]))

      create table(:children) do
        add(:key, :integer, default: 7)
        add(:parent_id, references(:parents, with: [key: :key], on_delete: :default_all))
      end

      alter table(:children) do
        add(:parent2_id, references(:parents, with: [key: :key], name: :children_parent2_fk))
      end
    end
  end

  setup do
    dir = Path.join(System.tmp_dir!(), "ecto_libsql_repo_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    db = Path.join(dir, "repo.db")
    config = [database: db, pool_size: 2]
    Application.put_env(:ecto_libsql, Repo, config)
    assert Ecto.Adapters.LibSql.storage_up(config) == :ok
    assert Ecto.Adapters.LibSql.storage_status(config) == :up
    start_supervised!(Repo)
    assert [1] = Ecto.Migrator.run(Repo, [{1, CreateItems}], :up, all: true, log: false)
    on_exit(fn -> File.rm_rf!(dir) end)
    %{db: db, dir: dir, config: config}
  end

  test "references over several columns, created and added by alter table" do
    assert [3] = Ecto.Migrator.run(Repo, [{3, CompositeKeys}], :up, all: true, log: false)
    Repo.insert_all("parents", [[id: 1, key: 7], [id: 2, key: 8]])
    assert {1, _} = Repo.insert_all("children", [[parent_id: 2, key: 8, parent2_id: 2]])

    assert_raise EctoLibSql.Error, ~r/foreign key: children_parent_id_fkey/, fn ->
      Repo.insert_all("children", [[parent_id: 2, key: 9]])
    end

    assert_raise EctoLibSql.Error, ~r/foreign key: children_parent2_fk/, fn ->
      Repo.insert_all("children", [[parent_id: 2, key: 8, parent2_id: 1]])
    end

    # ON DELETE SET DEFAULT acts on the whole key: the defaults (NULL, 7) refer to nothing.
    Repo.query!("DELETE FROM children WHERE parent2_id IS NOT NULL")
    Repo.insert_all("children", [[parent_id: 2, key: 8]])
    Repo.query!("DELETE FROM parents WHERE id = 2")
    assert Repo.query!("SELECT parent_id, key FROM children").rows == [[nil, 7]]

    assert [3] = Ecto.Migrator.run(Repo, [{3, CompositeKeys}], :down, all: true, log: false)
  end

  test "insert_all: rows leaving out fields get the column defaults, all or nothing" do
    Repo.query!(
      "CREATE TABLE counters (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER DEFAULT 5)"
    )

    assert {4, [%{id: 1, n: 1}, %{id: 2, n: 5}, %{id: 3, n: 5}, %{id: 4, n: 4}]} =
             Repo.insert_all(
               "counters",
               [[name: "a", n: 1], [name: "b"], [], [name: "d", n: 4]],
               returning: [:id, :n]
             )

    assert {2, nil} = Repo.insert_all("counters", [[], []])

    assert Repo.query!("SELECT name, n FROM counters ORDER BY id").rows ==
             [["a", 1], ["b", 5], [nil, 5], ["d", 4], [nil, 5], [nil, 5]]

    # A failing run rolls back the runs before it.
    assert_raise EctoLibSql.Error, ~r/UNIQUE/, fn ->
      Repo.insert_all("counters", [[name: "e", n: 1], [name: "f"], [name: "a"]])
    end

    assert Repo.query!("SELECT count(*) FROM counters").rows == [[6]]

    assert {2, _} =
             Repo.insert_all("counters", [[name: "a", n: 9], [name: "g"]],
               on_conflict: {:replace, [:n]},
               conflict_target: [:name]
             )

    assert Repo.query!("SELECT name, n FROM counters WHERE name IN ('a', 'g') ORDER BY name").rows ==
             [["a", 9], ["g", 5]]
  end

  test "schemaless selects of NUMERIC columns answer decimals" do
    import Ecto.Query

    Repo.query!(
      "CREATE TABLE amounts (id INTEGER PRIMARY KEY, n NUMERIC, d DECIMAL(5,2), i INTEGER)"
    )

    Repo.query!("INSERT INTO amounts (n, d, i) VALUES (1, 2.5, 3), (NULL, '4.25', 5)")
    query = from(a in "amounts", select: {a.n, a.d, a.i, a.id}, order_by: a.id)

    assert Repo.all(query) == [
             {Decimal.new(1), Decimal.new("2.5"), 3, 1},
             {nil, Decimal.new("4.25"), 5, 2}
           ]

    # Cached now; typed fields keep their types; to_sql reads the same cached query.
    assert Repo.all(query) |> hd() |> elem(0) == Decimal.new(1)
    assert Repo.all(from(a in "amounts", select: type(a.n, :integer), limit: 1)) == [1]
    assert {"SELECT a0.\"n\"" <> _, []} = Ecto.Adapters.SQL.to_sql(:all, Repo, query)
    ids = [1, 2]
    assert [%Decimal{}, nil] = Repo.all(from(a in "amounts", where: a.id in ^ids, select: a.n))

    # The declared type is read on the query's connection: a change in the transaction counts.
    Repo.transaction(fn ->
      Repo.query!("ALTER TABLE amounts RENAME COLUMN n TO m")
      Repo.query!("ALTER TABLE amounts ADD COLUMN n INTEGER DEFAULT 7")
      assert Repo.all(from(a in "amounts", select: a.n)) == [7, 7]
      Repo.rollback(:done)
    end)

    assert Repo.all(from(a in "amounts", select: a.n, order_by: a.id)) == [Decimal.new(1), nil]
  end

  defmodule Prefixed do
    use Ecto.Migration

    def change do
      create(table(:first, prefix: "other"))

      create table(:second, prefix: "other") do
        add(:first_id, references(:first, on_delete: :delete_all))
      end

      create(index(:second, [:first_id], prefix: "other"))
    end
  end

  defmodule AttachRepo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  # ATTACH holds for one connection: with :attach every connection of the pool attaches the
  # database, so a prefix works whichever connection a migration or query gets.
  test "prefixes are databases every connection attaches", %{config: config, dir: dir} do
    other = Path.join(dir, "other.db")
    config = Keyword.merge(config, pool_size: 3, attach: [other: other])
    Application.put_env(:ecto_libsql, AttachRepo, config)
    start_supervised!(AttachRepo)

    assert [4] = Ecto.Migrator.run(AttachRepo, [{4, Prefixed}], :up, all: true, log: false)
    assert File.exists?(other)

    tasks =
      for i <- 1..6 do
        Task.async(fn ->
          AttachRepo.insert_all("first", [[id: i]], prefix: "other")
          AttachRepo.insert_all("second", [[first_id: i]], prefix: "other")
          AttachRepo.aggregate("second", :count, prefix: "other")
        end)
      end

    assert Enum.all?(Task.await_many(tasks), &(&1 in 1..6))
    AttachRepo.delete_all("first", prefix: "other")
    assert AttachRepo.aggregate("second", :count, prefix: "other") == 0
    assert [4] = Ecto.Migrator.run(AttachRepo, [{4, Prefixed}], :down, all: true, log: false)
  end

  test ":attach is for local databases" do
    assert_raise ArgumentError, ~r/:attach needs a local database file/, fn ->
      EctoLibSql.Native.connect(uri: "http://127.0.0.1:1", auth_token: "t", attach: [a: "a.db"])
    end
  end

  defmodule SingleRepo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  # The migration lock is a connection of its own (to the lock file): one pooled connection is
  # enough, unlike PostgreSQL's lock, which holds a pooled connection.
  test "migrations run with a pool of one connection", %{config: config} do
    Application.put_env(:ecto_libsql, SingleRepo, Keyword.put(config, :pool_size, 1))
    start_supervised!(SingleRepo)
    assert [3] = Ecto.Migrator.run(SingleRepo, [{3, CompositeKeys}], :up, all: true, log: false)
    assert [3] = Ecto.Migrator.run(SingleRepo, [{3, CompositeKeys}], :down, all: true, log: false)
  end
end
