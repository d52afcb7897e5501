defmodule Ecto.Adapters.LibSql.Connection.CteTest do
  # Common table expressions: WITH, WITH RECURSIVE, materialisation, fragments, CTEs of
  # update_all and delete_all, and the data-modifying CTEs SQLite does not have.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  defp tree_query do
    initial =
      from(c in "categories",
        where: is_nil(c.parent_id),
        select: %{id: c.id, depth: fragment("1")}
      )

    iteration =
      from(c in "categories",
        join: t in "tree",
        on: t.id == c.parent_id,
        select: %{id: c.id, depth: fragment("? + 1", t.depth)}
      )

    union_all(initial, ^iteration)
  end

  test "a recursive CTE" do
    query =
      Post
      |> recursive_ctes(true)
      |> with_cte("tree", as: ^tree_query())
      |> join(:inner, [p], t in "tree", on: t.id == p.category_id)
      |> select([p, t], %{id: p.id, category_id: t.id, depth: type(t.depth, :integer)})

    assert all(query) ==
             ~s{WITH RECURSIVE "tree" AS } <>
               ~s{(SELECT sc0."id" AS "id", 1 AS "depth" FROM "categories" AS sc0 WHERE (sc0."parent_id" IS NULL) } <>
               ~s{UNION ALL SELECT sc0."id", st1."depth" + 1 FROM "categories" AS sc0 } <>
               ~s{INNER JOIN "tree" AS st1 ON st1."id" = sc0."parent_id") } <>
               ~s{SELECT p0."id", t1."id", CAST(t1."depth" AS INTEGER) FROM "posts" AS p0 } <>
               ~s{INNER JOIN "tree" AS t1 ON t1."id" = p0."category_id"}
  end

  test "a recursive CTE walks the tree" do
    query =
      from(t in "tree", order_by: t.id, select: {t.id, type(t.depth, :integer)})
      |> recursive_ctes(true)
      |> with_cte("tree", as: ^tree_query())

    run!("INSERT INTO categories (id, parent_id) VALUES (1, NULL), (2, 1), (3, 2), (4, NULL)")
    assert run!(all(query)) == [[1, 1], [2, 2], [3, 3], [4, 1]]
  end

  test "a CTE referenced by the members of a union" do
    scope =
      from(c in "comments",
        where: is_nil(c.deleted_at),
        select: %{post_id: c.post_id, body: c.body}
      )

    posts =
      from(p in "posts", join: c in "scope", on: c.post_id == p.id, select: [p.title, c.body])

    others =
      from(a in "authors", join: c in "scope", on: c.post_id == a.id, select: [a.name, c.body])

    query = posts |> union_all(^others) |> with_cte("scope", as: ^scope)

    assert all(query) ==
             ~s{WITH "scope" AS (SELECT sc0."post_id" AS "post_id", sc0."body" AS "body" } <>
               ~s{FROM "comments" AS sc0 WHERE (sc0."deleted_at" IS NULL)) } <>
               ~s{SELECT p0."title", s1."body" FROM "posts" AS p0 INNER JOIN "scope" AS s1 ON s1."post_id" = p0."id" } <>
               ~s{UNION ALL SELECT a0."name", s1."body" FROM "authors" AS a0 INNER JOIN "scope" AS s1 ON s1."post_id" = a0."id"}
  end

  test "a fragment CTE" do
    query =
      Post
      |> with_cte("roots",
        as: fragment("SELECT id, parent_id FROM categories WHERE parent_id IS NULL")
      )
      |> join(:inner, [p], r in "roots", on: r.id == p.category_id)
      |> select([p], p.id)

    assert all(query) ==
             ~s{WITH "roots" AS (SELECT id, parent_id FROM categories WHERE parent_id IS NULL) } <>
               ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN "roots" AS r1 ON r1."id" = p0."category_id"}
  end

  test "a materialised CTE" do
    query =
      Post
      |> with_cte("ids", as: ^from(p in Post, select: %{id: p.id}), materialized: true)
      |> join(:inner, [p], i in "ids", on: i.id == p.id)
      |> select([p], p.id)

    assert all(query) ==
             ~s{WITH "ids" AS MATERIALIZED(SELECT sp0."id" AS "id" FROM "posts" AS sp0) } <>
               ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN "ids" AS i1 ON i1."id" = p0."id"}
  end

  test "a CTE that is not materialised" do
    query =
      Post
      |> with_cte("ids", as: ^from(p in Post, select: %{id: p.id}), materialized: false)
      |> join(:inner, [p], i in "ids", on: i.id == p.id)
      |> select([p], p.id)

    assert all(query) ==
             ~s{WITH "ids" AS NOT MATERIALIZED(SELECT sp0."id" AS "id" FROM "posts" AS sp0) } <>
               ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN "ids" AS i1 ON i1."id" = p0."id"}
  end

  test "several CTEs and parameters everywhere, numbered in order" do
    cte1 = from(p in "posts", where: fragment("?", ^1), select: %{id: p.id, flag: ^true})
    union = from(p in "posts", where: fragment("?", ^5), select: {p.id, ^true})
    union_all = from(c in "comments", where: fragment("?", ^6), select: {c.id, ^false})

    query =
      "posts"
      |> with_cte("cte1", as: ^cte1)
      |> with_cte("cte2", as: fragment("SELECT * FROM posts WHERE ?", ^2))
      |> select([p], {p.id, ^true})
      |> join(:inner, [], Comment, on: fragment("?", ^true))
      |> join(:inner, [], Comment, on: fragment("?", ^false))
      |> where([], fragment("?", ^true))
      |> where([], fragment("?", ^false))
      |> having([], fragment("?", ^true))
      |> having([], fragment("?", ^false))
      |> group_by([], fragment("?", ^3))
      |> group_by([], fragment("?", ^4))
      |> union(^union)
      |> union_all(^union_all)
      |> limit([], ^7)
      |> offset([], ^8)

    assert all(query) ==
             ~s{WITH "cte1" AS (SELECT sp0."id" AS "id", ?1 AS "flag" FROM "posts" AS sp0 WHERE (?2)), } <>
               ~s{"cte2" AS (SELECT * FROM posts WHERE ?3) } <>
               ~s{SELECT p0."id", ?4 FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON ?5 } <>
               ~s{INNER JOIN "comments" AS c2 ON ?6 WHERE (?7) AND (?8) } <>
               ~s{GROUP BY ?9, ?10 HAVING (?11) AND (?12) } <>
               ~s{UNION SELECT p0."id", ?13 FROM "posts" AS p0 WHERE (?14) } <>
               ~s{UNION ALL SELECT c0."id", ?15 FROM "comments" AS c0 WHERE (?16) } <>
               ~s{LIMIT ?17 OFFSET ?18}
  end

  test "a CTE of update_all" do
    targets = from(p in Post, order_by: [asc: :id], limit: 10, select: %{id: p.id})

    query =
      Post
      |> with_cte("targets", as: ^targets)
      |> join(:inner, [p], t in "targets", on: t.id == p.id)
      |> update(set: [visits: 0])

    assert update_all(query) ==
             ~s{WITH "targets" AS (SELECT sp0."id" AS "id" FROM "posts" AS sp0 ORDER BY sp0."id" LIMIT 10) } <>
               ~s{UPDATE "posts" AS p0 SET "visits" = 0 FROM "targets" AS t1 WHERE (t1."id" = p0."id")}
  end

  test "a CTE of delete_all" do
    targets = from(p in Post, join: c in Comment, on: c.post_id == p.id, select: %{id: p.id})

    query =
      Post
      |> with_cte("targets", as: ^targets)
      |> where([p], p.id in subquery(from(t in "targets", select: t.id)))
      |> select([p], p.id)

    assert delete_all(query) ==
             ~s{WITH "targets" AS (SELECT sp0."id" AS "id" FROM "posts" AS sp0 INNER JOIN "comments" AS sc1 ON sc1."post_id" = sp0."id") } <>
               ~s{DELETE FROM "posts" AS p0 WHERE (p0."id" IN (SELECT st0."id" FROM "targets" AS st0)) RETURNING "id"}
  end

  test "a CTE's query may not lock" do
    targets = from(p in Post, lock: "FOR UPDATE SKIP LOCKED", select: %{id: p.id})
    query = Post |> with_cte("t", as: ^targets) |> select([p], p.id)

    assert_raise Ecto.QueryError, ~r/SQLite has no row locks/, fn -> all(query) end
  end

  test "data-modifying CTEs raise: SQLite has none" do
    for {operation, cte} <- [
          update_all: from(p in Post, update: [set: [title: "x"]]),
          delete_all: from(p in Post, where: p.id == 1)
        ] do
      query = Post |> with_cte("t", as: ^cte, operation: operation) |> select([p], p.id)

      assert_raise Ecto.QueryError,
                   ~r/SQLite does not support data-modifying CTEs \(#{operation}\)/,
                   fn -> all(query) end
    end
  end

  test "a CTE inside a subquery" do
    ids = from(p in Post, select: %{id: p.id})

    sub =
      from(i in "ids", select: i.id)
      |> with_cte("ids", as: ^ids)

    assert all(from(c in Comment, where: c.post_id in subquery(sub), select: c.id)) ==
             ~s{SELECT c0."id" FROM "comments" AS c0 WHERE (c0."post_id" IN } <>
               ~s{(WITH "ids" AS (SELECT ssp0."id" AS "id" FROM "posts" AS ssp0) SELECT si0."id" FROM "ids" AS si0))}
  end
end
