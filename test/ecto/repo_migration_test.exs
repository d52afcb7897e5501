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
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_repo_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    db = Path.join(dir, "repo.db")
    config = [database: db, pool_size: 2]
    Application.put_env(:ecto_libsql, Repo, config)
    assert Ecto.Adapters.LibSql.storage_up(config) == :ok
    assert Ecto.Adapters.LibSql.storage_status(config) == :up
    start_supervised!(Repo)
    assert [1] = Ecto.Migrator.run(Repo, [{1, CreateItems}], :up, all: true, log: false)
    %{db: db, dir: dir, config: config}
  end

  defmodule QuoteInName do
    use Ecto.Migration

    def change do
      create table(:"x\"") do
        add(:n, :integer)
      end

      alter table(:"x\"") do
        modify(:n, :text, from: :integer)
      end
    end
  end

  test "a table whose name ends in a quote is rebuilt (modify)" do
    assert [2] = Ecto.Migrator.run(Repo, [{2, QuoteInName}], :up, all: true, log: false)
    Repo.query!(~s{INSERT INTO "x""" (n) VALUES ('text')})
    assert Repo.query!(~s{SELECT n, typeof(n) FROM "x"""}).rows == [["text", "text"]]

    assert Repo.query!(~s{SELECT type FROM pragma_table_info('x"') WHERE name = 'n'}).rows ==
             [["TEXT"]]
  end

  # A table written by hand: comments holding commas and parentheses, names quoted every way
  # SQLite knows (one ending in a quote), nested parentheses in CHECK and DEFAULT, strings with
  # commas and parentheses.
  @odd_table ~S"""
  CREATE TABLE "odd\""" ( -- the columns, (as written
    id INTEGER PRIMARY KEY, /* the key, ) */
    "x\""" TEXT DEFAULT 'a, (b' CHECK ("x\""" <> ')' AND (length("x\""") > (0))),
    [y z] INTEGER UNIQUE, -- unique: DROP COLUMN refuses it
    `w` REAL /* metres, (m) */ NOT NULL DEFAULT (0.5 * (2)), -- a comment ending an item
    CONSTRAINT "pos, (itive)" CHECK (`w` >= 0) -- the last item )
  )
  """

  defmodule OddNames do
    use Ecto.Migration

    def up do
      alter table(:"odd\"") do
        modify(:"x\"", :string, default: "q, (r)")
      end

      create(constraint(:"odd\"", :"small, (w)", check: "`w` < 100"))
      drop(constraint(:"odd\"", :"pos, (itive)"))

      alter table(:"odd\"") do
        remove(:"Y Z")
      end
    end
  end

  defmodule RenameOddIndex do
    use Ecto.Migration

    def change do
      rename(index(:"odd\"", [:w], name: :"by w, (x)"), to: :"by \"w\"")
    end
  end

  defp table_sql(name),
    do: Repo.query!("SELECT sql FROM sqlite_master WHERE name = ?1", [name]).rows

  test "tables written with comments and odd names are rebuilt" do
    Repo.query!(@odd_table)
    Repo.query!(~s{CREATE INDEX "by w, (x)" ON "odd""" (`w`) -- an index, (too)})

    Repo.query!(
      ~s{INSERT INTO "odd""" (id, "x""", [y z], w) VALUES (1, 'one', 1, 1.5), (2, 'two', 2, 3)}
    )

    assert [5] = Ecto.Migrator.run(Repo, [{5, OddNames}], :up, all: true, log: false)

    # Comments inside an item stay; those between items go with the commas.
    assert table_sql(~s{odd"}) == [
             [
               ~S{CREATE TABLE "odd""" (id INTEGER PRIMARY KEY, "x""" TEXT DEFAULT 'q, (r)', } <>
                 ~S{`w` REAL /* metres, (m) */ NOT NULL DEFAULT (0.5 * (2)), } <>
                 ~S{CONSTRAINT "small, (w)" CHECK (`w` < 100))}
             ]
           ]

    assert Repo.query!(~s{SELECT id, "x""", w FROM "odd""" ORDER BY id}).rows ==
             [[1, "one", 1.5], [2, "two", 3.0]]

    assert_raise EctoLibSql.Error, ~r/CHECK constraint failed: small, \(w\)/, fn ->
      Repo.query!(~s{INSERT INTO "odd""" (w) VALUES (100)})
    end

    Repo.query!(~s{INSERT INTO "odd""" (w) VALUES (-1)})
    assert Repo.query!(~s{SELECT "x""" FROM "odd""" WHERE w < 0}).rows == [["q, (r)"]]
    index = ~s{CREATE INDEX "by w, (x)" ON "odd""" (`w`) -- an index, (too)}
    assert table_sql("by w, (x)") == [[index]]

    assert [6] = Ecto.Migrator.run(Repo, [{6, RenameOddIndex}], :up, all: true, log: false)
    assert table_sql("by w, (x)") == []
    assert table_sql(~s{by "w"}) == [[String.replace(index, ~s{"by w, (x)"}, ~s{"by ""w"""})]]
  end

  defmodule AddCheck do
    use Ecto.Migration
    def change, do: create(constraint(:plain, :b_small, check: "b < 1000"))
  end

  test "a rebuild keeps the CREATE TABLE text it does not change, byte for byte" do
    sql =
      ~s{CREATE TABLE "plain" (id INTEGER PRIMARY KEY AUTOINCREMENT, "a" TEXT NOT NULL DEFAULT 'x', } <>
        ~s{b REAL CHECK (b > (0)), c TEXT COLLATE NOCASE UNIQUE, } <>
        ~s{FOREIGN KEY (a) REFERENCES "plain"(c)) STRICT}

    Repo.query!(sql)

    assert [7] = Ecto.Migrator.run(Repo, [{7, AddCheck}], :up, all: true, log: false)

    assert table_sql("plain") == [
             [
               String.replace_suffix(
                 sql,
                 ") STRICT",
                 ~s{, CONSTRAINT "b_small" CHECK (b < 1000)) STRICT}
               )
             ]
           ]

    assert [7] = Ecto.Migrator.run(Repo, [{7, AddCheck}], :down, all: true, log: false)
    assert table_sql("plain") == [[sql]]
  end

  # Unicode names, a name with a doubled quote inside, generated columns (one reading a quoted
  # column, one building a string with commas and parentheses) and both table options.
  @unicode_table ~S"""
  CREATE TABLE "ünï ""çødé\""" (
    "ключ" TEXT PRIMARY KEY, -- the key, (text)
    "x""y" INTEGER NOT NULL,
    [größe] REAL CHECK ([größe] > 0 AND [größe] <> ',') DEFAULT 1.5,
    "a""b" TEXT UNIQUE, /* DROP COLUMN refuses it */
    doppelt INTEGER GENERATED ALWAYS AS ("x""y" * 2) STORED,
    etikett TEXT AS ('(' || "ключ" || ', ' || [größe] || ')') VIRTUAL
  ) WITHOUT ROWID, STRICT
  """

  defmodule UnicodeGenerated do
    use Ecto.Migration

    def up do
      alter table(:"ünï \"çødé\"") do
        modify(:"x\"y", :integer, null: false, default: 3)
        remove(:"a\"b")
      end

      create(constraint(:"ünï \"çødé\"", :"größe, klein", check: ~s{"größe" < 100}))
    end
  end

  test "tables with unicode names, generated columns and table options are rebuilt" do
    table = ~s{ünï "çødé"}
    Repo.query!(@unicode_table)

    Repo.query!(
      ~S{INSERT INTO "ünï ""çødé""" ("ключ", "x""y", [größe], "a""b") } <>
        ~S{VALUES ('один', 1, 2.5, 'p'), ('два', 2, 3.5, NULL)}
    )

    assert [8] = Ecto.Migrator.run(Repo, [{8, UnicodeGenerated}], :up, all: true, log: false)

    assert table_sql(table) == [
             [
               ~S{CREATE TABLE "ünï ""çødé""" (} <>
                 ~S{"ключ" TEXT PRIMARY KEY, "x""y" INTEGER NOT NULL DEFAULT 3, } <>
                 ~S{[größe] REAL CHECK ([größe] > 0 AND [größe] <> ',') DEFAULT 1.5, } <>
                 ~S{doppelt INTEGER GENERATED ALWAYS AS ("x""y" * 2) STORED, } <>
                 ~S{etikett TEXT AS ('(' || "ключ" || ', ' || [größe] || ')') VIRTUAL, } <>
                 ~S{CONSTRAINT "größe, klein" CHECK ("größe" < 100)) WITHOUT ROWID, STRICT} <>
                 "\n"
             ]
           ]

    # The rows survive, the generated columns computed again from them.
    assert Repo.query!(
             ~S{SELECT "ключ", "x""y", [größe], doppelt, etikett FROM "ünï ""çødé""" } <>
               ~S{ORDER BY "x""y"}
           ).rows == [["один", 1, 2.5, 2, "(один, 2.5)"], ["два", 2, 3.5, 4, "(два, 3.5)"]]

    assert Repo.query!(~S{SELECT name FROM pragma_table_xinfo('ünï "çødé"') ORDER BY cid}).rows ==
             [["ключ"], [~s{x"y}], ["größe"], ["doppelt"], ["etikett"]]

    # Still WITHOUT ROWID and STRICT, with the new constraint and default.
    assert_raise EctoLibSql.Error, ~r/no such column: rowid/, fn ->
      Repo.query!(~S{SELECT rowid FROM "ünï ""çødé"""})
    end

    assert_raise EctoLibSql.Error, ~r/cannot store TEXT value in INTEGER column/, fn ->
      Repo.query!(~S{INSERT INTO "ünï ""çødé""" ("ключ", "x""y") VALUES ('три', 'drei')})
    end

    assert_raise EctoLibSql.Error, ~r/CHECK constraint failed: größe, klein/, fn ->
      Repo.query!(~S{INSERT INTO "ünï ""çødé""" ("ключ", [größe]) VALUES ('три', 100)})
    end

    Repo.query!(~S{INSERT INTO "ünï ""çødé""" ("ключ") VALUES ('три')})

    assert Repo.query!(~S{SELECT "x""y", doppelt FROM "ünï ""çødé""" WHERE "ключ" = 'три'}).rows ==
             [[3, 6]]
  end

  defmodule ModifyVirtualTable do
    use Ecto.Migration

    def change do
      alter table(:docs) do
        modify(:body, :text)
      end
    end
  end

  test "a table without a column list to edit is not rebuilt, with a clear error" do
    Repo.query!("CREATE VIRTUAL TABLE docs USING fts5(body)")

    assert_raise ArgumentError,
                 ~r/cannot rebuild table docs: it has no column list \(CREATE VIRTUAL TABLE/,
                 fn ->
                   Ecto.Migrator.run(Repo, [{9, ModifyVirtualTable}], :up, all: true, log: false)
                 end

    assert table_sql("docs") == [["CREATE VIRTUAL TABLE docs USING fts5(body)"]]
    assert Repo.query!("SELECT version FROM schema_migrations WHERE version = 9").rows == []
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

      alter table(:second, prefix: "other") do
        add(:note, :string)
      end

      alter table(:second, prefix: "other") do
        remove(:note, :string)
      end
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

  # The lock file is named from the database in the adapter's meta: meta.opts holds only the
  # pool's options, and reading the path there found none, so migrations ran unlocked.
  test "migrators wait for each other on the lock file next to the database", %{db: db} do
    lock = db <> "-migration-lock"
    # The setup's migration took the lock.
    assert File.exists?(lock)

    {:ok, holder} = EctoLibSql.Native.connect(database: lock)
    begin = %EctoLibSql.Query{statement: "BEGIN IMMEDIATE"}
    assert {:ok, _, _, holder} = EctoLibSql.Native.query(holder, begin, [])

    migrator =
      Task.async(fn ->
        Ecto.Migrator.run(Repo, [{3, CompositeKeys}], :up, all: true, log: false)
      end)

    try do
      refute Task.yield(migrator, 500)

      assert Repo.query!("SELECT count(*) FROM sqlite_master WHERE name = 'parents'").rows == [
               [0]
             ]
    after
      EctoLibSql.Native.close(holder)
    end

    assert Task.await(migrator, 30_000) == [3]
    assert Repo.query!("SELECT count(*) FROM sqlite_master WHERE name = 'parents'").rows == [[1]]
  end
end

defmodule Ecto.Adapters.LibSql.RepoKeyMigrationTest do
  # Local-mode Repo tests of the table rebuilds for primary keys: adding and removing a primary
  # key column, and retyping a key other tables refer to.
  use ExUnit.Case, async: false

  defmodule Repo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  defmodule AddRowidKey do
    use Ecto.Migration

    def change do
      alter table(:legacy) do
        add(:id, :serial, primary_key: true)
        add(:note, :string, default: "n")
      end
    end
  end

  defmodule AddTextKey do
    use Ecto.Migration

    def change do
      alter table(:legacy) do
        add(:code, :string, primary_key: true)
      end
    end
  end

  defmodule AddCompositeKey do
    use Ecto.Migration

    def change do
      alter table(:legacy) do
        add(:a, :integer, primary_key: true)
        add(:b, :string, primary_key: true)
      end
    end
  end

  defmodule AddSecondKey do
    use Ecto.Migration

    def change do
      alter table(:authors) do
        add(:other_id, :integer, primary_key: true)
      end
    end
  end

  defmodule CreateAuthors do
    use Ecto.Migration

    def change do
      create table(:authors, primary_key: false) do
        add(:id, :integer, primary_key: true)
        add(:name, :string)
      end

      create(index(:authors, [:name]))

      create table(:posts) do
        add(:author_id, references(:authors, type: :integer))
      end

      create(index(:posts, [:author_id]))

      execute(
        "CREATE TRIGGER authors_first_post AFTER INSERT ON authors " <>
          "BEGIN INSERT INTO posts (author_id) VALUES (NEW.id); END",
        "DROP TRIGGER authors_first_post"
      )
    end
  end

  defmodule RetypeKeys do
    use Ecto.Migration

    def change do
      alter table(:authors) do
        modify(:id, :bigint, from: :integer)
      end

      alter table(:posts) do
        modify(:author_id, references(:authors, type: :bigint, on_delete: :delete_all),
          from: references(:authors, type: :integer)
        )
      end
    end
  end

  defmodule DropAuthorsKey do
    use Ecto.Migration

    def change do
      alter table(:authors) do
        modify(:id, :bigint, primary_key: false)
      end
    end
  end

  setup do
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_keys_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    # One connection: what a failed rebuild leaves on it is what the next query sees.
    on_exit(fn -> File.rm_rf!(dir) end)
    config = [database: Path.join(dir, "keys.db"), pool_size: 1]
    Application.put_env(:ecto_libsql, Repo, config)
    start_supervised!(Repo)

    Repo.query!("CREATE TABLE legacy (name TEXT, n INTEGER)")
    Repo.query!("CREATE INDEX legacy_name ON legacy (name)")
    Repo.query!("CREATE TABLE audit (name TEXT)")

    Repo.query!(
      "CREATE TRIGGER legacy_audit AFTER INSERT ON legacy BEGIN INSERT INTO audit VALUES (NEW.name); END"
    )

    Repo.query!("INSERT INTO legacy (name, n) VALUES ('a', 1), ('b', 2), ('c', 3)")
    Repo.query!("DELETE FROM legacy WHERE name = 'b'")
    :ok
  end

  defp migrate(version, module, direction \\ :up),
    do: Ecto.Migrator.run(Repo, [{version, module}], direction, all: true, log: false)

  defp rows(sql), do: Repo.query!(sql).rows
  defp key_columns(table), do: rows("SELECT name FROM pragma_table_info('#{table}') WHERE pk > 0")

  defp schema_objects(table),
    do: rows("SELECT type, name FROM sqlite_master WHERE tbl_name = '#{table}' ORDER BY name")

  test "adding an integer primary key column keeps the rows and their rowids" do
    objects = schema_objects("legacy")
    assert [1] = migrate(1, AddRowidKey)

    assert key_columns("legacy") == [["id"]]

    assert rows("SELECT id, name, n, note FROM legacy ORDER BY id") == [
             [1, "a", 1, "n"],
             [3, "c", 3, "n"]
           ]

    assert schema_objects("legacy") == objects

    # The column is the rowid: new rows are numbered; the trigger still fires.
    Repo.query!("INSERT INTO legacy (name) VALUES ('d')")
    assert rows("SELECT id FROM legacy WHERE name = 'd'") == [[4]]
    assert rows("SELECT name FROM audit ORDER BY name") == [["a"], ["b"], ["c"], ["d"]]

    # Removing a primary key column (which DROP COLUMN refuses) rebuilds the table again.
    assert [1] = migrate(1, AddRowidKey, :down)
    assert key_columns("legacy") == []
    assert rows("SELECT * FROM legacy ORDER BY name") == [["a", 1], ["c", 3], ["d", nil]]
    assert schema_objects("legacy") == objects
  end

  test "a new primary key other than the rowid needs an empty table" do
    assert_raise ArgumentError,
                 ~r/^cannot add primary key column code to table legacy: it has rows/,
                 fn -> migrate(2, AddTextKey) end

    assert rows("SELECT name FROM legacy ORDER BY name") == [["a"], ["c"]]
    assert key_columns("legacy") == []

    Repo.query!("DELETE FROM legacy")
    assert [2] = migrate(2, AddTextKey)
    assert key_columns("legacy") == [["code"]]
    assert [2] = migrate(2, AddTextKey, :down)

    # Several new key columns make one composite key.
    assert [3] = migrate(3, AddCompositeKey)
    assert key_columns("legacy") == [["a"], ["b"]]
    assert [3] = migrate(3, AddCompositeKey, :down)
    assert rows("SELECT name FROM pragma_table_info('legacy')") == [["name"], ["n"]]
  end

  test "a key other tables refer to changes type keeping rows, indexes, triggers and references" do
    assert [4] = migrate(4, CreateAuthors)
    Repo.query!("INSERT INTO authors (id, name) VALUES (1, 'ann'), (2, 'bob')")
    Repo.query!("INSERT INTO posts (author_id) VALUES (2)")
    authors = schema_objects("authors")
    posts = schema_objects("posts")

    assert [5] = migrate(5, RetypeKeys)

    assert rows("SELECT id, name FROM authors ORDER BY id") == [[1, "ann"], [2, "bob"]]
    assert rows("SELECT author_id FROM posts ORDER BY id") == [[1], [2], [2]]
    assert key_columns("authors") == [["id"]]
    assert schema_objects("authors") == authors
    assert schema_objects("posts") == posts
    assert rows("PRAGMA foreign_key_check") == []
    assert rows("PRAGMA foreign_keys") == [[1]]

    assert rows(
             "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('posts')"
           ) ==
             [["authors", "author_id", "id", "CASCADE"]]

    assert_raise EctoLibSql.Error, ~r/FOREIGN KEY constraint failed/, fn ->
      Repo.query!("INSERT INTO posts (author_id) VALUES (99)")
    end

    # Still the rowid (numbered rows), the trigger fires, the new ON DELETE acts.
    Repo.query!("INSERT INTO authors (name) VALUES ('cy')")
    assert rows("SELECT id FROM authors WHERE name = 'cy'") == [[3]]
    Repo.query!("DELETE FROM authors WHERE id = 2")
    assert rows("SELECT author_id FROM posts ORDER BY id") == [[1], [3]]

    assert [5] = migrate(5, RetypeKeys, :down)
    assert rows("SELECT on_delete FROM pragma_foreign_key_list('posts')") == [["NO ACTION"]]
    assert rows("PRAGMA foreign_key_check") == []
    assert schema_objects("authors") == authors
  end

  test "a rebuild that breaks references raises and leaves enforcement on" do
    assert [4] = migrate(4, CreateAuthors)
    Repo.query!("INSERT INTO authors (id, name) VALUES (1, 'ann')")

    # Without its primary key authors.id can no longer be referred to.
    assert_raise EctoLibSql.Error, ~r/foreign key mismatch - "posts" referencing "authors"/, fn ->
      migrate(6, DropAuthorsKey)
    end

    assert key_columns("authors") == [["id"]]
    assert rows("SELECT name FROM authors") == [["ann"]]
    assert rows("PRAGMA foreign_keys") == [[1]]

    assert_raise ArgumentError,
                 "cannot add a primary key to table authors: it has one (id)",
                 fn ->
                   migrate(7, AddSecondKey)
                 end
  end
end
