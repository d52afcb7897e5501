defmodule Ecto.Adapters.LibSql.Connection.GroupByTest do
  # GROUP BY and HAVING.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "group by a field" do
    assert all(from(p in Post, group_by: p.title, select: p.title)) ==
             ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY p0."title"}
  end

  test "group by several fields" do
    assert all(from(p in Post, group_by: [p.title, p.visits], select: p.title)) ==
             ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY p0."title", p0."visits"}
  end

  test "group_by/3 twice adds to the list" do
    query = Post |> group_by([p], p.title) |> group_by([p], p.visits) |> select([p], p.title)

    assert all(query) ==
             ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY p0."title", p0."visits"}
  end

  test "group by a column's position" do
    assert all(from(p in Post, group_by: 1, select: p.title)) ==
             ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY 1}
  end

  test "an empty group by is no GROUP BY" do
    assert all(from(p in Post, group_by: [], select: p.title)) ==
             ~s{SELECT p0."title" FROM "posts" AS p0}
  end

  test "group by the alias of a selected value" do
    query = from(p in "posts", select: selected_as(p.visits, :n), group_by: selected_as(:n))

    assert all(query) == ~s{SELECT p0."visits" AS "n" FROM "posts" AS p0 GROUP BY "n"}
  end

  test "group by a fragment" do
    assert all(from(p in Post, group_by: fragment("lower(?)", p.title), select: count())) ==
             ~s{SELECT count(*) FROM "posts" AS p0 GROUP BY lower(p0."title")}
  end

  test "group by a joined binding's field" do
    query =
      from(p in Post,
        join: a in assoc(p, :author),
        group_by: a.name,
        select: {a.name, count(p.id)}
      )

    assert all(query) ==
             ~s{SELECT a1."name", count(p0."id") FROM "posts" AS p0 INNER JOIN "authors" AS a1 ON a1."id" = p0."author_id" GROUP BY a1."name"}
  end

  describe "having" do
    test "having" do
      assert all(from(p in Post, group_by: p.title, having: count(p.id) > 1, select: p.title)) ==
               ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY p0."title" HAVING (count(p0."id") > 1)}
    end

    test "having/3 twice is AND" do
      query =
        Post
        |> group_by([p], p.title)
        |> having([p], count(p.id) > 1)
        |> having([p], max(p.visits) < 10)
        |> select([p], p.title)

      assert all(query) ==
               ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY p0."title" HAVING (count(p0."id") > 1) AND (max(p0."visits") < 10)}
    end

    test "or_having/3 twice is OR" do
      query =
        Post
        |> group_by([p], p.title)
        |> or_having([p], count(p.id) > 1)
        |> or_having([p], max(p.visits) < 10)
        |> select([p], p.title)

      assert all(query) ==
               ~s{SELECT p0."title" FROM "posts" AS p0 GROUP BY p0."title" HAVING (count(p0."id") > 1) OR (max(p0."visits") < 10)}
    end

    test "having without group by: the whole table is one group" do
      query = from(p in Post, having: count(p.id) > 1, select: count(p.id))

      assert all(query) ==
               ~s{SELECT count(p0."id") FROM "posts" AS p0 HAVING (count(p0."id") > 1)}

      run!("INSERT INTO posts (id) VALUES (1), (2)")
      assert run!(all(query)) == [[2]]
    end
  end
end
