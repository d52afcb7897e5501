defmodule Ecto.Adapters.LibSql.MigrationDdlTest do
  # Migration DDL as the original adapter answered it (binaries, its spelling, column types,
  # defaults, table options and validation messages), with its defects fixed; every statement
  # that should run is run on a real database.
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog
  alias Ecto.Adapters.LibSql.Connection
  alias Ecto.Migration.{Constraint, Index, Reference, Table}
  alias EctoLibSql.Native

  setup do
    {:ok, state} = Native.connect(database: ":memory:")
    on_exit(fn -> Native.close(state) end)
    %{db: state}
  end

  defp ddl(definition), do: Connection.execute_ddl(definition)

  defp create(name, columns, options \\ nil),
    do: ddl({:create, %Table{name: name, options: options}, columns})

  defp run!(db, [sql]), do: run!(db, sql)

  defp run!(db, sql) when is_binary(sql) do
    {:ok, result} = Native.execute(db, sql)
    result
  end

  defp rows!(db, sql), do: run!(db, sql).rows

  describe "execute_ddl/1 answers binaries spelt as the original's" do
    test "create, drop, alter, indexes and renames" do
      [sql] =
        create(:users, [
          {:add, :id, :id, [primary_key: true]},
          {:add, :name, :string, [null: false, default: "x"]},
          {:add, :active, :boolean, [default: true]}
        ])

      assert sql ==
               ~s{CREATE TABLE "users" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL DEFAULT 'x', "active" INTEGER DEFAULT 1)}

      assert ddl({:drop, %Table{name: :users}, :restrict}) == [~s{DROP TABLE "users"}]

      assert ddl({:drop_if_exists, %Table{name: :users}, :restrict}) ==
               [~s{DROP TABLE IF EXISTS "users"}]

      assert ddl({:alter, %Table{name: :users}, [{:add, :bio, :text, []}]}) ==
               [~s{ALTER TABLE "users" ADD COLUMN "bio" TEXT}]

      assert ddl({:alter, %Table{name: :users}, [{:remove, :age, :integer, []}]}) ==
               [~s{ALTER TABLE "users" DROP COLUMN "age"}]

      assert ddl({:create, %Index{name: :users_email_index, table: :users, columns: [:email]}}) ==
               [~s{CREATE INDEX "users_email_index" ON "users" ("email")}]

      assert ddl(
               {:create_if_not_exists,
                %Index{name: :i, table: :users, columns: [:name, :email], unique: true}}
             ) == [~s{CREATE UNIQUE INDEX IF NOT EXISTS "i" ON "users" ("name", "email")}]

      assert ddl({:drop, %Index{name: :i, table: :users}, :restrict}) == [~s{DROP INDEX "i"}]

      assert ddl({:rename, %Table{name: :users}, :old_name, :new_name}) ==
               [~s{ALTER TABLE "users" RENAME COLUMN "old_name" TO "new_name"}]

      assert ddl({:rename, %Table{name: :old}, %Table{name: :new}}) ==
               [~s{ALTER TABLE "old" RENAME TO "new"}]

      assert ddl("CREATE TABLE raw (x)") == ["CREATE TABLE raw (x)"]
    end

    test "composite primary keys are spelt with \", \"", %{db: db} do
      [sql] =
        create(:user_roles, [
          {:add, :user_id, :integer, [primary_key: true]},
          {:add, :role_id, :integer, [primary_key: true]}
        ])

      assert sql =~ ~s{PRIMARY KEY ("user_id", "role_id")}
      run!(db, sql)
    end

    test "modify is libSQL's ALTER COLUMN, as the original wrote it" do
      assert ddl({:alter, %Table{name: :users}, [{:modify, :age, :string, [null: false]}]}) ==
               [~s{ALTER TABLE "users" ALTER COLUMN "age" TO "age" TEXT NOT NULL}]
    end
  end

  describe "column types" do
    test "the original's declared types", %{db: db} do
      for {type, opts, declared} <- [
            {:id, [], "INTEGER"},
            {:integer, [], "INTEGER"},
            {:boolean, [], "INTEGER"},
            {:binary_id, [], "TEXT"},
            {:uuid, [], "TEXT"},
            {:string, [], "TEXT"},
            {:string, [size: 80], "TEXT(80)"},
            {:text, [], "TEXT"},
            {:binary, [], "BLOB"},
            {:binary, [size: 16], "BLOB(16)"},
            {:map, [], "TEXT"},
            {{:map, :string}, [], "TEXT"},
            {:float, [], "REAL"},
            {:decimal, [], "DECIMAL"},
            {:decimal, [precision: 10, scale: 2], "DECIMAL(10,2)"},
            {:decimal, [precision: 10], "DECIMAL(10)"},
            {:date, [], "DATE"},
            {:time, [], "TIME"},
            {:time_usec, [], "TIME"},
            {:naive_datetime, [], "DATETIME"},
            {:naive_datetime_usec, [], "DATETIME"},
            {:utc_datetime, [], "DATETIME"},
            {:utc_datetime_usec, [], "DATETIME"},
            {:my_type, [], "MY_TYPE"},
            {"VARCHAR(3)", [], "VARCHAR(3)"}
          ] do
        [sql] = create(:types, [{:add, :col, type, opts}])
        assert sql == ~s{CREATE TABLE "types" ("col" #{declared})}, inspect({type, opts})
      end

      # DATE, TIME and DATETIME keep ISO 8601 text as text (their NUMERIC affinity does not
      # turn it into a number).
      run!(db, ~s{CREATE TABLE t (d DATE, t TIME, dt DATETIME)})
      run!(db, "INSERT INTO t VALUES ('2024-01-02', '10:30:00', '2024-01-02T10:30:00Z')")

      assert rows!(db, "SELECT typeof(d), typeof(t), typeof(dt) FROM t") == [
               ["text", "text", "text"]
             ]
    end

    # The original raised for arrays; here they are JSON text, as Ecto's own migrations (and
    # its integration suites) use them.
    test "arrays are JSON text columns" do
      assert create(:t, [{:add, :tags, {:array, :string}, [default: []]}]) ==
               [~s{CREATE TABLE "t" ("tags" TEXT DEFAULT '[]')}]
    end
  end

  describe "defaults" do
    test "temporal defaults are ISO 8601 text, not JSON", %{db: db} do
      {:ok, dt, _} = DateTime.from_iso8601("2026-01-16T14:30:00Z")

      [sql] =
        create(:events, [
          {:add, :at, :utc_datetime, [default: dt]},
          {:add, :naive, :naive_datetime, [default: ~N[2026-01-16 14:30:00.000000]]},
          {:add, :day, :date, [default: ~D[2026-01-16]]},
          {:add, :time, :time, [default: ~T[14:30:45.123456]]},
          {:add, :n, :integer, []}
        ])

      assert sql =~ ~s{"at" DATETIME DEFAULT '2026-01-16T14:30:00Z'}
      assert sql =~ ~s{"naive" DATETIME DEFAULT '2026-01-16T14:30:00.000000'}
      assert sql =~ ~s{"day" DATE DEFAULT '2026-01-16'}
      assert sql =~ ~s{"time" TIME DEFAULT '14:30:45.123456'}
      refute sql =~ ~s{'"}

      run!(db, sql)
      run!(db, "INSERT INTO events (n) VALUES (1)")

      assert rows!(db, "SELECT at, naive, day, time FROM events") == [
               [
                 "2026-01-16T14:30:00Z",
                 "2026-01-16T14:30:00.000000",
                 "2026-01-16",
                 "14:30:45.123456"
               ]
             ]
    end

    test "values the original wrote as it wrote them", %{db: db} do
      [sql] =
        create(:d, [
          {:add, :s, :string, [default: "it's"]},
          {:add, :i, :integer, [default: 0]},
          {:add, :f, :float, [default: 5.0]},
          {:add, :b, :boolean, [default: false]},
          {:add, :price, :decimal, [default: Decimal.new("-42.50")]},
          {:add, :meta, :map, [default: %{"a" => [1, nil]}]},
          {:add, :none, :string, [default: nil]},
          {:add, :null, :string, [default: :null]}
        ])

      assert sql ==
               ~s{CREATE TABLE "d" ("s" TEXT DEFAULT 'it''s', "i" INTEGER DEFAULT 0, } <>
                 ~s{"f" REAL DEFAULT 5.0, "b" INTEGER DEFAULT 0, "price" DECIMAL DEFAULT '-42.50', } <>
                 "\"meta\" TEXT DEFAULT '{\"a\":[1,null]}', \"none\" TEXT, \"null\" TEXT)"

      run!(db, sql)
      run!(db, "INSERT INTO d DEFAULT VALUES")

      assert rows!(db, "SELECT s, i, f, b, price, meta, none FROM d") == [
               ["it's", 0, 5.0, 0, -42.5, ~s({"a":[1,null]}), nil]
             ]
    end

    # The original wrote `DEFAULT datetime('now')`, which SQLite refuses: an expression default
    # needs parentheses.
    test "fragment defaults are parenthesised expressions", %{db: db} do
      [sql] = create(:f, [{:add, :at, :string, [default: {:fragment, "datetime('now')"}]}])
      assert sql == ~s{CREATE TABLE "f" ("at" TEXT DEFAULT (datetime('now')))}
      run!(db, sql)
      run!(db, "INSERT INTO f DEFAULT VALUES")
      assert [[at]] = rows!(db, "SELECT at FROM f")
      assert {:ok, _} = NaiveDateTime.from_iso8601(at)
    end

    test "a value without an SQL form leaves the default out with the original's warning" do
      log =
        capture_log(fn ->
          assert create(:u, [{:add, :status, :string, [default: :unknown]}]) ==
                   [~s{CREATE TABLE "u" ("status" TEXT)}]
        end)

      assert log =~ "Unsupported default value type in migration: :unknown"

      log =
        capture_log(fn ->
          assert create(:u, [{:add, :m, :map, [default: %{"pid" => self()}]}]) ==
                   [~s{CREATE TABLE "u" ("m" TEXT)}]

          assert create(:u, [{:add, :l, :text, [default: [fn -> :ok end]]}]) ==
                   [~s{CREATE TABLE "u" ("l" TEXT)}]
        end)

      assert log =~ "Failed to JSON encode map default value in migration"
      assert log =~ "Failed to JSON encode list default value in migration"
    end

    test "a decimal default a DECIMAL column cannot hold exactly raises" do
      assert_raise ArgumentError, ~r/cannot be stored exactly/, fn ->
        create(:p, [{:add, :price, :decimal, [default: Decimal.new("12345678901234567.89")]}])
      end

      # a TEXT column keeps the digits
      assert [sql] =
               create(:p, [{:add, :v, :string, [default: Decimal.new("12345678901234567.89")]}])

      assert sql =~ "DEFAULT '12345678901234567.89'"
    end
  end

  describe "generated columns" do
    test "the original's form (expression, stored:) and the SQL form both run", %{db: db} do
      [sql] =
        create(:products, [
          {:add, :price, :float, [null: false]},
          {:add, :qty, :integer, [null: false]},
          {:add, :total, :float, [generated: "price * qty", stored: true]},
          {:add, :half, :float, [generated: "price / 2"]},
          {:add, :double, :float, [generated: "ALWAYS AS (price * 2) STORED"]},
          {:add, :triple, :float, [generated: "AS (price * 3)"]}
        ])

      assert sql =~ ~s{"total" REAL GENERATED ALWAYS AS (price * qty) STORED}
      assert sql =~ ~s{"half" REAL GENERATED ALWAYS AS (price / 2),}
      assert sql =~ ~s{"double" REAL GENERATED ALWAYS AS (price * 2) STORED}
      assert sql =~ ~s{"triple" REAL GENERATED AS (price * 3))}

      run!(db, sql)
      run!(db, "INSERT INTO products (price, qty) VALUES (2.0, 3)")

      assert rows!(db, "SELECT total, half, double, triple FROM products") == [
               [6.0, 1.0, 4.0, 6.0]
             ]
    end

    test "the original's validation messages" do
      assert_raise ArgumentError,
                   "generated columns cannot have a DEFAULT value (SQLite constraint)",
                   fn ->
                     create(:t, [{:add, :c, :string, [generated: "x", default: "y"]}])
                   end

      assert_raise ArgumentError,
                   "generated columns cannot be part of a PRIMARY KEY (SQLite constraint)",
                   fn ->
                     create(:t, [{:add, :c, :integer, [primary_key: true, generated: "1"]}])
                   end

      assert_raise ArgumentError, ~r/generated: takes an SQL expression as a string/, fn ->
        create(:t, [{:add, :c, :integer, [generated: 1]}])
      end
    end
  end

  describe "references" do
    test "an unnamed reference is written as the original wrote it", %{db: db} do
      run!(db, "CREATE TABLE places (id TEXT PRIMARY KEY)")

      [sql] =
        create(:visits, [
          {:add, :place_id, %Reference{table: :places, type: :binary_id, on_delete: :delete_all},
           [null: false]}
        ])

      assert sql =~ ~s{"place_id" TEXT REFERENCES "places"("id") ON DELETE CASCADE NOT NULL}
      run!(db, sql)
    end

    test "column: nil references the id column", %{db: db} do
      run!(db, "CREATE TABLE users (id INTEGER PRIMARY KEY)")

      [sql] =
        create(:posts, [{:add, :user_id, %Reference{table: :users, column: nil, type: :id}, []}])

      assert sql == ~s{CREATE TABLE "posts" ("user_id" INTEGER REFERENCES "users"("id"))}
      run!(db, sql)
    end

    # The driver names a broken key by its CONSTRAINT name or, without one, by Ecto's default
    # `<table>_<column>_fkey`: both reach foreign_key_constraint/3.
    test "a named reference keeps its name and failures report it", %{db: db} do
      run!(db, "PRAGMA foreign_keys = ON")
      run!(db, "CREATE TABLE users (id INTEGER PRIMARY KEY)")

      [sql] =
        create(:posts, [
          {:add, :user_id, %Reference{table: :users, type: :id}, []},
          {:add, :editor_id, %Reference{table: :users, type: :id, name: :posts_editor}, []}
        ])

      assert sql =~ ~s{"editor_id" INTEGER CONSTRAINT "posts_editor" REFERENCES "users"("id")}
      run!(db, sql)

      assert {:error, %{message: message}} =
               Native.execute(db, "INSERT INTO posts (user_id) VALUES (7)")

      assert message =~ "(foreign key: posts_user_id_fkey)"

      assert {:error, %{message: message}} =
               Native.execute(db, "INSERT INTO posts (editor_id) VALUES (7)")

      assert message =~ "(foreign key: posts_editor)"
    end
  end

  describe "table options" do
    test ":strict as an atom, in a list or a keyword, and an SQL string", %{db: db} do
      columns = [{:add, :id, :integer, [primary_key: true]}]

      for options <- [:strict, [:strict], [strict: true]] do
        assert create(:s, columns, options) ==
                 [~s{CREATE TABLE "s" ("id" INTEGER PRIMARY KEY) STRICT}]
      end

      assert create(:s, columns, strict: true, without_rowid: true) ==
               [~s{CREATE TABLE "s" ("id" INTEGER PRIMARY KEY) WITHOUT ROWID, STRICT}]

      assert create(:s, columns, "WITHOUT ROWID") ==
               [~s{CREATE TABLE "s" ("id" INTEGER PRIMARY KEY) WITHOUT ROWID}]

      run!(db, create(:s, columns, :strict))

      assert {:error, %{message: "datatype mismatch"}} =
               Native.execute(db, "INSERT INTO s VALUES ('x')")
    end

    test "primary_key: (Ecto's table option) is accepted and has no effect" do
      assert create(:j, [{:add, :a, :integer, []}], primary_key: false) ==
               [~s{CREATE TABLE "j" ("a" INTEGER)}]
    end

    test "other options raise" do
      assert_raise ArgumentError, ~r/does not support keyword lists in :options/, fn ->
        create(:c, [], capped: true)
      end

      assert_raise ArgumentError, ~r/got: :nope/, fn -> create(:c, [], :nope) end
    end

    test "random_rowid: true writes libSQL's RANDOM ROWID; false writes nothing" do
      columns = [{:add, :id, :id, [primary_key: true]}, {:add, :token, :string, []}]

      assert create(:sessions, columns, random_rowid: true) ==
               [~s{CREATE TABLE "sessions" ("id" INTEGER PRIMARY KEY, "token" TEXT) RANDOM ROWID}]

      assert create(:sessions, columns, random_rowid: true, strict: true) ==
               [
                 ~s{CREATE TABLE "sessions" ("id" INTEGER PRIMARY KEY, "token" TEXT) RANDOM ROWID, STRICT}
               ]

      assert create(:sessions, columns, random_rowid: false) ==
               [~s{CREATE TABLE "sessions" ("id" INTEGER PRIMARY KEY, "token" TEXT)}]

      assert_raise ArgumentError,
                   "RANDOM ROWID and WITHOUT ROWID are mutually exclusive options (per libSQL specification)",
                   fn -> create(:s, columns, random_rowid: true, without_rowid: true) end

      assert_raise ArgumentError,
                   "RANDOM ROWID and AUTOINCREMENT (on column :id) are mutually exclusive options (per libSQL specification)",
                   fn ->
                     create(
                       :s,
                       [{:add, :id, :id, [primary_key: true, autoincrement: true]}],
                       random_rowid: true
                     )
                   end
    end
  end

  describe "R*Tree virtual tables" do
    @rtree [
      {:add, :id, :integer, [primary_key: true]},
      {:add, :min_lat, :float, []},
      {:add, :max_lat, :float, []},
      {:add, :min_lng, :float, []},
      {:add, :max_lng, :float, []}
    ]

    test "rtree: true creates one with stock SQLite, and it answers range queries", %{db: db} do
      [sql] = create(:places, @rtree, rtree: true)

      assert sql ==
               ~s{CREATE VIRTUAL TABLE "places" USING rtree(id, min_lat, max_lat, min_lng, max_lng)}

      assert ddl({:create_if_not_exists, %Table{name: :places, options: [rtree: true]}, @rtree}) ==
               [
                 ~s{CREATE VIRTUAL TABLE IF NOT EXISTS "places" USING rtree(id, min_lat, max_lat, min_lng, max_lng)}
               ]

      run!(db, sql)
      run!(db, "INSERT INTO places VALUES (1, 51.0, 52.0, -1.0, 0.5), (2, 40.0, 41.0, 2.0, 3.0)")

      assert rows!(db, "SELECT id FROM places WHERE min_lat >= 50 AND max_lng <= 1") == [[1]]
    end

    test "the original's validation messages" do
      column = fn name -> {:add, name, :float, []} end

      assert_raise ArgumentError, ~r/at least 3 columns \(id \+ 1 dimension\)\. Got 2/, fn ->
        create(:r, Enum.take(@rtree, 2), rtree: true)
      end

      assert_raise ArgumentError, ~r/maximum 11 columns \(id \+ 5 dimensions\)\. Got 13/, fn ->
        create(:r, [hd(@rtree) | Enum.map(1..12, &column.(:"c#{&1}"))], rtree: true)
      end

      assert_raise ArgumentError,
                   ~r/odd number of columns \(id \+ min\/max pairs\)\. Got 4/,
                   fn ->
                     create(:r, Enum.take(@rtree, 4), rtree: true)
                   end

      assert_raise ArgumentError, ~r/must have 'id' as the first column. Got 'min_lat'/, fn ->
        create(:r, tl(@rtree) ++ [column.(:extra)], rtree: true)
      end

      assert_raise ArgumentError,
                   ~r/do not support standard table options. Found incompatible options: :strict, :random_rowid/,
                   fn -> create(:r, @rtree, rtree: true, strict: true, random_rowid: true) end

      assert_raise ArgumentError, ~r/plain identifiers/, fn ->
        create(:r, [hd(@rtree), column.(:"a b"), column.(:c)], rtree: true)
      end
    end
  end

  describe "validation messages of the original" do
    test "constraint DDL" do
      assert_raise ArgumentError,
                   ~r/^LibSQL\/SQLite does not support ALTER TABLE ADD CONSTRAINT/,
                   fn ->
                     ddl(
                       {:create,
                        %Constraint{name: "age_check", table: "users", check: "age >= 0"}}
                     )
                   end

      for command <- [:drop, :drop_if_exists] do
        assert_raise ArgumentError,
                     ~r/^LibSQL\/SQLite does not support ALTER TABLE DROP CONSTRAINT/,
                     fn -> ddl({command, %Constraint{name: "c", table: "users"}, :restrict}) end
      end
    end

    test "a :check that is not a string" do
      assert_raise ArgumentError,
                   "CHECK constraint expression must be a binary string, got: 123",
                   fn -> create(:u, [{:add, :age, :integer, [check: 123]}]) end
    end

    test "keyword lists in execute" do
      assert_raise ArgumentError,
                   "SQLite adapter does not support keyword lists in execute",
                   fn ->
                     ddl(foo: :bar)
                   end
    end
  end
end
