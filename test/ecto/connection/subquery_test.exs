defmodule Ecto.Adapters.LibSql.Connection.SubqueryTest do
  # Subqueries in expressions: scalar subqueries in a select list, correlated subqueries
  # (parent_as) at any depth.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "a scalar subquery in the select list, correlated to its parent" do
    count = from(c in Comment, where: c.post_id == parent_as(:post).id, select: count())

    query =
      from(p in Post, as: :post, order_by: p.id, select: %{id: p.id, comments: subquery(count)})

    assert all(query) ==
             ~s{SELECT p0."id", (SELECT count(*) AS "result" FROM "comments" AS sc0 WHERE (sc0."post_id" = p0."id")) } <>
               ~s{FROM "posts" AS p0 ORDER BY p0."id"}

    run!("INSERT INTO posts (id) VALUES (1), (2)")
    run!("INSERT INTO comments (id, post_id) VALUES (1, 1), (2, 1)")
    assert run!(all(query)) == [[1, 2], [2, 0]]
  end

  test "a subquery in a comparison" do
    newest = from(c in Comment, select: max(c.post_id))

    assert all(from(p in Post, where: p.id == subquery(newest), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" = (SELECT max(sc0."post_id") FROM "comments" AS sc0))}
  end

  test "parent_as reaches two levels up" do
    inner = from(a in Author, where: a.id == parent_as(:post).author_id, select: 1)

    middle =
      from(c in Comment, where: c.post_id == parent_as(:post).id and exists(inner), select: 1)

    query = from(p in Post, as: :post, where: exists(middle), select: p.id)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (EXISTS (SELECT 1 FROM "comments" AS sc0 } <>
               ~s{WHERE ((sc0."post_id" = p0."id") AND EXISTS (SELECT 1 FROM "authors" AS ssa0 WHERE (ssa0."id" = p0."author_id")))))}
  end

  test "parent_as names a joined binding" do
    sub = from(c in Comment, where: c.author_id == parent_as(:author).id, select: 1)

    query =
      from(p in Post,
        join: a in assoc(p, :author),
        as: :author,
        where: exists(sub),
        select: p.id
      )

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN "authors" AS a1 ON a1."id" = p0."author_id" } <>
               ~s{WHERE (EXISTS (SELECT 1 FROM "comments" AS sc0 WHERE (sc0."author_id" = a1."id")))}
  end

  test "a subquery's parameters are numbered where it stands" do
    sub = from(c in Comment, where: c.likes > ^5, select: c.post_id)

    query =
      from(p in Post, where: p.visits > ^1 and p.id in subquery(sub) and p.id < ^9, select: p.id)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (((p0."visits" > ?1) AND } <>
               ~s{p0."id" IN (SELECT sc0."post_id" FROM "comments" AS sc0 WHERE (sc0."likes" > ?2))) AND (p0."id" < ?3))}
  end

  test "a subquery's own order and limit" do
    sub = from(c in Comment, order_by: [desc: c.likes], limit: 3, select: c.post_id)

    assert all(from(p in Post, where: p.id in subquery(sub), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN } <>
               ~s{(SELECT sc0."post_id" FROM "comments" AS sc0 ORDER BY sc0."likes" DESC LIMIT 3))}
  end
end
