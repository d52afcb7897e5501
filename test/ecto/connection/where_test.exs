defmodule Ecto.Adapters.LibSql.Connection.WhereTest do
  # WHERE: combining conditions, parameters, IN in all its forms, and EXISTS.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  describe "combining conditions" do
    test "where/3 twice is AND" do
      query = Post |> where([p], p.visits == 42) |> where([p], p.id != 43) |> select([p], p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."visits" = 42) AND (p0."id" != 43)}
    end

    test "or_where/3 twice is OR" do
      query =
        Post |> or_where([p], p.visits == 42) |> or_where([p], p.id != 43) |> select([p], p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."visits" = 42) OR (p0."id" != 43)}
    end

    test "OR then AND parenthesises the OR" do
      query =
        Post
        |> or_where([p], p.visits == 42)
        |> or_where([p], p.id != 43)
        |> where([p], p.title == "a")
        |> select([p], p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."visits" = 42) OR (p0."id" != 43)) AND (p0."title" = 'a')}
    end

    test "nested and, or and not keep their grouping" do
      query =
        from(p in Post,
          where: (p.id == 1 or p.id == 2) and not is_nil(p.title),
          or_where: p.visits > 3,
          select: p.id
        )

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((((p0."id" = 1) OR (p0."id" = 2)) AND NOT (p0."title" IS NULL))) OR (p0."visits" > 3)}

      run!("INSERT INTO posts (id, title, visits) VALUES (1, 'a', 0), (2, NULL, 0), (3, NULL, 9)")
      assert run!(all(query)) == [[1], [3]]
    end

    test "a keyword where compares each field" do
      assert all(from(p in Post, where: [title: "a", visits: 1], select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."title" = 'a') AND (p0."visits" = 1))}
    end
  end

  describe "parameters" do
    test "select with numbered parameters, used again by number" do
      assert all(from(p in Post, where: p.visits > ^1 and p.title == ^"a", select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."visits" > ?1) AND (p0."title" = ?2))}
    end

    test "parameters are numbered across select, joins, where, group, having, order and limit" do
      query =
        from(p in Post,
          join: c in Comment,
          on: c.post_id == p.id and c.likes > ^1,
          where: p.visits > ^2,
          group_by: [p.id, fragment("?", ^3)],
          having: count(c.id) > ^4,
          order_by: fragment("?", ^5),
          limit: ^6,
          offset: ^7,
          select: {p.id, ^0}
        )

      assert all(query) ==
               ~s{SELECT p0."id", ?1 FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON (c1."post_id" = p0."id") AND (c1."likes" > ?2) } <>
                 ~s{WHERE (p0."visits" > ?3) GROUP BY p0."id", ?4 HAVING (count(c1."id") > ?5) ORDER BY ?6 LIMIT ?7 OFFSET ?8}
    end
  end

  describe "in" do
    test "in with a list parameter expands to numbered parameters" do
      assert all(from(p in Post, where: p.id in ^[1, 2, 3], select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (?1, ?2, ?3))}

      assert all(from(p in Post, where: p.id in ^[], select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (SELECT NULL WHERE 1=0))}
    end

    test "a literal list, with parameters and fields among its elements" do
      assert all(from(p in Post, where: p.visits in [1, ^2, p.id], select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."visits" IN (1,?1,p0."id"))}
    end

    test "a parameter on the left" do
      assert all(from(p in Post, where: ^1 in [1, ^2, 3], select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (?1 IN (1,?2,3))}
    end

    test "an empty literal list (an empty JSON array) is false" do
      query = from(p in Post, where: p.id in [], select: p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (SELECT value FROM json_each('[]')))}

      run!("INSERT INTO posts (id) VALUES (1)")
      assert run!(all(query)) == []
    end

    test "a list parameter among others keeps the numbering" do
      query =
        from(p in Post,
          where: p.visits == ^0 or p.id in ^[1, 2, 3] or p.visits == ^4,
          select: p.id
        )

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (((p0."visits" = ?1) OR p0."id" IN (?2, ?3, ?4)) OR (p0."visits" = ?5))}
    end

    test "a value in an array field is looked up in its JSON" do
      query = from(p in Post, where: "a" in p.tags, select: p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ('a' IN (SELECT value FROM json_each(p0."tags")))}

      run!(~s{INSERT INTO posts (id, tags) VALUES (1, '["a","b"]'), (2, '["c"]')})
      assert run!(all(query)) == [[1]]
    end

    test "a list parameter cast to an array expands like a list parameter" do
      assert all(
               from(p in Post,
                 where: p.title in type(^["a", "b"], {:array, :string}),
                 select: p.id
               )
             ) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" IN (?1, ?2))}
    end

    test "tuples in a list of tuples" do
      query = from(p in Post, where: {p.id, p.visits} in [{1, 2}, {3, 4}], select: p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."id",p0."visits") IN ((1,2),(3,4)))}

      run!("INSERT INTO posts (id, visits) VALUES (1, 2), (3, 5)")
      assert run!(all(query)) == [[1]]
    end

    test "in a subquery" do
      posts = subquery(from(p in "posts", where: p.title == ^"hello", select: p.id))

      assert all(from(c in "comments", where: c.post_id in subquery(posts), select: c.body)) ==
               ~s{SELECT c0."body" FROM "comments" AS c0 } <>
                 ~s{WHERE (c0."post_id" IN (SELECT sp0."id" FROM "posts" AS sp0 WHERE (sp0."title" = ?1)))}
    end

    test "in a subquery that names the parent query" do
      posts =
        subquery(from(p in "posts", where: p.title == parent_as(:comment).body, select: p.id))

      query =
        from(c in "comments", as: :comment, where: c.post_id in subquery(posts), select: c.body)

      assert all(query) ==
               ~s{SELECT c0."body" FROM "comments" AS c0 } <>
                 ~s{WHERE (c0."post_id" IN (SELECT sp0."id" FROM "posts" AS sp0 WHERE (sp0."title" = c0."body")))}
    end
  end

  describe "exists" do
    test "exists with parent_as" do
      comments = from(c in Comment, where: parent_as(:post).id == c.post_id, select: 1)

      assert all(from(p in Post, as: :post, where: exists(comments), select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (EXISTS (SELECT 1 FROM "comments" AS sc0 WHERE (p0."id" = sc0."post_id")))}
    end

    test "not exists" do
      comments = from(c in Comment, where: c.post_id == parent_as(:post).id, select: 1)
      query = from(p in Post, as: :post, where: not exists(comments), select: p.id)

      assert all(query) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (NOT (EXISTS (SELECT 1 FROM "comments" AS sc0 WHERE (sc0."post_id" = p0."id"))))}

      run!("INSERT INTO posts (id) VALUES (1), (2)")
      run!("INSERT INTO comments (id, post_id) VALUES (1, 1)")
      assert run!(all(query)) == [[2]]
    end
  end
end
