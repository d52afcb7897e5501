defmodule Ecto.Adapters.LibSql.Connection.LimitOffsetTest do
  # LIMIT and OFFSET (SQLite has no OFFSET without LIMIT, nor FETCH ... WITH TIES).
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "limit" do
    assert all(from(p in Post, limit: 3, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 LIMIT 3}
  end

  test "limit and offset" do
    assert all(from(p in Post, limit: 3, offset: 5, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 LIMIT 3 OFFSET 5}
  end

  test "offset without limit gets LIMIT -1" do
    assert all(from(p in Post, offset: 5, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 LIMIT -1 OFFSET 5}
  end

  test "offset without limit skips rows and keeps the rest" do
    query = from(p in Post, offset: ^1, order_by: p.id, select: p.id)
    assert all(query) == ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."id" LIMIT -1 OFFSET ?1}
    run!("INSERT INTO posts (id) VALUES (1), (2), (3)")
    assert run!(all(query), [1]) == [[2], [3]]
  end

  test "parameters" do
    assert all(from(p in Post, where: p.visits > ^0, limit: ^3, offset: ^5, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."visits" > ?1) LIMIT ?2 OFFSET ?3}
  end

  test "an expression" do
    assert all(from(p in Post, limit: fragment("? * 2", ^2), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 LIMIT ?1 * 2}
  end

  test "a limit in a subquery" do
    query =
      from(p in Post,
        where: p.id in subquery(from(c in Comment, select: c.post_id, limit: 1)),
        select: p.id
      )

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (SELECT sc0."post_id" FROM "comments" AS sc0 LIMIT 1))}
  end

  test "with_ties raises: SQLite has no FETCH ... WITH TIES" do
    query = from(p in Post, order_by: p.visits, limit: 1, with_ties: true, select: p.id)

    assert_raise Ecto.QueryError, ~r/SQLite does not support LIMIT ... WITH TIES/, fn ->
      all(query)
    end
  end
end
