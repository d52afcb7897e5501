defmodule Ecto.Adapters.LibSql.Connection.OrderByTest do
  # ORDER BY: directions, NULLs first or last, aliases, fragments and casts.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "ascending is the default and not written" do
    assert all(from(p in Post, order_by: p.title, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title"}
  end

  test "several fields" do
    assert all(from(p in Post, order_by: [p.title, p.id], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title", p0."id"}
  end

  test "directions" do
    assert all(from(p in Post, order_by: [asc: p.title, desc: p.id], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title", p0."id" DESC}
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

  test "the other two NULLs orders" do
    query =
      from(p in Post,
        order_by: [asc_nulls_first: p.title, desc_nulls_last: p.visits],
        select: p.id
      )

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title" ASC NULLS FIRST, p0."visits" DESC NULLS LAST}

    run!("INSERT INTO posts (id, title, visits) VALUES (1, 'b', NULL), (2, NULL, 1), (3, 'a', 2)")
    assert run!(all(query)) == [[2], [3], [1]]
  end

  test "order_by/3 twice appends" do
    query = Post |> order_by([p], p.title) |> order_by([p], desc: p.id) |> select([p], p.id)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title", p0."id" DESC}
  end

  test "an empty order is no ORDER BY" do
    assert all(from(p in Post, order_by: [], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0}
  end

  test "interpolated directions and fields" do
    assert all(from(p in Post, order_by: ^[desc: :title], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY p0."title" DESC}
  end

  test "the alias of a selected value" do
    query = from(p in "posts", select: selected_as(p.visits, :n), order_by: selected_as(:n))
    assert all(query) == ~s{SELECT p0."visits" AS "n" FROM "posts" AS p0 ORDER BY "n"}

    query =
      from(p in "posts", select: selected_as(p.visits, :n), order_by: [desc: selected_as(:n)])

    assert all(query) == ~s{SELECT p0."visits" AS "n" FROM "posts" AS p0 ORDER BY "n" DESC}
  end

  test "a fragment" do
    assert all(from(p in Post, order_by: fragment("random()"), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY random()}
  end

  test "a cast" do
    assert all(from(p in Post, order_by: type(fragment("?", p.title), ^:decimal), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 ORDER BY CAST(p0."title" AS NUMERIC)}
  end

  test "a joined binding's field" do
    query = from(p in Post, join: a in assoc(p, :author), order_by: [desc: a.name], select: p.id)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN "authors" AS a1 ON a1."id" = p0."author_id" ORDER BY a1."name" DESC}
  end
end
