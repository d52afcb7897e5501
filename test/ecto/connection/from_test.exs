defmodule Ecto.Adapters.LibSql.Connection.FromTest do
  # FROM: tables with and without schemas, aliases, prefixes (attached databases), hints,
  # subqueries, fragments and values lists.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "a schema's table, aliased by its first letter and position" do
    assert all(from(p in Post, select: p.id)) == ~s{SELECT p0."id" FROM "posts" AS p0}
  end

  test "a table without a schema" do
    assert all(from(c in "categories", select: c.name)) ==
             ~s{SELECT c0."name" FROM "categories" AS c0}
  end

  test "a table name keeps its case, and one not starting with a letter is aliased t" do
    assert SQL.all(plan(from(p in "Posts", select: p.id))) ==
             ~s{SELECT P0."id" FROM "Posts" AS P0}

    assert SQL.all(plan(from(p in "0posts", select: p.id))) ==
             ~s{SELECT t0."id" FROM "0posts" AS t0}
  end

  test "a table name with a double quote is quoted" do
    assert SQL.all(plan(from(p in ~s{we"ird}, select: p.id))) ==
             ~s{SELECT w0."id" FROM "we""ird" AS w0}
  end

  test "all columns of a schema-less table, as the original adapter selected them" do
    assert all(from(c in "categories", select: c)) == ~s{SELECT c0.* FROM "categories" AS c0}
  end

  describe "prefixes are attached databases" do
    test "from/2 prefix:" do
      assert all(from(p in Post, prefix: "other", select: p.title)) ==
               ~s{SELECT p0."title" FROM "other"."posts" AS p0}
    end

    test "the query's prefix applies to every table" do
      query =
        from(p in Post, join: c in assoc(p, :comments), select: {p.id, c.id})
        |> Map.put(:prefix, "other")

      assert all(query) ==
               ~s{SELECT p0."id", c1."id" FROM "other"."posts" AS p0 } <>
                 ~s{INNER JOIN "other"."comments" AS c1 ON c1."post_id" = p0."id"}
    end

    test "a join's prefix: overrides the query's" do
      query =
        from(p in Post,
          prefix: "other",
          join: c in Comment,
          prefix: "main",
          on: c.post_id == p.id,
          select: c.body
        )

      assert all(query) ==
               ~s{SELECT c1."body" FROM "other"."posts" AS p0 } <>
                 ~s{INNER JOIN "main"."comments" AS c1 ON c1."post_id" = p0."id"}
    end
  end

  describe "hints" do
    test "a hint follows the table: SQLite's INDEXED BY" do
      run!("CREATE INDEX posts_visits ON posts (visits)")

      assert all(from(p in Post, hints: ["INDEXED BY posts_visits"], select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 INDEXED BY posts_visits}
    end

    test "NOT INDEXED" do
      assert all(from(p in Post, hints: "NOT INDEXED", select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 NOT INDEXED}
    end
  end

  describe "subqueries" do
    test "from a subquery" do
      query = from(p in "posts", select: %{x: p.title, y: p.body}) |> subquery()

      assert all(from(s in query, select: s.x)) ==
               ~s{SELECT s0."x" FROM (SELECT sp0."title" AS "x", sp0."body" AS "y" FROM "posts" AS sp0) AS s0}
    end

    test "all the columns of a subquery" do
      query = from(p in "posts", select: %{x: p.title, z: p.body}) |> subquery()

      assert all(from(s in query, select: s)) ==
               ~s{SELECT s0."x", s0."z" FROM (SELECT sp0."title" AS "x", sp0."body" AS "z" FROM "posts" AS sp0) AS s0}
    end

    test "a subquery of a subquery prefixes the aliases once more" do
      query =
        from(p in "posts", select: %{x: p.title, z: p.body})
        |> subquery()
        |> select([s], s)
        |> subquery()

      assert all(from(s in query, select: s)) ==
               ~s{SELECT s0."x", s0."z" FROM (SELECT ss0."x" AS "x", ss0."z" AS "z" FROM } <>
                 ~s{(SELECT ssp0."title" AS "x", ssp0."body" AS "z" FROM "posts" AS ssp0) AS ss0) AS s0}
    end

    test "a subquery's parameters keep their numbers" do
      query = from(p in Post, where: p.visits > ^1, select: %{id: p.id}) |> subquery()

      assert all(from(s in query, where: s.id < ^9, select: s.id)) ==
               ~s{SELECT s0."id" FROM (SELECT sp0."id" AS "id" FROM "posts" AS sp0 WHERE (sp0."visits" > ?1)) AS s0 } <>
                 ~s{WHERE (s0."id" < ?2)}
    end
  end

  describe "fragments" do
    test "a SELECT fragment is a subquery" do
      assert all(from(f in fragment("select ? as x", ^"abc"), select: f.x)) ==
               ~s{SELECT f0."x" FROM (select ?1 as x) AS f0}
    end

    test "a fragment source with a fragment select" do
      assert all(from(f in fragment("select ? as x", ^"abc"), select: fragment("x"))) ==
               ~s{SELECT x FROM (select ?1 as x) AS f0}
    end

    test "a table-valued function stays as written" do
      assert all(from(f in fragment("json_each(?)", ^"[1,2]"), select: f.value)) ==
               ~s{SELECT f0."value" FROM json_each(?1) AS f0}

      assert run!(all(from(f in fragment("json_each(?)", ^"[1,2]"), select: f.value)), [
               "[1,2]"
             ]) == [[1], [2]]
    end

    test "a WITH query fragment is a subquery" do
      query = from(f in fragment("WITH t(x) AS (SELECT 1) SELECT x FROM t"), select: f.x)

      assert all(query) == ~s{SELECT f0."x" FROM (WITH t(x) AS (SELECT 1) SELECT x FROM t) AS f0}
      assert run!(all(query)) == [[1]]
    end

    test "a VALUES fragment is a subquery" do
      query = from(f in fragment("VALUES (1), (2)"), select: fragment("column1"))
      assert all(query) == ~s{SELECT column1 FROM (VALUES (1), (2)) AS f0}
      assert run!(all(query)) == [[1], [2]]
    end
  end

  describe "values lists" do
    test "from values/2: SQLite's column1, column2... named after the fields" do
      query =
        from(v in values([%{a: 1, b: "x"}, %{a: 2, b: "y"}], %{a: :integer, b: :string}),
          select: {v.a, v.b}
        )

      assert all(query) ==
               ~s{SELECT v0."a", v0."b" FROM (SELECT column1 AS "a", column2 AS "b" } <>
                 ~s{FROM (VALUES (?1,?2),(?3,?4))) AS v0}

      assert run!(all(query), [1, "x", 2, "y"]) == [[1, "x"], [2, "y"]]
    end
  end
end
