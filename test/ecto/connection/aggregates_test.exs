defmodule Ecto.Adapters.LibSql.Connection.AggregatesTest do
  # Aggregate functions, DISTINCT and FILTER inside them, and coalesce.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "count of a column" do
    assert all(from(p in Post, select: count(p.id))) ==
             ~s{SELECT count(p0."id") FROM "posts" AS p0}
  end

  test "count() is count(*)" do
    assert all(from(p in Post, select: count())) == ~s{SELECT count(*) FROM "posts" AS p0}
  end

  test "count of distinct values" do
    assert all(from(p in Post, select: count(p.title, :distinct))) ==
             ~s{SELECT count(DISTINCT p0."title") FROM "posts" AS p0}
  end

  test "count of a binding counts its primary key" do
    assert all(from(p in Post, select: count(p))) == ~s{SELECT count(p0."id") FROM "posts" AS p0}
  end

  test "count of a left-joined binding counts the rows it has" do
    query =
      from(p in Post,
        left_join: c in assoc(p, :comments),
        group_by: p.id,
        order_by: p.id,
        select: {p.id, count(c)}
      )

    assert all(query) ==
             ~s{SELECT p0."id", count(c1."id") FROM "posts" AS p0 } <>
               ~s{LEFT OUTER JOIN "comments" AS c1 ON c1."post_id" = p0."id" GROUP BY p0."id" ORDER BY p0."id"}

    run!("INSERT INTO posts (id) VALUES (1), (2)")
    run!("INSERT INTO comments (id, post_id) VALUES (1, 1), (2, 1)")
    assert run!(all(query)) == [[1, 2], [2, 0]]
  end

  test "count of distinct rows of a binding" do
    query = from(p in Post, join: c in assoc(p, :comments), select: count(p, :distinct))

    assert all(query) ==
             ~s{SELECT count(DISTINCT p0."id") FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}

    run!("INSERT INTO posts (id) VALUES (1), (2)")
    run!("INSERT INTO comments (id, post_id) VALUES (1, 1), (2, 1), (3, 2)")
    assert run!(all(query)) == [[2]]
  end

  test "count of a binding without a primary key raises" do
    assert_raise Ecto.QueryError,
                 ~r/SQLite cannot count a binding without a schema that has a primary key \(count\/1 of binding 0\)/,
                 fn -> all(from(c in "categories", select: count(c))) end

    sub = subquery(from(p in Post, select: %{id: p.id}))

    assert_raise Ecto.QueryError, ~r/count\/1 of binding 1/, fn ->
      all(from(p in Post, join: s in subquery(sub), on: s.id == p.id, select: count(s)))
    end
  end

  test "avg, sum, min and max" do
    assert all(
             from(p in Post, select: {avg(p.visits), sum(p.visits), min(p.visits), max(p.visits)})
           ) ==
             ~s{SELECT avg(p0."visits"), sum(p0."visits"), min(p0."visits"), max(p0."visits") FROM "posts" AS p0}
  end

  test "an aggregate with a filter" do
    assert all(from(p in Post, select: count(p.id) |> filter(p.visits > 10))) ==
             ~s{SELECT count(p0."id") FILTER (WHERE p0."visits" > 10) FROM "posts" AS p0}
  end

  test "an aggregate with a compound filter" do
    query = from(p in Post, select: count(p.id) |> filter(p.visits > 10 and p.visits < 50))

    assert all(query) ==
             ~s{SELECT count(p0."id") FILTER (WHERE (p0."visits" > 10) AND (p0."visits" < 50)) FROM "posts" AS p0}

    run!("INSERT INTO posts (id, visits) VALUES (1, 5), (2, 20), (3, 60)")
    assert run!(all(query)) == [[1]]
  end

  test "count() with a filter" do
    assert all(from(p in Post, select: count() |> filter(p.visits > 10))) ==
             ~s{SELECT count(*) FILTER (WHERE p0."visits" > 10) FROM "posts" AS p0}
  end

  test "coalesce" do
    assert all(from(p in Post, select: coalesce(p.title, "none"))) ==
             ~s{SELECT coalesce(p0."title", 'none') FROM "posts" AS p0}
  end

  test "coalesce of a subquery" do
    query = from(p in Post, select: coalesce(subquery(from(c in Comment, select: max(c.id))), 0))

    assert all(query) ==
             ~s{SELECT coalesce((SELECT max(sc0."id") AS "result" FROM "comments" AS sc0), 0) FROM "posts" AS p0}
  end
end
