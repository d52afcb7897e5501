# One set of Repo tests run in local mode and in remote mode: against the Hrana 3 test server
# over HTTP and over WebSocket, and against `tursodb --sync-server` (one database connection
# shared by every client, so a pool of one).
Code.require_file("../support/tursodb_server.exs", __DIR__)
Code.require_file("../support/hrana_server.exs", __DIR__)

defmodule Ecto.Adapters.LibSql.RepoTest do
  @moduledoc false
  # Schemas, migrations and the repo shared by every mode below.

  defmodule Repo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  defmodule Item do
    use Ecto.Schema
    import Ecto.Changeset

    schema "items" do
      field(:name, :string)
      field(:price, :decimal)
      field(:active, :boolean, default: true)
      field(:tags, {:array, :string}, default: [])
      field(:meta, :map)
      field(:uid, Ecto.UUID)
      field(:day, :date)
      field(:at, :utc_datetime_usec)
      field(:blob, :binary)
      timestamps()
    end

    def changeset(item, attrs) do
      item |> cast(attrs, [:name, :price]) |> unique_constraint(:name)
    end
  end

  defmodule CreateItems do
    use Ecto.Migration

    def change do
      create table(:items) do
        add(:name, :string)
        add(:price, :decimal)
        add(:active, :boolean)
        add(:tags, {:array, :string})
        add(:meta, :map)
        add(:uid, :uuid)
        add(:day, :date)
        add(:at, :utc_datetime_usec)
        add(:blob, :binary)
        timestamps()
      end

      create(unique_index(:items, [:name]))
    end
  end

  defmodule Tag do
    use Ecto.Schema
    @primary_key {:id, :binary_id, autogenerate: true}
    schema "tags" do
      field(:label, :string)
    end
  end

  defmodule Note do
    use Ecto.Schema
    import Ecto.Changeset

    schema "notes" do
      belongs_to(:item, Ecto.Adapters.LibSql.RepoTest.Item)
      belongs_to(:tag, Ecto.Adapters.LibSql.RepoTest.Tag, type: :binary_id)
    end

    def changeset(note, attrs) do
      note
      |> cast(attrs, [:item_id, :tag_id])
      |> foreign_key_constraint(:item_id)
      |> foreign_key_constraint(:tag_id, name: :notes_tag_custom)
    end
  end

  defmodule CreateNotes do
    use Ecto.Migration

    def change do
      create table(:tags, primary_key: false) do
        add(:id, :binary_id, primary_key: true)
        add(:label, :string)
      end

      create table(:notes) do
        add(:item_id, references(:items))
        add(:tag_id, :binary_id)
      end

      execute(
        "CREATE TABLE notes2 (id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items(id), " <>
          "tag_id TEXT CONSTRAINT notes_tag_custom REFERENCES tags(id))",
        "DROP TABLE notes2"
      )

      execute("DROP TABLE notes", "SELECT 1")
      execute("ALTER TABLE notes2 RENAME TO notes", "SELECT 1")
    end
  end

  defmodule CreateSessions do
    use Ecto.Migration

    def change do
      create table(:sessions, options: [random_rowid: true]) do
        add(:token, :string)
      end
    end
  end

  defmodule ModifyItems do
    use Ecto.Migration

    def up do
      alter table(:items) do
        modify(:price, :integer, null: false, default: 0)
        add_if_not_exists(:name, :string)
        remove_if_exists(:missing, :string)
      end

      create(constraint(:items, :price_not_negative, check: "price >= 0"))
    end

    def down do
      drop(constraint(:items, :price_not_negative))
    end
  end
end

for mode <- [:local, :hrana, :websocket, :tursodb] do
  defmodule Module.concat(Ecto.Adapters.LibSql.RepoTest, Macro.camelize(to_string(mode))) do
    use ExUnit.Case, async: false

    import Ecto.Query

    alias Ecto.Adapters.LibSql.RepoTest.{
      CreateItems,
      CreateNotes,
      CreateSessions,
      Item,
      ModifyItems,
      Note,
      Repo,
      Tag
    }

    @mode mode
    @moduletag mode: mode

    if mode == :tursodb do
      if reason = EctoLibSql.TursodbServer.missing(), do: @moduletag(skip: reason)
      @moduletag :remote
    end

    if mode in [:hrana, :websocket] do
      if reason = EctoLibSql.HranaServer.missing(), do: @moduletag(skip: reason)
      @moduletag :remote
    end

    setup do
      dir =
        Path.join(
          System.tmp_dir!(),
          "ecto_libsql_repo_#{System.pid()}_#{System.unique_integer([:positive])}"
        )

      File.mkdir_p!(dir)
      on_exit(fn -> File.rm_rf!(dir) end)

      config =
        case @mode do
          :local ->
            config = [database: Path.join(dir, "repo.db"), pool_size: 2]
            assert Ecto.Adapters.LibSql.storage_up(config) == :ok
            assert Ecto.Adapters.LibSql.storage_status(config) == :up
            config

          :hrana ->
            server = EctoLibSql.HranaServer.start!(token: "token")
            on_exit(fn -> EctoLibSql.HranaServer.stop(server) end)
            [uri: server.url, auth_token: "token", pool_size: 2]

          :websocket ->
            server = EctoLibSql.HranaServer.start!(token: "token")
            on_exit(fn -> EctoLibSql.HranaServer.stop(server) end)
            [uri: "ws://127.0.0.1:#{server.port}", auth_token: "token", pool_size: 2]

          :tursodb ->
            server = EctoLibSql.TursodbServer.start!()
            on_exit(fn -> EctoLibSql.TursodbServer.stop(server) end)
            [uri: server.url, auth_token: "token", pool_size: 1]
        end

      Application.put_env(:ecto_libsql, Repo, [log: false] ++ config)
      start_supervised!(Repo)
      assert [1] = Ecto.Migrator.run(Repo, [{1, CreateItems}], :up, all: true, log: false)
      %{dir: dir, config: config}
    end

    test "types round trip" do
      uid = Ecto.UUID.generate()
      at = ~U[2024-05-06 07:08:09.123456Z]

      item =
        Repo.insert!(%Item{
          name: "héllo",
          price: Decimal.new("12.50"),
          active: false,
          tags: ["a", "b"],
          meta: %{"k" => [1, 2]},
          uid: uid,
          day: ~D[2024-02-29],
          at: at,
          blob: <<0, 255, 1>>
        })

      loaded = Repo.get!(Item, item.id)
      assert loaded.name == "héllo"
      assert Decimal.equal?(loaded.price, Decimal.new("12.5"))
      assert loaded.active == false
      assert loaded.tags == ["a", "b"]
      assert loaded.meta == %{"k" => [1, 2]}
      assert loaded.uid == uid
      assert loaded.day == ~D[2024-02-29]
      assert loaded.at == at
      assert loaded.blob == <<0, 255, 1>>
      assert %NaiveDateTime{} = loaded.inserted_at
    end

    if mode == :tursodb do
      @tag skip: "tursodb --sync-server does not enforce foreign keys"
    end

    test "foreign key violations name the key, so changesets match them" do
      assert [2] = Ecto.Migrator.run(Repo, [{2, CreateNotes}], :up, all: true, log: false)
      item = Repo.insert!(%Item{name: "parent"})
      tag = Repo.insert!(%Tag{label: "t"})

      assert {:ok, _} = Repo.insert(Note.changeset(%Note{}, %{item_id: item.id, tag_id: tag.id}))

      assert {:error, changeset} = Repo.insert(Note.changeset(%Note{}, %{item_id: item.id + 1}))
      assert {"does not exist", opts} = changeset.errors[:item_id]
      assert opts[:constraint_name] == "notes_item_id_fkey"

      bad_tag = Ecto.UUID.generate()
      assert {:error, changeset} = Repo.insert(Note.changeset(%Note{}, %{tag_id: bad_tag}))
      assert {"does not exist", _} = changeset.errors[:tag_id]

      # Without a matching changeset constraint the error names the key.
      error = assert_raise Ecto.ConstraintError, fn -> Repo.insert(%Note{item_id: -1}) end
      assert error.message =~ ~s{"notes_item_id_fkey" (foreign_key_constraint)}

      # Deleting a parent that is still referred to.
      error = assert_raise Ecto.ConstraintError, fn -> Repo.delete(item) end
      assert error.message =~ ~s{"notes_item_id_fkey" (foreign_key_constraint)}

      # The probe that found the key left nothing behind.
      assert Repo.aggregate(Note, :count) == 1
      assert Repo.aggregate(Item, :count) == 1
    end

    test "binary ids are generated and stored as UUID text" do
      assert [2] = Ecto.Migrator.run(Repo, [{2, CreateNotes}], :up, all: true, log: false)
      tag = Repo.insert!(%Tag{label: "t"})
      assert {:ok, _} = Ecto.UUID.cast(tag.id)
      assert %{rows: [[stored, "text"]]} = Repo.query!("SELECT id, typeof(id) FROM tags")
      assert stored == tag.id
      assert Repo.get!(Tag, tag.id).label == "t"

      # 16 raw bytes written by another tool load as the text form.
      raw = Ecto.UUID.bingenerate()
      Repo.query!("INSERT INTO tags (id, label) VALUES (?1, 'raw')", [{:blob, raw}])
      {:ok, text} = Ecto.UUID.load(raw)
      assert [^text] = Repo.all(from(t in Tag, where: t.label == "raw", select: t.id))
    end

    test "datetime_add is exact to the microsecond" do
      Repo.insert!(%Item{name: "t", at: ~U[1969-12-31 23:59:59.999999Z]})

      at = fn count, unit ->
        Repo.one(from(i in Item, select: datetime_add(i.at, ^count, ^unit)))
      end

      at_lit = fn -> Repo.one(from(i in Item, select: datetime_add(i.at, 1, "microsecond"))) end

      assert at_lit.() == ~U[1970-01-01 00:00:00.000000Z]
      assert at.(-999_999, "microsecond") == ~U[1969-12-31 23:59:59.000000Z]
      assert at.(1500, "microsecond") == ~U[1970-01-01 00:00:00.001499Z]
      assert at.(1.5, "millisecond") == ~U[1970-01-01 00:00:00.001499Z]
      assert at.(-2, "day") == ~U[1969-12-29 23:59:59.999999Z]
      assert at.(1, "week") == ~U[1970-01-07 23:59:59.999999Z]
      assert at.(2, "month") == ~U[1970-02-28 23:59:59.999999Z]
      assert at.(-1, "year") == ~U[1968-12-31 23:59:59.999999Z]

      Repo.update_all(Item, set: [at: ~U[2024-01-31 10:00:00Z], day: ~D[2024-02-29]])
      assert at.(1, "month") == ~U[2024-02-29 10:00:00.000000Z]
      assert at.(-11, "month") == ~U[2023-02-28 10:00:00.000000Z]
      assert at.(3, "month") == ~U[2024-04-30 10:00:00.000000Z]

      day = fn count, unit ->
        Repo.one(from(i in Item, select: date_add(i.day, ^count, ^unit)))
      end

      assert day.(1, "year") == ~D[2025-02-28]
      assert day.(4, "year") == ~D[2028-02-29]
      assert day.(-1, "month") == ~D[2024-01-29]
      assert day.(1, "day") == ~D[2024-03-01]

      Repo.update_all(Item, set: [at: nil, day: nil])
      assert at.(1, "day") == nil
      assert at.(1, "month") == nil
      assert day.(1, "year") == nil
    end

    test "unique violations become changeset errors" do
      Repo.insert!(%Item{name: "x"})
      assert {:error, changeset} = Repo.insert(Item.changeset(%Item{}, %{name: "x"}))
      assert {"has already been taken", _} = changeset.errors[:name]
    end

    test "queries, aggregates, update_all, delete_all and streams" do
      now = NaiveDateTime.utc_now() |> NaiveDateTime.truncate(:second)

      rows =
        for i <- 1..10,
            do: %{name: "n#{i}", price: Decimal.new(i), inserted_at: now, updated_at: now}

      Repo.insert_all(Item, rows)
      assert Repo.aggregate(Item, :count) == 10

      assert Repo.all(
               from(i in Item, where: i.name in ^["n1", "n2"], select: i.name, order_by: i.name)
             ) == ["n1", "n2"]

      assert {3, _} = Repo.update_all(from(i in Item, where: i.price > 7), set: [active: false])
      assert {2, _} = Repo.delete_all(from(i in Item, where: i.price <= 2))

      {:ok, names} =
        Repo.transaction(fn ->
          Repo.stream(from(i in Item, select: i.name), max_rows: 3) |> Enum.to_list()
        end)

      assert length(names) == 8
    end

    test "upserts" do
      Repo.insert!(%Item{name: "u", price: Decimal.new(1)})

      Repo.insert!(%Item{name: "u", price: Decimal.new(2)},
        on_conflict: [set: [price: Decimal.new(3)]],
        conflict_target: :name
      )

      assert Decimal.equal?(Repo.get_by!(Item, name: "u").price, Decimal.new(3))
      now = NaiveDateTime.utc_now() |> NaiveDateTime.truncate(:second)

      assert {0, _} =
               Repo.insert_all(Item, [%{name: "u", inserted_at: now, updated_at: now}],
                 on_conflict: :nothing
               )
    end

    test "a rolled back transaction leaves nothing" do
      assert {:error, :nope} =
               Repo.transaction(fn ->
                 Repo.insert!(%Item{name: "gone"})
                 Repo.rollback(:nope)
               end)

      assert Repo.aggregate(Item, :count) == 0
    end

    if mode == :tursodb do
      @tag skip:
             "tursodb --sync-server has no PRAGMA legacy_alter_table, which the table rebuild needs"
    end

    test "modify and constraints rebuild the table keeping rows and indexes" do
      Repo.insert!(%Item{name: "keep", price: Decimal.new(5)})
      assert [2] = Ecto.Migrator.run(Repo, [{2, ModifyItems}], :up, all: true, log: false)

      assert Repo.query!("SELECT name, price FROM items").rows == [["keep", 5]]

      assert [["items_name_index"]] =
               Repo.query!(
                 "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'"
               ).rows

      assert_raise EctoLibSql.Error, ~r/CHECK constraint failed/, fn ->
        Repo.query!(
          "INSERT INTO items (name, price, inserted_at, updated_at) VALUES ('neg', -1, '2024-01-01T00:00:00', '2024-01-01T00:00:00')"
        )
      end

      # The rollback rebuilds again: the constraint goes, the rows stay.
      assert [2] = Ecto.Migrator.run(Repo, [{2, ModifyItems}], :down, all: true, log: false)

      Repo.query!(
        "INSERT INTO items (name, price, inserted_at, updated_at) VALUES ('neg', -1, '2024-01-01T00:00:00', '2024-01-01T00:00:00')"
      )

      assert Repo.aggregate(Item, :count) == 2
    end

    test "SQL SQLite cannot run raises naming it" do
      assert_raise Ecto.QueryError, ~r/DISTINCT ON/, fn ->
        Repo.all(from(i in Item, distinct: i.name))
      end
    end

    # The dump is read through the driver, so it works against a server too; it is loaded
    # into a local file in every mode.
    test "structure dump and load through the driver", %{dir: dir, config: config} do
      assert {:ok, path} = Ecto.Adapters.LibSql.structure_dump(dir, config)
      dump = File.read!(path)
      assert dump =~ ~s{CREATE TABLE "items"}
      assert dump =~ "INSERT INTO \"schema_migrations\" (version) VALUES (1);"

      other = [database: Path.join(dir, "loaded.db")]
      assert {:ok, ^path} = Ecto.Adapters.LibSql.structure_load(dir, other)
      {:ok, state} = EctoLibSql.Native.connect(other)

      assert {:ok, _, %{rows: [[1]]}, _} =
               EctoLibSql.Native.query(
                 state,
                 %EctoLibSql.Query{statement: "SELECT version FROM schema_migrations"},
                 []
               )
    end

    if mode != :local do
      @tag skip:
             "remote mode: there is no database file to create or remove; " <>
               "the server manages its storage"
    end

    test "storage down removes the files; storage errors are clear", %{config: config} do
      stop_supervised!(Repo)
      assert Ecto.Adapters.LibSql.storage_up(config) == {:error, :already_up}
      assert Ecto.Adapters.LibSql.storage_down(config) == :ok
      assert Ecto.Adapters.LibSql.storage_status(config) == :down
      assert Ecto.Adapters.LibSql.storage_down(config) == {:error, :already_down}
      assert {:error, _} = Ecto.Adapters.LibSql.storage_up(database: ":memory:")
    end

    if mode != :local do
      test "storage calls on a remote database answer as the original adapter did", %{
        config: config
      } do
        # It answers: it exists. It is dropped on its server, never by the adapter.
        assert Ecto.Adapters.LibSql.storage_up(config) == {:error, :already_up}
        assert Ecto.Adapters.LibSql.storage_down(config) == {:error, :not_supported}
        assert Ecto.Adapters.LibSql.storage_status(config) == :up
        assert Repo.aggregate(Item, :count) == 0

        # A server that does not answer is said to be so, rather than assumed to be up.
        down = Keyword.put(config, :uri, "http://127.0.0.1:1")
        assert {:error, reason} = Ecto.Adapters.LibSql.storage_up(down)
        assert reason =~ "the remote database at http://127.0.0.1:1 does not answer"
        assert reason =~ "turso db create"
        assert {:error, ^reason} = Ecto.Adapters.LibSql.storage_status(down)
      end
    end

    if mode != :local do
      test "replication calls on a remote connection answer as the original did", %{
        config: config
      } do
        {:ok, state} = EctoLibSql.Native.connect(Keyword.take(config, [:uri, :auth_token]))
        assert {:ok, 0} = EctoLibSql.Native.get_max_write_frame(state)
        assert {:error, :unsupported} = EctoLibSql.Native.freeze_replica(state)
        assert EctoLibSql.Native.freeze_database(state.conn_id) == :unsupported
        :ok = EctoLibSql.Native.close(state)
      end
    end

    test "several statements in one query run in order as one unit" do
      now = "'2024-01-01T00:00:00'"

      insert = fn name ->
        "INSERT INTO items (name, inserted_at, updated_at) VALUES ('#{name}', #{now}, #{now})"
      end

      assert %{rows: [[2]]} =
               Repo.query!("#{insert.("a")}; #{insert.("b")}; SELECT count(*) FROM items")

      # all or nothing: the unique index refuses the second 'c', so the first is undone too
      assert {:error, %EctoLibSql.Error{message: message}} =
               Repo.query("#{insert.("c")}; #{insert.("c")}")

      assert message =~ "UNIQUE constraint failed"
      assert Repo.aggregate(Item, :count) == 2

      assert {:error, %EctoLibSql.Error{message: "the SQL holds 2 statements" <> _}} =
               Repo.query("SELECT ?; SELECT ?", [1, 2])
    end

    test "decimals are stored exactly, compared and ordered as numbers, or refused" do
      values = ~w(12.50 0.1 -42.5 1E+3 -1.5E-7 12345678901234567 9999999999999.99 0)

      for {value, n} <- Enum.with_index(values) do
        Repo.insert!(%Item{name: "d#{n}", price: Decimal.new(value)})
      end

      loaded = Repo.all(from(i in Item, order_by: i.price, select: i.price))
      expected = values |> Enum.map(&Decimal.new/1) |> Enum.sort(Decimal)
      assert length(loaded) == length(expected)

      for {l, e} <- Enum.zip(loaded, expected),
          do: assert(Decimal.equal?(l, e), "#{l} != #{e}")

      assert Repo.all(
               from(i in Item,
                 where: i.price > ^Decimal.new("12.4") and i.price < 1001,
                 order_by: i.price,
                 select: i.name
               )
             ) == ["d0", "d3"]

      assert Decimal.equal?(
               Repo.one(from(i in Item, where: i.price == ^Decimal.new("12.5"), select: i.price)),
               Decimal.new("12.5")
             )

      # More digits than SQLite's numbers hold: refused, never rounded.
      for value <-
            ~w(99999999999999.99 12345678901234567.89 99999999999999999999999.5 0.12345678901234567891) do
        assert_raise ArgumentError,
                     ~r/decimal #{Regex.escape(value)} cannot be stored exactly/,
                     fn -> Repo.insert!(%Item{name: "big", price: Decimal.new(value)}) end
      end

      refute Repo.get_by(Item, name: "big")
    end

    case mode do
      :local ->
        test "random_rowid: true needs a libSQL server: local mode says so" do
          error =
            assert_raise ArgumentError, fn ->
              Ecto.Migrator.run(Repo, [{3, CreateSessions}], :up, all: true, log: false)
            end

          assert error.message =~ "random_rowid: true is libSQL's RANDOM ROWID"
          assert error.message =~ "remote and replica modes"

          assert %{rows: []} =
                   Repo.query!("SELECT name FROM sqlite_master WHERE name = 'sessions'")
        end

      mode when mode in [:hrana, :websocket] ->
        test "random_rowid: true reaches the libSQL server as RANDOM ROWID" do
          assert [3] = Ecto.Migrator.run(Repo, [{3, CreateSessions}], :up, all: true, log: false)

          assert %{rows: [[sql]]} =
                   Repo.query!("SELECT sql FROM sqlite_master WHERE name = 'sessions'")

          assert sql =~ "RANDOM ROWID"

          for n <- 1..5, do: Repo.query!("INSERT INTO sessions (token) VALUES (?)", ["t#{n}"])
          %{rows: rows} = Repo.query!("SELECT id FROM sessions")
          # random row ids, not 1..5
          assert Enum.sort(List.flatten(rows)) != Enum.to_list(1..5)
        end

      :tursodb ->
        test "random_rowid: true reaches the server, which answers for it" do
          result =
            try do
              Ecto.Migrator.run(Repo, [{3, CreateSessions}], :up, all: true, log: false)
            rescue
              error -> error
            end

          # tursodb is not libSQL's server and has no RANDOM ROWID: its own answer comes back,
          # not the local-mode refusal.
          assert %EctoLibSql.Error{message: message} = result
          assert message =~ "RANDOM"
        end
    end
  end
end
