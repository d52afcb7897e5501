defmodule Ecto.Adapters.LibSql.Connection.DdlTableTest do
  # CREATE, ALTER, DROP and RENAME of tables and columns (more in test/ecto/migration_ddl_test.exs:
  # column types, defaults, generated columns, table options, R*Trees). Every statement that
  # should run is run, on a database of its own (ddl!/2).
  use Ecto.Adapters.LibSql.SqlCase, async: true

  alias Ecto.Migration.{Reference, Table}

  @attach "ATTACH DATABASE ':memory:' AS other"

  describe "create" do
    test "create table with composite primary key, references, check, generated column and STRICT" do
      definition =
        {:create, %Table{name: :line_items, options: [:strict]},
         [
           {:add, :order_id, %Reference{table: :orders, type: :integer, on_delete: :delete_all},
            [primary_key: true]},
           {:add, :position, :integer, [primary_key: true]},
           {:add, :qty, :integer,
            [null: false, default: 1, check: %{name: "qty_positive", expr: "qty > 0"}]},
           {:add, :double, :integer, [generated: "ALWAYS AS (qty * 2) VIRTUAL"]}
         ]}

      [sql] = SQL.execute_ddl(definition)

      assert IO.iodata_to_binary(sql) ==
               ~s{CREATE TABLE "line_items" ("order_id" INTEGER REFERENCES "orders"("id") ON DELETE CASCADE, } <>
                 ~s{"position" INTEGER, "qty" INTEGER NOT NULL DEFAULT 1 CONSTRAINT "qty_positive" CHECK (qty > 0), } <>
                 ~s{"double" INTEGER GENERATED ALWAYS AS (qty * 2) VIRTUAL, PRIMARY KEY ("order_id", "position")) STRICT}

      ddl!(definition)
    end

    test "create_if_not_exists" do
      definition =
        {:create_if_not_exists, %Table{name: :posts}, [{:add, :id, :id, [primary_key: true]}]}

      assert ddl!(definition, [~s{CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY)}]) ==
               [~s{CREATE TABLE IF NOT EXISTS "posts" ("id" INTEGER PRIMARY KEY)}]
    end

    test "in an attached database (a prefix)" do
      assert ddl!(
               {:create, %Table{name: :posts, prefix: "other"},
                [{:add, :id, :id, [primary_key: true]}]},
               [@attach]
             ) ==
               [~s{CREATE TABLE "other"."posts" ("id" INTEGER PRIMARY KEY)}]
    end

    test "an id primary key, with or without AUTOINCREMENT" do
      assert ddl!({:create, %Table{name: :t}, [{:add, :id, :id, [primary_key: true]}]}) ==
               [~s{CREATE TABLE "t" ("id" INTEGER PRIMARY KEY)}]

      assert ddl!(
               {:create, %Table{name: :t},
                [{:add, :id, :id, [primary_key: true, autoincrement: true]}]}
             ) ==
               [~s{CREATE TABLE "t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)}]
    end

    test "serial and bigserial keys are INTEGER PRIMARY KEY, as the original adapter wrote them" do
      for type <- [:serial, :bigserial] do
        assert ddl!({:create, %Table{name: :t}, [{:add, :id, type, [primary_key: true]}]}) ==
                 [~s{CREATE TABLE "t" ("id" INTEGER PRIMARY KEY)}]
      end
    end

    test "a text primary key" do
      assert ddl!({:create, %Table{name: :t}, [{:add, :id, :binary_id, [primary_key: true]}]}) ==
               [~s{CREATE TABLE "t" ("id" TEXT PRIMARY KEY)}]
    end

    test "null: true writes nothing, null: false NOT NULL" do
      assert ddl!(
               {:create, %Table{name: :t},
                [{:add, :a, :string, [null: true]}, {:add, :b, :string, [null: false]}]}
             ) ==
               [~s{CREATE TABLE "t" ("a" TEXT, "b" TEXT NOT NULL)}]
    end

    test "a collation" do
      assert ddl!({:create, %Table{name: :t}, [{:add, :name, :string, [collate: :nocase]}]}) ==
               [~s{CREATE TABLE "t" ("name" TEXT COLLATE nocase)}]
    end

    test "an unnamed check, and a named one" do
      assert ddl!(
               {:create, %Table{name: :t},
                [
                  {:add, :a, :integer, [check: "a > 0"]},
                  {:add, :b, :integer, [check: %{name: "b_small", expr: "b < 10"}]}
                ]}
             ) == [
               ~s{CREATE TABLE "t" ("a" INTEGER CHECK (a > 0), "b" INTEGER CONSTRAINT "b_small" CHECK (b < 10))}
             ]
    end

    test "comments have no place in SQLite and are left out" do
      assert ddl!(
               {:create, %Table{name: :t, comment: "a table"},
                [{:add, :a, :integer, [comment: "a column"]}]}
             ) ==
               [~s{CREATE TABLE "t" ("a" INTEGER)}]
    end

    test "table options: an SQL string and :without_rowid" do
      columns = [{:add, :k, :string, [primary_key: true]}]

      assert ddl!({:create, %Table{name: :t, options: "WITHOUT ROWID, STRICT"}, columns}) ==
               [~s{CREATE TABLE "t" ("k" TEXT PRIMARY KEY) WITHOUT ROWID, STRICT}]

      assert ddl!({:create, %Table{name: :t, options: :without_rowid}, columns}) ==
               [~s{CREATE TABLE "t" ("k" TEXT PRIMARY KEY) WITHOUT ROWID}]
    end

    test "table options the adapter does not know raise" do
      assert_raise ArgumentError,
                   ~r/does not support keyword lists in :options .* got: \{:capped, true\}/,
                   fn ->
                     SQL.execute_ddl({:create, %Table{name: :c, options: [capped: true]}, []})
                   end
    end

    test "a binary default that is not UTF-8 text is a BLOB literal" do
      definition =
        {:create, %Table{name: :b},
         [{:add, :d, :binary, [default: <<0, 1, 255>>]}, {:add, :n, :integer, []}]}

      assert ddl!(definition) == [
               ~s{CREATE TABLE "b" ("d" BLOB DEFAULT (x'0001ff'), "n" INTEGER)}
             ]

      run!(hd(execute_ddl(definition)))
      run!("INSERT INTO b (n) VALUES (1)")
      assert run!("SELECT typeof(d), d FROM b") == [["blob", <<0, 1, 255>>]]
    end

    test "a text default holding NUL is cast from a BLOB literal" do
      definition =
        {:create, %Table{name: :b},
         [{:add, :d, :string, [default: <<0, ?A>>]}, {:add, :n, :integer, []}]}

      assert ddl!(definition) == [
               ~s{CREATE TABLE "b" ("d" TEXT DEFAULT (CAST(x'0041' AS TEXT)), "n" INTEGER)}
             ]

      run!(hd(execute_ddl(definition)))
      run!("INSERT INTO b (n) VALUES (1)")
      assert run!("SELECT typeof(d), length(CAST(d AS BLOB)) FROM b") == [["text", 2]]
    end

    test "a bit string default is text of 0s and 1s" do
      assert ddl!({:create, %Table{name: :t}, [{:add, :bits, :bitstring, [default: <<5::3>>]}]}) ==
               [~s{CREATE TABLE "t" ("bits" BLOB DEFAULT '101')}]
    end

    test "a column type Ecto cannot name raises" do
      assert_raise ArgumentError, ~r/unsupported column type \{:a, :b, :c\}/, fn ->
        execute_ddl({:create, %Table{name: :t}, [{:add, :a, {:a, :b, :c}, []}]})
      end
    end
  end

  describe "drop" do
    test "drop and drop_if_exists in an attached database" do
      given = [@attach, "CREATE TABLE other.posts (id INTEGER)"]

      assert ddl!({:drop, %Table{name: :posts, prefix: "other"}, :restrict}, given) ==
               [~s{DROP TABLE "other"."posts"}]

      assert ddl!({:drop_if_exists, %Table{name: :posts, prefix: "other"}, :restrict}, [@attach]) ==
               [~s{DROP TABLE IF EXISTS "other"."posts"}]
    end

    test "mode: :cascade raises: SQLite's DROP TABLE has no CASCADE" do
      for command <- [:drop, :drop_if_exists] do
        assert_raise ArgumentError,
                     ~r/SQLite's DROP TABLE has no CASCADE: .* on "posts" first/,
                     fn ->
                       execute_ddl({command, %Table{name: :posts}, :cascade})
                     end
      end
    end
  end

  describe "alter" do
    @given [~s{CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY, "summary" TEXT, "body" TEXT)}]

    test "each change is a statement of its own" do
      definition =
        {:alter, %Table{name: :posts},
         [
           {:add, :title, :string, [default: "Untitled", size: 100, null: false]},
           {:add, :author_id, %Reference{table: :authors, type: :id}, []},
           {:remove, :summary},
           {:remove, :body, :text, []}
         ]}

      assert ddl!(definition, @given) == [
               ~s{ALTER TABLE "posts" ADD COLUMN "title" TEXT(100) NOT NULL DEFAULT 'Untitled'},
               ~s{ALTER TABLE "posts" ADD COLUMN "author_id" INTEGER REFERENCES "authors"("id")},
               ~s{ALTER TABLE "posts" DROP COLUMN "summary"},
               ~s{ALTER TABLE "posts" DROP COLUMN "body"}
             ]
    end

    test "in an attached database" do
      given = [@attach, ~s{CREATE TABLE other.posts (id INTEGER PRIMARY KEY)}]

      assert ddl!(
               {:alter, %Table{name: :posts, prefix: "other"}, [{:add, :n, :integer, []}]},
               given
             ) ==
               [~s{ALTER TABLE "other"."posts" ADD COLUMN "n" INTEGER}]
    end

    test "a reference with on_delete added as a column" do
      definition =
        {:alter, %Table{name: :posts},
         [{:add, :author_id, %Reference{table: :authors, type: :id, on_delete: :nilify_all}, []}]}

      assert ddl!(definition, @given) ==
               [
                 ~s{ALTER TABLE "posts" ADD COLUMN "author_id" INTEGER REFERENCES "authors"("id") ON DELETE SET NULL}
               ]
    end

    test "changes the adapter runs by rebuilding the table raise here" do
      for change <- [
            {:add_if_not_exists, :n, :integer, []},
            {:remove_if_exists, :n, :integer}
          ] do
        assert_raise ArgumentError, ~r/needs a table rebuild, which the adapter runs/, fn ->
          execute_ddl({:alter, %Table{name: :posts}, [change]})
        end
      end

      assert_raise ArgumentError, ~r/a reference with `with:` is a table constraint/, fn ->
        execute_ddl(
          {:alter, %Table{name: :posts},
           [{:add, :a_id, %Reference{table: :a, type: :id, with: [b: :b]}, []}]}
        )
      end
    end
  end

  describe "rename" do
    test "a table and a column in an attached database" do
      given = [@attach, ~s{CREATE TABLE other.posts (id INTEGER PRIMARY KEY, a TEXT)}]

      assert ddl!({:rename, %Table{name: :posts, prefix: "other"}, :a, :b}, given) ==
               [~s{ALTER TABLE "other"."posts" RENAME COLUMN "a" TO "b"}]

      assert ddl!(
               {:rename, %Table{name: :posts, prefix: "other"},
                %Table{name: :articles, prefix: "other"}},
               given
             ) ==
               [~s{ALTER TABLE "other"."posts" RENAME TO "articles"}]
    end

    test "names with double quotes" do
      assert ddl!({:rename, %Table{name: :posts}, :summary, :"the \"gist\""}, @given) ==
               [~s{ALTER TABLE "posts" RENAME COLUMN "summary" TO "the ""gist"""}]
    end
  end
end
