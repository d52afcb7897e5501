defmodule Ecto.Adapters.LibSql.Connection.CombinationsTest do
  # UNION, UNION ALL, EXCEPT and INTERSECT (SQLite has no EXCEPT ALL nor INTERSECT ALL).
  use Ecto.Adapters.LibSql.SqlCase, async: true

  defp base, do: from(p in Post, select: p.id)

  test "a plain member is written as it is" do
    query = base() |> union(^from(c in Comment, select: c.id))

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 UNION SELECT c0."id" FROM "comments" AS c0}
  end

  test "union all, except and intersect" do
    other = from(c in Comment, select: c.post_id)
    tail = ~s{SELECT c0."post_id" FROM "comments" AS c0}

    assert all(union_all(base(), ^other)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 UNION ALL #{tail}}

    assert all(except(base(), ^other)) == ~s{SELECT p0."id" FROM "posts" AS p0 EXCEPT #{tail}}

    assert all(intersect(base(), ^other)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 INTERSECT #{tail}}
  end

  test "the rows each operator answers" do
    run!("INSERT INTO posts (id) VALUES (1), (2), (3)")
    run!("INSERT INTO comments (id, post_id) VALUES (1, 2), (2, 2), (3, 4)")
    other = from(c in Comment, select: c.post_id)
    rows = &(&1 |> all() |> run!() |> List.flatten() |> Enum.sort())

    assert rows.(union(base(), ^other)) == [1, 2, 3, 4]
    assert rows.(union_all(base(), ^other)) == [1, 2, 2, 2, 3, 4]
    assert rows.(except(base(), ^other)) == [1, 3]
    assert rows.(intersect(base(), ^other)) == [2]
  end

  test "unions wrap each member so it may carry its own ORDER BY and LIMIT" do
    other = from(p in Post, select: p.id, order_by: p.id, limit: 1)

    assert all(from(p in Post, select: p.id, union_all: ^other)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 UNION ALL SELECT * FROM (SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."id" LIMIT 1)}
  end

  test "the query's own order, limit and offset apply to the whole compound" do
    first = from(p in Post, select: p.visits, order_by: p.visits, offset: 20, limit: 40)
    second = from(p in Post, select: p.id, order_by: p.id, offset: 30, limit: 60)

    query =
      from(p in Post, select: p.rating, order_by: fragment("1"), offset: 10, limit: 5)
      |> union(^first)
      |> union(^second)

    assert all(query) ==
             ~s{SELECT p0."rating" FROM "posts" AS p0 } <>
               ~s{UNION SELECT * FROM (SELECT p0."visits" FROM "posts" AS p0 ORDER BY p0."visits" LIMIT 40 OFFSET 20) } <>
               ~s{UNION SELECT * FROM (SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."id" LIMIT 60 OFFSET 30) } <>
               ~s{ORDER BY 1 LIMIT 5 OFFSET 10}
  end

  test "a member with only an offset is wrapped" do
    query = base() |> except(^from(c in Comment, select: c.id, offset: 1))

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 EXCEPT SELECT * FROM (SELECT c0."id" FROM "comments" AS c0 LIMIT -1 OFFSET 1)}
  end

  test "a member that is itself a compound keeps its grouping" do
    inner = from(c in Comment, select: c.id) |> except(^from(c in Comment, select: c.post_id))
    query = base() |> union(^inner)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 UNION SELECT * FROM } <>
               ~s{(SELECT c0."id" FROM "comments" AS c0 EXCEPT SELECT c0."post_id" FROM "comments" AS c0)}

    run!("INSERT INTO posts (id) VALUES (1)")
    run!("INSERT INTO comments (id, post_id) VALUES (1, 1), (2, 1)")
    # (posts) UNION ((comments' ids) EXCEPT (their post ids)): 1 stays.
    assert Enum.sort(run!(all(query))) == [[1], [2]]
  end

  test "a member with its own CTE is wrapped" do
    member =
      from(i in "ids", select: i.id)
      |> with_cte("ids", as: ^from(c in Comment, select: %{id: c.id}))

    assert all(base() |> union_all(^member)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 UNION ALL SELECT * FROM } <>
               ~s{(WITH "ids" AS (SELECT sc0."id" AS "id" FROM "comments" AS sc0) SELECT i0."id" FROM "ids" AS i0)}
  end

  test "parameters of the members are numbered after the query's" do
    query =
      from(p in Post, where: p.visits > ^1, select: p.id)
      |> union(^from(c in Comment, where: c.likes > ^2, select: c.id))

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."visits" > ?1) } <>
               ~s{UNION SELECT c0."id" FROM "comments" AS c0 WHERE (c0."likes" > ?2)}
  end

  test "a compound subquery whose members name the parent query" do
    right = from(c in "categories", where: c.id == parent_as(:c).parent_id, select: c.id)
    left = from(c in "categories", where: c.parent_id == parent_as(:c).id, select: c.id)

    query =
      from(c in "categories", as: :c, where: c.id in subquery(union(left, ^right)), select: c.id)

    assert all(query) ==
             ~s{SELECT c0."id" FROM "categories" AS c0 WHERE (c0."id" IN } <>
               ~s{(SELECT sc0."id" FROM "categories" AS sc0 WHERE (sc0."parent_id" = c0."id") } <>
               ~s{UNION SELECT sc0."id" FROM "categories" AS sc0 WHERE (sc0."id" = c0."parent_id")))}
  end

  test "except all and intersect all raise: SQLite has neither" do
    other = from(c in Comment, select: c.id)

    assert_raise Ecto.QueryError, ~r/SQLite does not support except_all/, fn ->
      all(except_all(base(), ^other))
    end

    assert_raise Ecto.QueryError, ~r/SQLite does not support intersect_all/, fn ->
      all(intersect_all(base(), ^other))
    end
  end
end
