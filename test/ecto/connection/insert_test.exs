defmodule Ecto.Adapters.LibSql.Connection.InsertTest do
  # INSERT (Repo.insert, insert_all): values, placeholders, subqueries, rows from a query,
  # RETURNING. Upserts are in on_conflict_test.exs.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "one row, numbered parameters" do
    assert insert(nil, "posts", [:title, :visits], [[:title, :visits]], {:raise, [], []}, []) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2)}
  end

  test "several rows number their parameters on" do
    assert insert(
             nil,
             "posts",
             [:title, :visits],
             [[:title, :visits], [:title, :visits]],
             {:raise, [], []},
             []
           ) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2), (?3, ?4)}
  end

  test "returning names the columns" do
    assert insert(nil, "posts", [:title], [[:title]], {:raise, [], []}, [:id, :inserted_at]) ==
             ~s{INSERT INTO "posts" ("title") VALUES (?1) RETURNING "id","inserted_at"}
  end

  test "a row without columns is DEFAULT VALUES" do
    assert insert(nil, "posts", [], [[]], {:raise, [], []}, [:id]) ==
             ~s{INSERT INTO "posts" DEFAULT VALUES RETURNING "id"}

    assert insert(nil, "posts", [], [[]], {:raise, [], []}, []) ==
             ~s{INSERT INTO "posts" DEFAULT VALUES}
  end

  test "several rows without columns raise: SQLite has no multi-row DEFAULT VALUES" do
    assert_raise ArgumentError, ~r/SQLite cannot insert several rows that set no column/, fn ->
      SQL.insert(nil, "posts", [], [[], []], {:raise, [], []}, [], [])
    end
  end

  test "a prefix is the attached database" do
    assert insert("other", "posts", [:title], [[:title]], {:raise, [], []}, []) ==
             ~s{INSERT INTO "other"."posts" ("title") VALUES (?1)}
  end

  test "a column missing from a row is NULL (the adapter inserts rows of different columns apart)" do
    assert insert(
             nil,
             "posts",
             [:title, :visits],
             [[:title, :visits], [:title, nil]],
             {:raise, [], []},
             []
           ) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2), (?3, NULL)}
  end

  test "insert_all placeholders bind once by number" do
    sql =
      SQL.insert(
        nil,
        "posts",
        [:title, :visits],
        [[{:placeholder, 1}, :visits], [{:placeholder, 1}, :visits]],
        {:raise, [], []},
        [],
        [1]
      )
      |> IO.iodata_to_binary()

    assert sql == ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2), (?1, ?3)}
  end

  test "placeholders and values run: each placeholder is one parameter" do
    sql =
      insert(
        nil,
        "posts",
        [:title, :visits, :body],
        [
          [:title, {:placeholder, 1}, {:placeholder, 2}],
          [:title, {:placeholder, 1}, {:placeholder, 2}]
        ],
        {:raise, [], []},
        [],
        [7, "same"]
      )

    assert sql ==
             ~s{INSERT INTO "posts" ("title", "visits", "body") VALUES (?3, ?1, ?2), (?4, ?1, ?2)}

    run!(sql, [7, "same", "a", "b"])

    assert run!("SELECT title, visits, body FROM posts ORDER BY id") == [
             ["a", 7, "same"],
             ["b", 7, "same"]
           ]
  end

  test "a query as a value is a subquery, its parameters numbered in place" do
    query = from(p in Post, where: p.title == ^"x", select: p.visits) |> plan()
    [[_, _, _]] = rows = [[:title, {query, 1}, :body]]

    assert insert(nil, "posts", [:title, :visits, :body], rows, {:raise, [], []}, []) ==
             ~s{INSERT INTO "posts" ("title", "visits", "body") VALUES } <>
               ~s{(?1, (SELECT p0."visits" FROM "posts" AS p0 WHERE (p0."title" = ?1)), ?3)}
  end

  test "rows from a query" do
    source = from(p in Post, select: %{title: p.title, visits: p.visits}) |> plan()

    assert insert(nil, "posts", [:title, :visits], source, {:raise, [], []}, [:id]) ==
             ~s{INSERT INTO "posts" ("title", "visits") SELECT p0."title", p0."visits" FROM "posts" AS p0 RETURNING "id"}
  end

  test "rows from a query with a WHERE and parameters" do
    source = from(p in "posts", where: p.visits > ^1, select: %{title: p.title}) |> plan()

    assert insert(nil, "comments", [:body], source, {:raise, [], []}, []) ==
             ~s{INSERT INTO "comments" ("body") SELECT p0."title" FROM "posts" AS p0 WHERE (p0."visits" > ?1)}
  end

  test "rows from a query with a CTE" do
    source =
      from(t in "titles", select: %{body: t.title})
      |> with_cte("titles", as: ^from(p in Post, select: %{title: p.title}))
      |> plan()

    sql = insert(nil, "comments", [:body], source, {:raise, [], []}, [])

    assert sql ==
             ~s{INSERT INTO "comments" ("body") WITH "titles" AS (SELECT sp0."title" AS "title" FROM "posts" AS sp0) } <>
               ~s{SELECT t0."title" FROM "titles" AS t0}

    run!("INSERT INTO posts (id, title) VALUES (1, 'a'), (2, 'b')")
    run!(sql)
    assert run!("SELECT body FROM comments ORDER BY body") == [["a"], ["b"]]
  end

  test "a column name with a double quote" do
    assert SQL.insert(nil, "posts", [:"we\"ird"], [[:x]], {:raise, [], []}, [], []) ==
             ~s{INSERT INTO "posts" ("we""ird") VALUES (?1)}
  end
end
