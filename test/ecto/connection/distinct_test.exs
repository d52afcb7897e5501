defmodule Ecto.Adapters.LibSql.Connection.DistinctTest do
  # DISTINCT (SQLite has no DISTINCT ON).
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "distinct: true with a binding" do
    assert all(Post |> distinct([p], true) |> select([p], {p.title, p.visits})) ==
             ~s{SELECT DISTINCT p0."title", p0."visits" FROM "posts" AS p0}
  end

  test "distinct: false with a binding is no DISTINCT" do
    assert all(Post |> distinct([p], false) |> select([p], {p.title, p.visits})) ==
             ~s{SELECT p0."title", p0."visits" FROM "posts" AS p0}
  end

  test "distinct: true without a binding" do
    assert all(Post |> distinct(true) |> select([p], p.title)) ==
             ~s{SELECT DISTINCT p0."title" FROM "posts" AS p0}
  end

  test "distinct: false without a binding" do
    assert all(Post |> distinct(false) |> select([p], p.title)) ==
             ~s{SELECT p0."title" FROM "posts" AS p0}
  end

  test "distinct with an order" do
    query = from(p in Post, distinct: true, order_by: [desc: p.title], select: p.title)

    assert all(query) ==
             ~s{SELECT DISTINCT p0."title" FROM "posts" AS p0 ORDER BY p0."title" DESC}
  end

  test "an empty distinct list is no DISTINCT" do
    assert all(from(p in Post, distinct: [], select: p.title)) ==
             ~s{SELECT p0."title" FROM "posts" AS p0}
  end

  test "distinct over expressions (DISTINCT ON) raises" do
    assert_raise Ecto.QueryError, ~r/DISTINCT ON is not supported by SQLite/, fn ->
      all(from(p in Post, distinct: p.title, select: p.id))
    end

    assert_raise Ecto.QueryError, ~r/DISTINCT ON is not supported by SQLite/, fn ->
      all(from(p in Post, distinct: [desc: p.title, asc: p.visits], select: p.id))
    end
  end
end
