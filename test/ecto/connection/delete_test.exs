defmodule Ecto.Adapters.LibSql.Connection.DeleteTest do
  # DELETE of one row (Repo.delete) and of many (Repo.delete_all), with joins and RETURNING.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  describe "delete/4" do
    test "filters" do
      assert delete(nil, "posts", [id: 1, visits: 2], []) ==
               ~s{DELETE FROM "posts" WHERE "id" = ?1 AND "visits" = ?2}
    end

    test "a nil filter is IS NULL" do
      assert delete(nil, "posts", [id: 1, body: nil], []) ==
               ~s{DELETE FROM "posts" WHERE "id" = ?1 AND "body" IS NULL}
    end

    test "returning and a prefix" do
      assert delete("other", "posts", [id: 1], [:title]) ==
               ~s{DELETE FROM "other"."posts" WHERE "id" = ?1 RETURNING "title"}
    end
  end

  describe "delete_all" do
    test "the whole table" do
      assert delete_all(Post) == ~s{DELETE FROM "posts" AS p0}
    end

    test "a where" do
      assert delete_all(from(p in Post, where: p.visits == 123)) ==
               ~s{DELETE FROM "posts" AS p0 WHERE (p0."visits" = 123)}
    end

    test "a prefix is the attached database" do
      assert delete_all(from(p in Post, where: p.id == ^1) |> Map.put(:prefix, "other")) ==
               ~s{DELETE FROM "other"."posts" AS p0 WHERE (p0."id" = ?1)}
    end

    test "RETURNING names columns unqualified" do
      assert delete_all(from(p in Post, where: p.id == 1, select: p.title)) ==
               ~s{DELETE FROM "posts" AS p0 WHERE (p0."id" = 1) RETURNING "title"}
    end

    test "returning the whole schema" do
      assert delete_all(from(a in Author, select: a)) ==
               ~s{DELETE FROM "authors" AS a0 RETURNING "id", "name", "email", "manager_id"}
    end

    test "delete_all with a join selects the rows by rowid" do
      query = from(p in Post, join: c in Comment, on: c.post_id == p.id, where: c.body == "x")

      assert delete_all(query) ==
               ~s{DELETE FROM "posts" AS p0 WHERE p0.rowid IN (SELECT p0.rowid FROM "posts" AS p0 INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id" WHERE (c1."body" = 'x'))}
    end

    test "a join deletes only the rows it matches" do
      query = from(p in Post, join: c in assoc(p, :comments), where: c.body == "x", select: p.id)
      run!("INSERT INTO posts (id) VALUES (1), (2)")
      run!("INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'x'), (2, 2, 'y')")
      assert run!(delete_all(query)) == [[1]]
      assert run!("SELECT id FROM posts") == [[2]]
    end

    test "a left join" do
      query = from(p in Post, left_join: c in assoc(p, :comments), where: is_nil(c.id))

      sql = delete_all(query)

      assert sql ==
               ~s{DELETE FROM "posts" AS p0 WHERE p0.rowid IN (SELECT p0.rowid FROM "posts" AS p0 } <>
                 ~s{LEFT OUTER JOIN "comments" AS c1 ON c1."post_id" = p0."id" WHERE (c1."id" IS NULL))}

      run!("INSERT INTO posts (id) VALUES (1), (2)")
      run!("INSERT INTO comments (id, post_id) VALUES (1, 1)")
      run!(sql)
      assert run!("SELECT id FROM posts") == [[1]]
    end

    test "a join and a prefix" do
      query =
        from(p in Post, join: c in assoc(p, :comments), where: c.body == "x")
        |> Map.put(:prefix, "other")

      assert delete_all(query) ==
               ~s{DELETE FROM "other"."posts" AS p0 WHERE p0.rowid IN (SELECT p0.rowid FROM "other"."posts" AS p0 } <>
                 ~s{INNER JOIN "other"."comments" AS c1 ON c1."post_id" = p0."id" WHERE (c1."body" = 'x'))}
    end

    test "a joined values list" do
      query = from(p in Post, join: v in values([%{id: 1}], %{id: :integer}), on: v.id == p.id)

      assert delete_all(query) ==
               ~s{DELETE FROM "posts" AS p0 WHERE p0.rowid IN (SELECT p0.rowid FROM "posts" AS p0 } <>
                 ~s{INNER JOIN (SELECT column1 AS "id" FROM (VALUES (?1))) AS v1 ON v1."id" = p0."id")}
    end

    test "returning with a join names the deleted table's columns" do
      query = from(p in Post, join: c in assoc(p, :comments), select: p.id)

      assert delete_all(query) ==
               ~s{DELETE FROM "posts" AS p0 WHERE p0.rowid IN (SELECT p0.rowid FROM "posts" AS p0 } <>
                 ~s{INNER JOIN "comments" AS c1 ON c1."post_id" = p0."id") RETURNING "id"}
    end

    test "returning a joined table's columns raises" do
      query = from(p in Post, join: c in assoc(p, :comments), select: {p.id, c.body})

      assert_raise Ecto.QueryError,
                   ~r/SQLite's RETURNING names columns of the updated or deleted table only/,
                   fn ->
                     delete_all(query)
                   end
    end
  end
end
