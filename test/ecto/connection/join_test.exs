defmodule Ecto.Adapters.LibSql.Connection.JoinTest do
  # Joins: qualifiers, ON conditions, sources (tables, subqueries, fragments, values lists),
  # associations, hints, and the lateral joins SQLite does not have.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  describe "qualifiers" do
    test "inner join" do
      assert all(from(p in Post, join: c in Comment, on: c.post_id == p.id, select: c.id)) ==
               ~s{SELECT c1."id" FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}
    end

    test "left join is LEFT OUTER JOIN" do
      assert all(from(p in Post, left_join: c in Comment, on: c.post_id == p.id, select: c.id)) ==
               ~s{SELECT c1."id" FROM "posts" AS p0 LEFT OUTER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}
    end

    test "right join is RIGHT OUTER JOIN" do
      query =
        from(p in Post, right_join: c in Comment, on: c.post_id == p.id, select: {p.id, c.id})

      assert all(query) ==
               ~s{SELECT p0."id", c1."id" FROM "posts" AS p0 RIGHT OUTER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}

      run!("INSERT INTO posts (id) VALUES (1)")
      run!("INSERT INTO comments (id, post_id) VALUES (1, 1), (2, NULL)")
      assert Enum.sort(run!(all(query))) == [[1, 1], [nil, 2]]
    end

    test "full join is FULL OUTER JOIN" do
      query =
        from(p in Post, full_join: c in Comment, on: c.post_id == p.id, select: {p.id, c.id})

      assert all(query) ==
               ~s{SELECT p0."id", c1."id" FROM "posts" AS p0 FULL OUTER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}

      run!("INSERT INTO posts (id) VALUES (1), (2)")
      run!("INSERT INTO comments (id, post_id) VALUES (1, 1), (2, NULL)")
      assert Enum.sort(run!(all(query))) == [[1, 1], [2, nil], [nil, 2]]
    end

    test "cross join has no ON" do
      assert all(from(p in Post, cross_join: c in Comment, select: {p.id, c.id})) ==
               ~s{SELECT p0."id", c1."id" FROM "posts" AS p0 CROSS JOIN "comments" AS c1}
    end

    test "cross join of a table-valued function" do
      query =
        from(p in Post, cross_join: t in fragment("json_each(?)", p.tags), select: {p.id, t.value})

      assert all(query) ==
               ~s{SELECT p0."id", f1."value" FROM "posts" AS p0 CROSS JOIN json_each(p0."tags") AS f1}

      run!(~s{INSERT INTO posts (id, tags) VALUES (1, '["a","b"]')})
      assert run!(all(query)) == [[1, "a"], [1, "b"]]
    end

    for qual <- [:inner_lateral, :left_lateral, :cross_lateral] do
      test "#{qual} join raises: SQLite has no lateral joins" do
        query =
          from(p in Post, as: :p)
          |> join(
            unquote(qual),
            [p],
            c in subquery(from(c in Comment, select: %{id: c.id})),
            unquote(if qual == :cross_lateral, do: [], else: [on: true])
          )
          |> select([p], p.id)

        assert_raise Ecto.QueryError,
                     ~r/join qualifier #{inspect(unquote(qual))} is not supported by SQLite/,
                     fn -> all(query) end
      end
    end
  end

  describe "ON conditions" do
    test "on: true is ON 1" do
      assert all(from(p in Post, join: c in Comment, on: true, select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON 1}
    end

    test "a join with nothing bound" do
      query = Post |> join(:inner, [], c in Comment, on: c.likes == c.likes) |> select([], true)

      assert all(query) ==
               ~s{SELECT 1 FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."likes" = c1."likes"}
    end

    test "a keyword on: compares each field" do
      query =
        from(p in Post, join: c in Comment, on: [post_id: p.id, likes: p.visits], select: c.id)

      assert all(query) ==
               ~s{SELECT c1."id" FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON (c1."post_id" = p0."id") AND (c1."likes" = p0."visits")}
    end

    test "several joins in order, each its own alias" do
      query =
        from(p in Post,
          join: c in Comment,
          on: c.post_id == p.id,
          left_join: a in Author,
          on: a.id == c.author_id,
          select: {p.id, c.id, a.name}
        )

      assert all(query) ==
               ~s{SELECT p0."id", c1."id", a2."name" FROM "posts" AS p0 } <>
                 ~s{INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id" } <>
                 ~s{LEFT OUTER JOIN "authors" AS a2 ON a2."id" = c1."author_id"}
    end

    test "joins of joined queries keep their bindings" do
      query = from(p in Post, join: c in Comment, on: true)
      query = from(p in query, join: a in Author, on: true, select: {p.id, a.id})

      assert all(query) ==
               ~s{SELECT p0."id", a2."id" FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON 1 } <>
                 ~s{INNER JOIN "authors" AS a2 ON 1}
    end

    test "a self join" do
      query =
        from(a in Author, join: m in Author, on: m.id == a.manager_id, select: {a.name, m.name})

      assert all(query) ==
               ~s{SELECT a0."name", a1."name" FROM "authors" AS a0 INNER JOIN "authors" AS a1 ON a1."id" = a0."manager_id"}
    end

    test "a schema-less join" do
      query = from(p in "posts", join: c in "comments", on: c.post_id == p.id, select: c.body)

      assert all(query) ==
               ~s{SELECT c1."body" FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}
    end

    test "an interpolated query joins its table" do
      inner = Ecto.Queryable.to_query(Comment)
      query = from(p in Post, left_join: c in ^inner, on: true, select: {p.id, c.id})

      assert all(query) ==
               ~s{SELECT p0."id", c1."id" FROM "posts" AS p0 LEFT OUTER JOIN "comments" AS c1 ON 1}
    end
  end

  describe "associations" do
    test "belongs_to" do
      assert all(from(c in Comment, join: p in assoc(c, :post), select: p.id)) ==
               ~s{SELECT p1."id" FROM "comments" AS c0 INNER JOIN "posts" AS p1 ON p1."id" = c0."post_id"}
    end

    test "has_many" do
      assert all(from(p in Post, join: c in assoc(p, :comments), select: c.id)) ==
               ~s{SELECT c1."id" FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id"}
    end

    test "has_one" do
      assert all(from(p in Post, join: l in assoc(p, :permalink), select: l.url)) ==
               ~s{SELECT p1."url" FROM "posts" AS p0 INNER JOIN "permalinks" AS p1 ON p1."post_id" = p0."id"}
    end

    test "many_to_many joins through its join table" do
      assert all(from(p in Post, join: l in assoc(p, :labels), select: {p.id, l.name})) ==
               ~s{SELECT p0."id", l1."name" FROM "posts" AS p0 } <>
                 ~s{INNER JOIN "posts_labels" AS p2 ON p2."post_id" = p0."id" } <>
                 ~s{INNER JOIN "labels" AS l1 ON p2."label_id" = l1."id"}
    end

    test "a self-referencing belongs_to" do
      assert all(from(a in Author, left_join: m in assoc(a, :manager), select: m.name)) ==
               ~s{SELECT a1."name" FROM "authors" AS a0 LEFT OUTER JOIN "authors" AS a1 ON a1."id" = a0."manager_id"}
    end
  end

  describe "hints" do
    test "a join's hints follow its table" do
      run!("CREATE INDEX comments_post ON comments (post_id)")

      query =
        from(p in Post,
          join: c in Comment,
          hints: ["INDEXED BY comments_post"],
          on: c.post_id == p.id,
          select: c.id
        )

      assert all(query) ==
               ~s{SELECT c1."id" FROM "posts" AS p0 INNER JOIN "comments" AS c1 INDEXED BY comments_post ON c1."post_id" = p0."id"}
    end
  end

  describe "sources" do
    test "a subquery" do
      posts =
        subquery(from(p in "posts", where: p.title == ^"hello", select: %{x: p.id, y: p.visits}))

      query = from(c in "comments", join: p in subquery(posts), on: true, select: p.x)

      assert all(query) ==
               ~s{SELECT s1."x" FROM "comments" AS c0 INNER JOIN } <>
                 ~s{(SELECT sp0."id" AS "x", sp0."visits" AS "y" FROM "posts" AS sp0 WHERE (sp0."title" = ?1)) AS s1 ON 1}
    end

    test "a subquery whole" do
      posts = subquery(from(p in "posts", select: %{x: p.id, z: p.visits}))
      query = from(c in "comments", join: p in subquery(posts), on: true, select: p)

      assert all(query) ==
               ~s{SELECT s1."x", s1."z" FROM "comments" AS c0 INNER JOIN } <>
                 ~s{(SELECT sp0."id" AS "x", sp0."visits" AS "z" FROM "posts" AS sp0) AS s1 ON 1}
    end

    test "a subquery that names the query it is joined in raises: that is a lateral join" do
      posts =
        subquery(from(p in "posts", where: p.title == parent_as(:comment).body, select: p.title))

      query = from(c in "comments", as: :comment, join: p in subquery(posts), on: true, select: p)

      assert_raise Ecto.QueryError,
                   ~r/SQLite cannot run a subquery in FROM or JOIN that names a binding of the query it is joined in \(parent_as\(:comment\)\)/,
                   fn -> all(query) end
    end

    test "a joined subquery may name a query around the one it is joined in" do
      joined =
        subquery(from(c in Comment, where: c.post_id == parent_as(:post).id, select: %{id: c.id}))

      inner = from(a in Author, join: j in subquery(joined), on: true, select: 1)
      query = from(p in Post, as: :post, where: exists(inner), select: p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (EXISTS (SELECT 1 FROM "authors" AS sa0 INNER JOIN } <>
                 ~s{(SELECT ssc0."id" AS "id" FROM "comments" AS ssc0 WHERE (ssc0."post_id" = p0."id")) AS ss1 ON 1))}

      run!("INSERT INTO authors (id) VALUES (1)")
      run!("INSERT INTO posts (id) VALUES (1), (2)")
      run!("INSERT INTO comments (id, post_id) VALUES (1, 2)")
      assert run!(all(query)) == [[2]]
    end

    test "a subquery of the same table, self joined" do
      sub = select(Comment, [c], %{id: c.id, likes: c.likes})
      query = sub |> join(:inner, [c], s in subquery(sub), on: s.id == c.id)

      assert all(query) ==
               ~s{SELECT c0."id", c0."likes" FROM "comments" AS c0 INNER JOIN } <>
                 ~s{(SELECT sc0."id" AS "id", sc0."likes" AS "likes" FROM "comments" AS sc0) AS s1 ON s1."id" = c0."id"}
    end

    test "a subquery's parameters keep their numbers among the query's" do
      sub = select(Comment, [c], %{x: ^999, w: ^888})

      query =
        Comment
        |> select([c], %{y: ^666})
        |> join(:inner, [c], s in subquery(sub), on: true)
        |> where([c], c.likes == ^111)

      assert all(query) ==
               ~s{SELECT ?1 FROM "comments" AS c0 INNER JOIN } <>
                 ~s{(SELECT ?2 AS "x", ?3 AS "w" FROM "comments" AS sc0) AS s1 ON 1 WHERE (c0."likes" = ?4)}
    end

    test "a SELECT fragment is a subquery" do
      query =
        from(p in Post,
          join: f in fragment("SELECT * FROM comments AS c WHERE c.likes > ?", ^10),
          on: f.post_id == p.id,
          where: p.id > 0 and p.id < ^100,
          select: {p.id, ^0}
        )

      assert all(query) ==
               ~s{SELECT p0."id", ?1 FROM "posts" AS p0 INNER JOIN } <>
                 ~s{(SELECT * FROM comments AS c WHERE c.likes > ?2) AS f1 ON f1."post_id" = p0."id" } <>
                 ~s{WHERE ((p0."id" > 0) AND (p0."id" < ?3))}
    end

    test "a fragment with an ON condition" do
      query =
        from(p in Post,
          join: f in fragment("SELECT * FROM comments"),
          on: f.post_id == p.id,
          select: f.id
        )

      assert all(query) ==
               ~s{SELECT f1."id" FROM "posts" AS p0 INNER JOIN (SELECT * FROM comments) AS f1 ON f1."post_id" = p0."id"}
    end

    test "a WITH query fragment is a subquery" do
      query =
        from(p in Post,
          join: f in fragment("WITH t AS (SELECT 1 AS id) SELECT id FROM t"),
          on: f.id == p.id,
          select: p.id
        )

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN (WITH t AS (SELECT 1 AS id) SELECT id FROM t) AS f1 ON f1."id" = p0."id"}

      run!("INSERT INTO posts (id) VALUES (1), (2)")
      assert run!(all(query)) == [[1]]
    end

    test "a VALUES fragment is a subquery" do
      query =
        from(p in Post,
          join: f in fragment("VALUES (2), (3)"),
          on: fragment("?.column1", f) == p.id,
          select: p.id
        )

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 INNER JOIN (VALUES (2), (3)) AS f1 ON f1.column1 = p0."id"}

      run!("INSERT INTO posts (id) VALUES (1), (2)")
      assert run!(all(query)) == [[2]]
    end

    test "a values list" do
      rows = [%{id: 1, t: "x"}, %{id: 2, t: "y"}]

      query =
        from(p in Post,
          join: v in values(rows, %{id: :integer, t: :string}),
          on: v.id == p.id,
          select: {p.id, v.t}
        )

      assert all(query) ==
               ~s{SELECT p0."id", v1."t" FROM "posts" AS p0 INNER JOIN } <>
                 ~s{(SELECT column1 AS "id", column2 AS "t" FROM (VALUES (?1,?2),(?3,?4))) AS v1 ON v1."id" = p0."id"}

      run!("INSERT INTO posts (id) VALUES (2), (3)")
      assert run!(all(query), [1, "x", 2, "y"]) == [[2, "y"]]
    end
  end
end
