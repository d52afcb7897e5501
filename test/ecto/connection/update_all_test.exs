defmodule Ecto.Adapters.LibSql.Connection.UpdateAllTest do
  # UPDATE of many rows (Repo.update_all): set/inc/push/pull, WHERE, joins (UPDATE ... FROM),
  # RETURNING.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "set" do
    assert update_all(from(p in Post, update: [set: [visits: 0]])) ==
             ~s{UPDATE "posts" AS p0 SET "visits" = 0}
  end

  test "set and inc, in order" do
    query = from(p in Post, update: [set: [title: "x"], inc: [visits: 1, rating: -1.5]])

    assert update_all(query) ==
             ~s{UPDATE "posts" AS p0 SET "title" = 'x', "visits" = p0."visits" + 1, "rating" = p0."rating" + -1.5}
  end

  test "a parameter" do
    assert update_all(from(p in Post, update: [set: [visits: ^0]])) ==
             ~s{UPDATE "posts" AS p0 SET "visits" = ?1}
  end

  test "a value computed from the row" do
    assert update_all(from(p in Post, update: [set: [body: p.title, visits: p.visits * 2]])) ==
             ~s{UPDATE "posts" AS p0 SET "body" = p0."title", "visits" = p0."visits" * 2}
  end

  test "a where" do
    assert update_all(from(p in Post, where: p.visits == 123, update: [set: [visits: 0]])) ==
             ~s{UPDATE "posts" AS p0 SET "visits" = 0 WHERE (p0."visits" = 123)}
  end

  test "a prefix is the attached database" do
    query = from(p in Post, update: [set: [title: "x"]]) |> Map.put(:prefix, "other")
    assert update_all(query) == ~s{UPDATE "other"."posts" AS p0 SET "title" = 'x'}
  end

  test "array push and pull work on JSON arrays" do
    assert update_all(from(p in Post, update: [push: [tags: "a"]])) =~
             ~s{"tags" = json_insert(coalesce(p0."tags", '[]'), '$[#]', 'a')}

    assert update_all(from(p in Post, update: [pull: [tags: "b"]])) =~
             ~s{"tags" = (SELECT json_group_array(value) FROM json_each(p0."tags") WHERE value IS NOT 'b')}
  end

  test "push and pull run" do
    run!(~s|INSERT INTO posts (id, tags) VALUES (1, '["a","b"]'), (2, NULL)|)
    run!(update_all(from(p in Post, update: [push: [tags: "c"]])))
    assert run!("SELECT tags FROM posts ORDER BY id") == [[~s(["a","b","c"])], [~s(["c"])]]
    run!(update_all(from(p in Post, update: [pull: [tags: "b"]])))
    assert run!("SELECT tags FROM posts ORDER BY id") == [[~s(["a","c"])], [~s(["c"])]]
  end

  test "an update operation the generator does not know raises" do
    query = from(p in Post, update: [set: [visits: 1]]) |> plan(:update_all)
    [%{expr: [set: kw]} = update] = query.updates
    query = %{query | updates: [%{update | expr: [multiply: kw]}]}

    assert_raise Ecto.QueryError, ~r/unknown update operation :multiply for SQLite/, fn ->
      SQL.update_all(query)
    end
  end

  describe "joins" do
    test "update_all with a join uses UPDATE ... FROM" do
      query =
        from(p in Post,
          join: c in Comment,
          on: c.post_id == p.id,
          where: c.body == "x",
          update: [set: [title: "t"]]
        )

      assert update_all(query) ==
               ~s{UPDATE "posts" AS p0 SET "title" = 't' FROM "comments" AS c1 WHERE (c1."post_id" = p0."id") AND (c1."body" = 'x')}
    end

    test "several inner joins, on: true adding no condition" do
      query =
        from(p in Post,
          join: c in Comment,
          on: c.post_id == p.id,
          join: a in Author,
          on: true,
          update: [set: [title: a.name]]
        )

      assert update_all(query) ==
               ~s{UPDATE "posts" AS p0 SET "title" = a2."name" FROM "comments" AS c1, "authors" AS a2 WHERE (c1."post_id" = p0."id")}
    end

    test "a joined subquery, its parameters numbered after the SET's" do
      sub = from(c in Comment, where: c.likes > ^10, select: %{post_id: c.post_id})

      query =
        from(p in Post,
          join: s in subquery(sub),
          on: s.post_id == p.id,
          update: [set: [visits: ^100]]
        )

      assert update_all(query) ==
               ~s{UPDATE "posts" AS p0 SET "visits" = ?1 FROM } <>
                 ~s{(SELECT sc0."post_id" AS "post_id" FROM "comments" AS sc0 WHERE (sc0."likes" > ?2)) AS s1 } <>
                 ~s{WHERE (s1."post_id" = p0."id")}
    end

    test "a joined values list" do
      query =
        from(p in Post,
          join: v in values([%{id: 1, t: "x"}], %{id: :integer, t: :string}),
          on: v.id == p.id,
          update: [set: [title: v.t]]
        )

      sql = update_all(query)

      assert sql ==
               ~s{UPDATE "posts" AS p0 SET "title" = v1."t" FROM (SELECT column1 AS "id", column2 AS "t" FROM (VALUES (?1,?2))) AS v1 } <>
                 ~s{WHERE (v1."id" = p0."id")}

      run!("INSERT INTO posts (id, title) VALUES (1, 'a'), (2, 'b')")
      run!(sql, [1, "x"])
      assert run!("SELECT title FROM posts ORDER BY id") == [["x"], ["b"]]
    end

    test "a left join starts from the updated table again, matched by primary key" do
      query =
        from(p in Post,
          left_join: c in assoc(p, :comments),
          update: [set: [body: c.body]]
        )

      sql = update_all(query)

      assert sql ==
               ~s{UPDATE "posts" AS p0 SET "body" = c1."body" FROM "posts" AS p0_ } <>
                 ~s{LEFT OUTER JOIN "comments" AS c1 ON c1."post_id" = p0_."id" WHERE (p0_."id" = p0."id")}

      run!("INSERT INTO posts (id, body) VALUES (1, 'old'), (2, 'old')")
      run!("INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'new')")
      run!(sql)
      assert run!("SELECT id, body FROM posts ORDER BY id") == [[1, "new"], [2, nil]]
    end

    test "an inner join then a left join that names the updated table" do
      query =
        from(p in Post,
          join: a in assoc(p, :author),
          left_join: c in assoc(p, :comments),
          where: a.name == "ann",
          update: [set: [body: c.body, visits: a.id]]
        )

      sql = update_all(query)

      assert sql ==
               ~s{UPDATE "posts" AS p0 SET "body" = c2."body", "visits" = a1."id" FROM "posts" AS p0_ } <>
                 ~s{INNER JOIN "authors" AS a1 ON a1."id" = p0_."author_id" } <>
                 ~s{LEFT OUTER JOIN "comments" AS c2 ON c2."post_id" = p0_."id" } <>
                 ~s{WHERE (p0_."id" = p0."id") AND (a1."name" = 'ann')}

      run!("INSERT INTO authors (id, name) VALUES (1, 'ann'), (2, 'bob')")
      run!("INSERT INTO posts (id, author_id) VALUES (1, 1), (2, 1), (3, 2)")
      run!("INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'c1')")
      run!(sql)

      assert run!("SELECT id, visits, body FROM posts ORDER BY id") == [
               [1, 1, "c1"],
               [2, 1, nil],
               [3, nil, nil]
             ]
    end

    test "a cross join" do
      query =
        from(p in Post,
          cross_join: a in Author,
          where: a.id == p.author_id,
          update: [set: [title: a.name]]
        )

      assert update_all(query) ==
               ~s{UPDATE "posts" AS p0 SET "title" = a1."name" FROM "posts" AS p0_ CROSS JOIN "authors" AS a1 } <>
                 ~s{WHERE (p0_."id" = p0."id") AND (a1."id" = p0."author_id")}
    end

    test "a left join from a table without a schema raises: the rows cannot be matched" do
      query =
        from(p in "posts",
          left_join: c in "comments",
          on: c.post_id == p.id,
          update: [set: [body: c.body]]
        )

      assert_raise Ecto.QueryError,
                   ~r/update_all with a left join needs a schema with a primary key in SQLite/,
                   fn -> update_all(query) end
    end
  end

  describe "returning" do
    test "the whole schema, unqualified" do
      assert update_all(from(a in Author, update: [set: [name: "x"]], select: a)) ==
               ~s{UPDATE "authors" AS a0 SET "name" = 'x' RETURNING "id", "name", "email", "manager_id"}
    end

    test "expressions with parameters" do
      query =
        from(p in Post, where: p.visits == ^2, update: [set: [visits: ^1]], select: p.visits == ^3)

      assert update_all(query) ==
               ~s{UPDATE "posts" AS p0 SET "visits" = ?1 WHERE (p0."visits" = ?2) RETURNING "visits" = ?3}
    end

    test "a joined table's columns raise: SQLite's RETURNING cannot name them" do
      query =
        from(p in Post,
          join: a in assoc(p, :author),
          update: [set: [title: a.name]],
          select: {p.id, a.name}
        )

      assert_raise Ecto.QueryError,
                   ~r/SQLite's RETURNING names columns of the updated or deleted table only, not of joined tables \(the select names binding 1\)/,
                   fn -> update_all(query) end
    end

    test "the updated table's columns with a join" do
      query =
        from(p in Post,
          join: a in assoc(p, :author),
          update: [set: [title: a.name]],
          select: p.title
        )

      assert update_all(query) ==
               ~s{UPDATE "posts" AS p0 SET "title" = a1."name" FROM "authors" AS a1 WHERE (a1."id" = p0."author_id") RETURNING "title"}
    end
  end
end
