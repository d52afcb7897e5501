defmodule Ecto.Adapters.LibSql.Connection.WindowsTest do
  # Window functions: OVER with a named WINDOW or an inline definition, partitions, orders
  # and frames.
  use Ecto.Adapters.LibSql.SqlCase, async: true

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

  test "a named window is declared with the WINDOW keyword" do
    assert all(from(p in Post, windows: [w: [partition_by: p.title]], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WINDOW "w" AS (PARTITION BY p0."title")}
  end

  test "two windows" do
    query =
      from(p in Post,
        windows: [w1: [partition_by: p.title], w2: [partition_by: p.visits]],
        select: p.id
      )

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WINDOW "w1" AS (PARTITION BY p0."title"), "w2" AS (PARTITION BY p0."visits")}
  end

  test "WINDOW stands after HAVING and before ORDER BY" do
    query =
      from(p in Post,
        group_by: p.author_id,
        having: count() > 0,
        windows: [w: [order_by: p.author_id]],
        order_by: p.author_id,
        select: {p.author_id, rank() |> over(:w)}
      )

    assert all(query) ==
             ~s{SELECT p0."author_id", rank() OVER "w" FROM "posts" AS p0 GROUP BY p0."author_id" } <>
               ~s{HAVING (count(*) > 0) WINDOW "w" AS (ORDER BY p0."author_id") ORDER BY p0."author_id"}
  end

  test "count over a named window" do
    query = from(p in Post, windows: [w: [partition_by: p.body]], select: count(p.id) |> over(:w))

    assert all(query) ==
             ~s{SELECT count(p0."id") OVER "w" FROM "posts" AS p0 WINDOW "w" AS (PARTITION BY p0."body")}

    run!("INSERT INTO posts (id, body) VALUES (1, 'a'), (2, 'a'), (3, 'b')")
    assert Enum.sort(run!(all(query))) == [[1], [2], [2]]
  end

  test "over all rows" do
    assert all(from(p in Post, select: count(p.id) |> over())) ==
             ~s{SELECT count(p0."id") OVER () FROM "posts" AS p0}
  end

  test "row_number, rank, dense_rank, percent_rank and cume_dist" do
    query =
      from(p in Post,
        windows: [w: [order_by: p.visits]],
        select: {
          row_number() |> over(:w),
          rank() |> over(:w),
          dense_rank() |> over(:w),
          percent_rank() |> over(:w),
          cume_dist() |> over(:w)
        }
      )

    assert all(query) ==
             ~s{SELECT row_number() OVER "w", rank() OVER "w", dense_rank() OVER "w", } <>
               ~s{percent_rank() OVER "w", cume_dist() OVER "w" FROM "posts" AS p0 WINDOW "w" AS (ORDER BY p0."visits")}
  end

  test "ntile, first_value, last_value and nth_value" do
    query =
      from(p in Post,
        select: {
          ntile(4) |> over(),
          first_value(p.id) |> over(),
          last_value(p.id) |> over(),
          nth_value(p.id, 2) |> over()
        }
      )

    assert all(query) ==
             ~s{SELECT ntile(4) OVER (), first_value(p0."id") OVER (), last_value(p0."id") OVER (), } <>
               ~s{nth_value(p0."id", 2) OVER () FROM "posts" AS p0}
  end

  test "lag and lead with offsets and defaults" do
    query =
      from(p in Post,
        windows: [w: [order_by: p.id]],
        select: {lag(p.id, 2, 0) |> over(:w), lead(p.id) |> over(:w)}
      )

    assert all(query) ==
             ~s{SELECT lag(p0."id", 2, 0) OVER "w", lead(p0."id") OVER "w" FROM "posts" AS p0 WINDOW "w" AS (ORDER BY p0."id")}

    run!("INSERT INTO posts (id) VALUES (1), (2), (3)")
    assert run!(all(query)) == [[0, 2], [0, 3], [1, nil]]
  end

  test "a fragment aggregate over all rows" do
    assert all(from(p in Post, select: fragment("group_concat(?)", p.title) |> over())) ==
             ~s{SELECT group_concat(p0."title") OVER () FROM "posts" AS p0}
  end

  test "partition by several fields and order by" do
    query =
      from(p in Post,
        windows: [w: [partition_by: [p.title, p.visits], order_by: p.id]],
        select: p.id
      )

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WINDOW "w" AS (PARTITION BY p0."title", p0."visits" ORDER BY p0."id")}
  end

  test "an inline window with a partition and an order" do
    query =
      from(p in Post,
        select: count(p.id) |> over(partition_by: [p.title, p.visits], order_by: p.id)
      )

    assert all(query) ==
             ~s{SELECT count(p0."id") OVER (PARTITION BY p0."title", p0."visits" ORDER BY p0."id") FROM "posts" AS p0}
  end

  test "an order with directions and NULLs" do
    query =
      from(p in Post, select: rank() |> over(order_by: [desc: p.visits, asc_nulls_last: p.title]))

    assert all(query) ==
             ~s{SELECT rank() OVER (ORDER BY p0."visits" DESC, p0."title" ASC NULLS LAST) FROM "posts" AS p0}
  end

  test "a frame clause" do
    query =
      from(p in Post,
        select:
          sum(p.visits)
          |> over(
            partition_by: p.body,
            order_by: p.id,
            frame: fragment("ROWS BETWEEN 2 PRECEDING AND CURRENT ROW")
          )
      )

    assert all(query) ==
             ~s{SELECT sum(p0."visits") OVER (PARTITION BY p0."body" ORDER BY p0."id" ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM "posts" AS p0}

    run!(
      "INSERT INTO posts (id, body, visits) VALUES (1, 'a', 1), (2, 'a', 2), (3, 'a', 4), (4, 'a', 8)"
    )

    assert run!(all(query)) == [[1], [3], [7], [14]]
  end

  test "a frame in a named window" do
    query =
      from(p in Post,
        windows: [w: [order_by: p.id, frame: fragment("ROWS UNBOUNDED PRECEDING")]],
        select: sum(p.visits) |> over(:w)
      )

    assert all(query) ==
             ~s{SELECT sum(p0."visits") OVER "w" FROM "posts" AS p0 WINDOW "w" AS (ORDER BY p0."id" ROWS UNBOUNDED PRECEDING)}
  end

  test "a filtered aggregate over a window" do
    query =
      from(p in Post, select: filter(count(), p.visits > 1) |> over(partition_by: p.author_id))

    assert all(query) ==
             ~s{SELECT count(*) FILTER (WHERE p0."visits" > 1) OVER (PARTITION BY p0."author_id") FROM "posts" AS p0}
  end
end
