defmodule Ecto.Adapters.LibSql.Connection.DdlReferencesTest do
  # Foreign keys: REFERENCES on a column or as a table constraint, their actions, and what
  # SQLite does with them.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  alias Ecto.Migration.{Reference, Table}

  defp create(columns), do: {:create, %Table{name: :children}, columns}
  defp ref(opts), do: struct!(%Reference{table: :parents, type: :id}, opts)

  test "references over several columns are named table constraints" do
    definition =
      {:create, %Table{name: :ref},
       [
         {:add, :col1, :integer, [default: 2]},
         {:add, :parent_id,
          %Reference{
            table: :parent,
            type: :bigint,
            with: [col1: :col1],
            on_delete: :default_all,
            on_update: :update_all
          }, [default: 1]},
         {:add, :other_id, %Reference{table: :other, name: :other_fk, type: :integer}, []}
       ]}

    [sql] = SQL.execute_ddl(definition)

    assert IO.iodata_to_binary(sql) ==
             ~s{CREATE TABLE "ref" ("col1" INTEGER DEFAULT 2, "parent_id" INTEGER DEFAULT 1, } <>
               ~s{"other_id" INTEGER CONSTRAINT "other_fk" REFERENCES "other"("id"), } <>
               ~s{CONSTRAINT "ref_parent_id_fkey" FOREIGN KEY ("parent_id", "col1") REFERENCES "parent"("id", "col1") } <>
               ~s{ON DELETE SET DEFAULT ON UPDATE CASCADE)}

    ddl!(definition)
  end

  test "on_delete column lists: the whole key is SET NULL / SET DEFAULT, part of it raises" do
    ref = fn on_delete, with ->
      {:create, %Table{name: :ref},
       [
         {:add, :col1, :integer, []},
         {:add, :parent_id,
          %Reference{table: :parent, type: :integer, with: with, on_delete: on_delete}, []}
       ]}
    end

    [sql] = SQL.execute_ddl(ref.({:nilify, [:col1, :parent_id]}, col1: :col1))
    assert IO.iodata_to_binary(sql) =~ ~s{REFERENCES "parent"("id", "col1") ON DELETE SET NULL)}

    [sql] = SQL.execute_ddl(ref.({:default, [:parent_id]}, []))
    assert IO.iodata_to_binary(sql) =~ ~s{REFERENCES "parent"("id") ON DELETE SET DEFAULT)}

    assert_raise ArgumentError,
                 ~r/SQLite cannot nilify some columns of a foreign key only: ON DELETE SET NULL acts on every column of the key \(parent_id, col1\)/,
                 fn -> SQL.execute_ddl(ref.({:nilify, [:col1]}, col1: :col1)) end

    assert_raise ArgumentError, ~r/SQLite cannot default some columns/, fn ->
      SQL.execute_ddl(ref.({:default, [:parent_id]}, col1: :col1))
    end
  end

  test "references in a prefixed table stay in its database" do
    [sql] =
      SQL.execute_ddl(
        {:create, %Table{name: :second, prefix: "other"},
         [{:add, :first_id, %Reference{table: :first, type: :integer}, []}]}
      )

    assert IO.iodata_to_binary(sql) ==
             ~s{CREATE TABLE "other"."second" ("first_id" INTEGER REFERENCES "first"("id"))}

    assert_raise ArgumentError, ~r/cannot reference a table in another database/, fn ->
      SQL.execute_ddl(
        {:create, %Table{name: :second},
         [{:add, :first_id, %Reference{table: :first, type: :integer, prefix: "other"}, []}]}
      )
    end
  end

  test "a reference's prefix given in options: is the same as prefix:" do
    assert_raise ArgumentError, ~r/main.children -> other.parents/, fn ->
      execute_ddl(create([{:add, :parent_id, ref(options: [prefix: "other"]), []}]))
    end
  end

  for {on_delete, sql} <- [
        nothing: "",
        delete_all: " ON DELETE CASCADE",
        nilify_all: " ON DELETE SET NULL",
        default_all: " ON DELETE SET DEFAULT",
        restrict: " ON DELETE RESTRICT"
      ] do
    test "on_delete: #{inspect(on_delete)}" do
      assert ddl!(create([{:add, :parent_id, ref(on_delete: unquote(on_delete)), []}])) ==
               [
                 ~s{CREATE TABLE "children" ("parent_id" INTEGER REFERENCES "parents"("id")#{unquote(sql)})}
               ]
    end
  end

  for {on_update, sql} <- [
        nothing: "",
        update_all: " ON UPDATE CASCADE",
        nilify_all: " ON UPDATE SET NULL",
        restrict: " ON UPDATE RESTRICT"
      ] do
    test "on_update: #{inspect(on_update)}" do
      assert ddl!(create([{:add, :parent_id, ref(on_update: unquote(on_update)), []}])) ==
               [
                 ~s{CREATE TABLE "children" ("parent_id" INTEGER REFERENCES "parents"("id")#{unquote(sql)})}
               ]
    end
  end

  for {match, sql} <- [full: " MATCH FULL", simple: " MATCH SIMPLE", partial: " MATCH PARTIAL"] do
    test "match: #{inspect(match)}" do
      assert ddl!(create([{:add, :parent_id, ref(match: unquote(match)), []}])) ==
               [
                 ~s{CREATE TABLE "children" ("parent_id" INTEGER REFERENCES "parents"("id")#{unquote(sql)})}
               ]
    end
  end

  test "match, on_delete and on_update together, in SQLite's order" do
    reference = ref(match: :full, on_delete: :delete_all, on_update: :update_all)

    assert ddl!(create([{:add, :parent_id, reference, [null: false]}])) ==
             [
               ~s{CREATE TABLE "children" ("parent_id" INTEGER REFERENCES "parents"("id") MATCH FULL ON DELETE CASCADE ON UPDATE CASCADE NOT NULL)}
             ]
  end

  test "a referenced column other than id, of another type" do
    assert ddl!(create([{:add, :parent_code, ref(column: :code, type: :string), []}])) ==
             [~s{CREATE TABLE "children" ("parent_code" TEXT REFERENCES "parents"("code"))}]
  end

  test "on_delete: :delete_all cascades in SQLite" do
    run!("PRAGMA foreign_keys = ON")

    [sql] =
      execute_ddl(
        {:create, %Table{name: :notes},
         [{:add, :post_id, %Reference{table: :posts, type: :id, on_delete: :delete_all}, []}]}
      )

    run!(sql)
    run!("INSERT INTO posts (id) VALUES (1), (2)")
    run!("INSERT INTO notes (post_id) VALUES (1), (2)")
    run!("DELETE FROM posts WHERE id = 1")
    assert run!("SELECT post_id FROM notes") == [[2]]
  end

  test "on_delete: :nilify_all sets the key to NULL in SQLite" do
    run!("PRAGMA foreign_keys = ON")

    [sql] =
      execute_ddl(
        {:create, %Table{name: :notes},
         [{:add, :post_id, %Reference{table: :posts, type: :id, on_delete: :nilify_all}, []}]}
      )

    run!(sql)
    run!("INSERT INTO posts (id) VALUES (1)")
    run!("INSERT INTO notes (post_id) VALUES (1)")
    run!("DELETE FROM posts WHERE id = 1")
    assert run!("SELECT post_id FROM notes") == [[nil]]
  end
end
