defmodule Ecto.Adapters.LibSql.ConnectionTest do
  use ExUnit.Case, async: true

  import Ecto.Query
  alias Ecto.Adapters.LibSql.Connection, as: SQL

  defmodule Post do
    use Ecto.Schema

    schema "posts" do
      field(:title, :string)
      field(:visits, :integer)
      field(:tags, {:array, :string})
      field(:meta, :map)
      field(:inserted_at, :naive_datetime)
      field(:data, :binary)
      has_many(:comments, Ecto.Adapters.LibSql.ConnectionTest.Comment)
    end
  end

  defmodule Comment do
    use Ecto.Schema

    schema "comments" do
      field(:body, :string)
      belongs_to(:post, Ecto.Adapters.LibSql.ConnectionTest.Post)
    end
  end

  defp plan(query, operation \\ :all) do
    {query, _cast, _dump} =
      Ecto.Adapter.Queryable.plan_query(operation, Ecto.Adapters.LibSql, query)

    query
  end

  defp all(query), do: query |> plan() |> SQL.all() |> IO.iodata_to_binary()

  defp update_all(query),
    do: query |> plan(:update_all) |> SQL.update_all() |> IO.iodata_to_binary()

  defp delete_all(query),
    do: query |> plan(:delete_all) |> SQL.delete_all() |> IO.iodata_to_binary()

  test "select with numbered parameters, used again by number" do
    assert all(from(p in Post, where: p.visits > ^1 and p.title == ^"a", select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."visits" > ?1) AND (p0."title" = ?2))}
  end

  test "in with a list parameter expands to numbered parameters" do
    assert all(from(p in Post, where: p.id in ^[1, 2, 3], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (?1, ?2, ?3))}

    assert all(from(p in Post, where: p.id in ^[], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (SELECT NULL WHERE 1=0))}
  end

  test "offset without limit gets LIMIT -1" do
    assert all(from(p in Post, offset: 5, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 LIMIT -1 OFFSET 5}
  end

  test "ordering with nulls first and last" do
    assert all(
             from(p in Post,
               order_by: [asc_nulls_last: p.title, desc_nulls_first: p.id],
               select: p.id
             )
           ) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title" ASC NULLS LAST, p0."id" DESC NULLS FIRST}
  end

  test "unions wrap each member so it may carry its own ORDER BY and LIMIT" do
    other = from(p in Post, select: p.id, order_by: p.id, limit: 1)

    assert all(from(p in Post, select: p.id, union_all: ^other)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 UNION ALL SELECT * FROM (SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."id" LIMIT 1)}
  end

  test "json_extract_path becomes json_extract with a JSON path" do
    assert all(from(p in Post, select: p.meta["author"]["names"][0])) ==
             ~s{SELECT json_extract(p0."meta", '$."author"."names"[0]') FROM "posts" AS p0}
  end

  test "JSON paths: quotes in keys, and elements taken from fields" do
    assert all(from(p in Post, select: p.meta["it's"])) ==
             ~s{SELECT json_extract(p0."meta", '$."it''s"') FROM "posts" AS p0}

    assert all(from(p in Post, select: p.meta["x"]["a\"b"][0])) ==
             ~s{SELECT json_extract((SELECT value FROM json_each(json_extract(p0."meta", '$."x"')) WHERE key = 'a"b'), '$[0]') FROM "posts" AS p0}

    assert all(from(p in Post, select: p.meta[p.title][p.visits])) ==
             ~s{SELECT json_extract(p0."meta", '$' || (CASE WHEN typeof(p0."title") = 'integer' THEN '[' || p0."title" || ']' ELSE '."' || p0."title" || '"' END) || (CASE WHEN typeof(p0."visits") = 'integer' THEN '[' || p0."visits" || ']' ELSE '."' || p0."visits" || '"' END)) FROM "posts" AS p0}
  end

  # Ecto's query macro tags a literal binary with `is_binary(literal)`, which the compiler
  # warns always yields the same result: these queries are expanded when the test runs.
  defp run_time(quoted), do: quoted |> Code.eval_quoted([], __ENV__) |> elem(0)

  test "binary literals are written as the driver binds binaries" do
    query = run_time(quote(do: from(p in Post, where: p.data == <<0, 1, 255>>, select: p.id)))

    assert %Ecto.Query.Tagged{value: <<0, 1, 255>>, type: :binary} =
             hd(query.wheres).expr |> elem(2) |> List.last()

    assert all(query) == ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."data" = x'0001ff')}

    assert all(run_time(quote(do: from(p in Post, where: p.data == <<0, 1>>, select: p.id)))) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."data" = CAST(x'0001' AS TEXT))}

    assert all(from(p in Post, where: p.title == "plain", select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" = 'plain')}
  end

  test "datetime_add and date_add become SQLite date modifiers" do
    assert all(
             from(p in Post,
               where: p.inserted_at > datetime_add(^~N[2020-01-01 00:00:00], -2, "week"),
               select: p.id
             )
           ) =~
             ~s{(SELECT unixepoch(substr(ecto_dt, 1, 19)) * 1000000 + (CASE WHEN substr(ecto_dt, 20, 1) = '.' THEN CAST(substr(replace(substr(ecto_dt, 21, 6), 'Z', '') || '000000', 1, 6) AS INTEGER) ELSE 0 END) + CAST(round((CAST(-2 AS NUMERIC) + 0) * 604800000000) AS INTEGER) AS ecto_us FROM (SELECT ?1 AS ecto_dt))}

    assert all(from(p in Post, select: datetime_add(p.inserted_at, 3, "month"))) =~
             ~s{date(substr(ecto_dt, 1, 10), 'start of month', '3 months') AS ecto_month FROM (SELECT p0."inserted_at" AS ecto_dt)}

    assert all(from(p in Post, select: date_add(p.inserted_at, 3, "day"))) ==
             ~s{SELECT date(p0."inserted_at", '3 days') FROM "posts" AS p0}
  end

  test "exists with parent_as" do
    comments = from(c in Comment, where: parent_as(:post).id == c.post_id, select: 1)

    assert all(from(p in Post, as: :post, where: exists(comments), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (EXISTS (SELECT 1 FROM "comments" AS sc0 WHERE (p0."id" = sc0."post_id")))}
  end

  test "window functions with a named window and a filter" do
    sql =
      all(
        from(p in Post,
          windows: [w: [partition_by: p.title, order_by: p.id]],
          select: {count(p.id) |> over(:w), filter(count(p.id), p.visits > 1)}
        )
      )

    assert sql =~ ~s{count(p0."id") OVER "w"}
    assert sql =~ ~s{count(p0."id") FILTER (WHERE p0."visits" > 1)}
    assert sql =~ ~s{WINDOW "w" AS (PARTITION BY p0."title" ORDER BY p0."id")}
  end

  test "update_all with a join uses UPDATE ... FROM" do
    query =
      from(p in Post,
        join: c in Comment,
        on: c.post_id == p.id,
        where: c.body == "x",
        update: [set: [title: "t"]]
      )

    assert update_all(query) ==
             ~s{UPDATE "posts" AS p0 SET "title" = 't' FROM "comments" AS c1 WHERE (c1."post_id" = p0."id") AND (c1."body" = 'x')}
  end

  test "array push and pull work on JSON arrays" do
    assert update_all(from(p in Post, update: [push: [tags: "a"]])) =~
             ~s{"tags" = json_insert(coalesce(p0."tags", '[]'), '$[#]', 'a')}

    assert update_all(from(p in Post, update: [pull: [tags: "b"]])) =~
             ~s{"tags" = (SELECT json_group_array(value) FROM json_each(p0."tags") WHERE value IS NOT 'b')}
  end

  test "delete_all with a join selects the rows by rowid" do
    query = from(p in Post, join: c in Comment, on: c.post_id == p.id, where: c.body == "x")

    assert delete_all(query) ==
             ~s{DELETE FROM "posts" AS p0 WHERE p0.rowid IN (SELECT p0.rowid FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id" WHERE (c1."body" = 'x'))}
  end

  test "RETURNING names columns unqualified" do
    assert delete_all(from(p in Post, where: p.id == 1, select: p.title)) ==
             ~s{DELETE FROM "posts" AS p0 WHERE (p0."id" = 1) RETURNING "title"}
  end

  test "insert with every on_conflict form" do
    insert = fn on_conflict ->
      SQL.insert(nil, "posts", [:title, :visits], [[:title, :visits]], on_conflict, [:id], [])
      |> IO.iodata_to_binary()
    end

    assert insert.({:raise, [], []}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) RETURNING "id"}

    assert insert.({:nothing, [], [:title]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") DO NOTHING RETURNING "id"}

    assert insert.({[:visits], [], [:title]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") DO UPDATE SET "visits" = excluded."visits" RETURNING "id"}

    assert insert.({[:visits], [], {:unsafe_fragment, "(title) WHERE visits > 0"}}) =~
             ~s{ON CONFLICT (title) WHERE visits > 0 DO UPDATE SET}
  end

  test "insert from a query with on_conflict gets the WHERE SQLite needs to parse it" do
    source = from(p in Post, select: %{title: p.title}) |> plan()

    insert = fn on_conflict ->
      SQL.insert(nil, "posts", [:title], source, on_conflict, [], [])
      |> IO.iodata_to_binary()
    end

    assert insert.({:raise, [], []}) ==
             ~s{INSERT INTO "posts" ("title") SELECT p0."title" FROM "posts" AS p0}

    assert insert.({:nothing, [], [:id]}) ==
             ~s{INSERT INTO "posts" ("title") SELECT * FROM (SELECT p0."title" FROM "posts" AS p0) WHERE true ON CONFLICT ("id") DO NOTHING}
  end

  test "insert_all placeholders bind once by number" do
    sql =
      SQL.insert(
        nil,
        "posts",
        [:title, :visits],
        [[{:placeholder, 1}, :visits], [{:placeholder, 1}, :visits]],
        {:raise, [], []},
        [],
        [1]
      )
      |> IO.iodata_to_binary()

    assert sql == ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2), (?1, ?3)}
  end

  test "expressions SQLite cannot run raise errors that name them" do
    assert_raise Ecto.QueryError, ~r/DISTINCT ON is not supported by SQLite/, fn ->
      all(from(p in Post, distinct: p.title, select: p.id))
    end

    assert_raise Ecto.QueryError, ~r/SQLite has no row locks/, fn ->
      all(from(p in Post, lock: "FOR UPDATE", select: p.id))
    end
  end

  describe "DDL" do
    alias Ecto.Migration.{Index, Reference, Table}

    test "create table with composite primary key, references, check, generated column and STRICT" do
      [sql] =
        SQL.execute_ddl(
          {:create, %Table{name: :line_items, options: [:strict]},
           [
             {:add, :order_id, %Reference{table: :orders, type: :integer, on_delete: :delete_all},
              [primary_key: true]},
             {:add, :position, :integer, [primary_key: true]},
             {:add, :qty, :integer,
              [null: false, default: 1, check: %{name: "qty_positive", expr: "qty > 0"}]},
             {:add, :double, :integer, [generated: "ALWAYS AS (qty * 2) VIRTUAL"]}
           ]}
        )

      assert IO.iodata_to_binary(sql) ==
               ~s{CREATE TABLE "line_items" ("order_id" INTEGER REFERENCES "orders"("id") ON DELETE CASCADE, } <>
                 ~s{"position" INTEGER, "qty" INTEGER NOT NULL DEFAULT 1 CONSTRAINT "qty_positive" CHECK (qty > 0), } <>
                 ~s{"double" INTEGER GENERATED ALWAYS AS (qty * 2) VIRTUAL, PRIMARY KEY ("order_id", "position")) STRICT}
    end

    test "references over several columns are named table constraints" do
      [sql] =
        SQL.execute_ddl(
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
        )

      assert IO.iodata_to_binary(sql) ==
               ~s{CREATE TABLE "ref" ("col1" INTEGER DEFAULT 2, "parent_id" INTEGER DEFAULT 1, } <>
                 ~s{"other_id" INTEGER CONSTRAINT "other_fk" REFERENCES "other"("id"), } <>
                 ~s{CONSTRAINT "ref_parent_id_fkey" FOREIGN KEY ("parent_id", "col1") REFERENCES "parent"("id", "col1") } <>
                 ~s{ON DELETE SET DEFAULT ON UPDATE CASCADE)}
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

    test "table options the adapter does not know raise" do
      assert_raise ArgumentError,
                   ~r/does not support keyword lists in :options .* got: \{:capped, true\}/,
                   fn ->
                     SQL.execute_ddl({:create, %Table{name: :c, options: [capped: true]}, []})
                   end
    end

    test "partial and expression indexes" do
      [sql] =
        SQL.execute_ddl(
          {:create_if_not_exists,
           %Index{
             name: :posts_lower_title_index,
             table: :posts,
             columns: ["lower(title)"],
             unique: true,
             where: "visits > 0"
           }}
        )

      assert IO.iodata_to_binary(sql) ==
               ~s{CREATE UNIQUE INDEX IF NOT EXISTS "posts_lower_title_index" ON "posts" (lower(title)) WHERE visits > 0}
    end
  end

  describe "constraints from SQLite's messages" do
    test "unique violations name the index the driver reports" do
      assert SQL.constraints_from_message(
               "UNIQUE constraint failed: posts.title (index: posts_title_index)"
             ) ==
               [unique: "posts_title_index"]

      assert SQL.constraints_from_message("UNIQUE constraint failed: posts.a, posts.b") ==
               [unique: "posts_a_b_index"]
    end

    test "check constraints keep their name" do
      assert SQL.constraints_from_message("CHECK constraint failed: qty_positive") == [
               check: "qty_positive"
             ]
    end

    test "other messages are not constraints" do
      assert SQL.constraints_from_message("no such table: x") == []
    end
  end
end
