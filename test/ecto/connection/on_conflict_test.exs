defmodule Ecto.Adapters.LibSql.Connection.OnConflictTest do
  # Upserts: INSERT ... ON CONFLICT in each form on_conflict: and conflict_target: give.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  defp upsert(on_conflict, returning \\ []),
    do: insert(nil, "posts", [:title, :visits], [[:title, :visits]], on_conflict, returning)

  test "insert with every on_conflict form" do
    insert = fn on_conflict ->
      SQL.insert(nil, "posts", [:title, :visits], [[:title, :visits]], on_conflict, [:id], [])
      |> IO.iodata_to_binary()
    end

    assert insert.({:raise, [], []}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) RETURNING "id"}

    assert insert.({:nothing, [], [:title]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") DO NOTHING RETURNING "id"}

    assert insert.({[:visits], [], [:title]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") DO UPDATE SET "visits" = excluded."visits" RETURNING "id"}

    assert insert.({[:visits], [], {:unsafe_fragment, "(title) WHERE visits > 0"}}) =~
             ~s{ON CONFLICT (title) WHERE visits > 0 DO UPDATE SET}
  end

  test "insert from a query with on_conflict gets the WHERE SQLite needs to parse it" do
    source = from(p in Post, select: %{title: p.title}) |> plan()

    insert = fn on_conflict ->
      SQL.insert(nil, "posts", [:title], source, on_conflict, [], [])
      |> IO.iodata_to_binary()
    end

    assert insert.({:raise, [], []}) ==
             ~s{INSERT INTO "posts" ("title") SELECT p0."title" FROM "posts" AS p0}

    assert insert.({:nothing, [], [:id]}) ==
             ~s{INSERT INTO "posts" ("title") SELECT * FROM (SELECT p0."title" FROM "posts" AS p0) WHERE true ON CONFLICT ("id") DO NOTHING}
  end

  test "the WHERE true makes an upsert from a query run" do
    source = from(c in Comment, select: %{title: c.body}) |> plan()
    sql = insert(nil, "posts", [:title], source, {:nothing, [], [:title]}, [])
    run!("INSERT INTO posts (id, title) VALUES (1, 'a')")
    run!("INSERT INTO comments (id, body) VALUES (1, 'a'), (2, 'b')")
    run!(sql)
    assert run!("SELECT title FROM posts ORDER BY title") == [["a"], ["b"]]
  end

  test "do nothing without a target" do
    assert upsert({:nothing, [], []}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT DO NOTHING}
  end

  test "do nothing runs: the conflicting row stays" do
    sql = upsert({:nothing, [], [:title]})
    run!(sql, ["a", 1])
    run!(sql, ["a", 2])
    assert run!("SELECT title, visits FROM posts") == [["a", 1]]
  end

  test "replace_all sets every inserted column from excluded" do
    assert upsert({:replace_all, [], [:title]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") } <>
               ~s{DO UPDATE SET "title" = excluded."title", "visits" = excluded."visits"}
  end

  test "replace_all without a target: SQLite takes it as the last ON CONFLICT clause" do
    sql = upsert({:replace_all, [], []})

    assert sql ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT } <>
               ~s{DO UPDATE SET "title" = excluded."title", "visits" = excluded."visits"}

    run!(sql, ["a", 1])
    run!(sql, ["a", 2])
    assert run!("SELECT title, visits FROM posts") == [["a", 2]]
  end

  test "replacing some fields over several targets" do
    run!("CREATE UNIQUE INDEX posts_title_visits ON posts (title, visits)")

    assert upsert({[:visits, :title], [], [:title, :visits]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title", "visits") } <>
               ~s{DO UPDATE SET "visits" = excluded."visits", "title" = excluded."title"}
  end

  test "a conflict target that is a fragment" do
    run!("CREATE UNIQUE INDEX posts_lower_title ON posts (lower(title))")

    assert upsert({:nothing, [], {:unsafe_fragment, "(lower(title))"}}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT (lower(title)) DO NOTHING}
  end

  test "ON CONSTRAINT raises: SQLite names no constraint in a conflict target" do
    assert_raise ArgumentError, "Upsert in LibSQL does not support ON CONSTRAINT", fn ->
      upsert({:nothing, [], {:constraint, :posts_title_index}})
    end
  end

  test "an update query without a WHERE names the columns bare" do
    update = from(p in Post, update: [set: [body: "x"], inc: [visits: 1]]) |> plan(:update_all)

    assert upsert({update, [], [:title]}, [:visits]) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") } <>
               ~s{DO UPDATE SET "body" = 'x', "visits" = "visits" + 1 RETURNING "visits"}
  end

  test "an update query's parameters follow the inserted values" do
    update =
      from(p in Post, update: [set: [body: ^"x"], inc: [visits: ^5]]) |> plan(:update_all, 2)

    sql = upsert({update, [], [:title]}, [:visits])

    assert sql ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") } <>
               ~s{DO UPDATE SET "body" = ?3, "visits" = "visits" + ?4 RETURNING "visits"}

    assert run!(sql, ["a", 1, "x", 5]) == [[1]]
    assert run!(sql, ["a", 1, "x", 5]) == [[6]]
    assert run!("SELECT title, visits, body FROM posts") == [["a", 6, "x"]]
  end

  test "an update query with a WHERE names the table, and the WHERE decides" do
    update =
      from(p in Post, where: p.visits < 10, update: [inc: [visits: 5]]) |> plan(:update_all)

    sql = upsert({update, [], [:title]}, [:visits])

    assert sql ==
             ~s{INSERT INTO "posts" AS p0 ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") } <>
               ~s{DO UPDATE SET "visits" = p0."visits" + 5 WHERE (p0."visits" < 10) RETURNING "visits"}

    assert run!(sql, ["a", 1]) == [[1]]
    assert run!(sql, ["a", 1]) == [[6]]
    assert run!(sql, ["a", 1]) == [[11]]
    assert run!(sql, ["a", 1]) == []
    assert run!("SELECT visits FROM posts") == [[11]]
  end

  test "excluded values in an update query" do
    update =
      from(p in Post, update: [set: [visits: fragment("excluded.visits + ?", p.visits)]])
      |> plan(:update_all)

    assert upsert({update, [], [:title]}) ==
             ~s{INSERT INTO "posts" ("title", "visits") VALUES (?1, ?2) ON CONFLICT ("title") } <>
               ~s{DO UPDATE SET "visits" = excluded.visits + "visits"}
  end
end
