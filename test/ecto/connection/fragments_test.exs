defmodule Ecto.Adapters.LibSql.Connection.FragmentsTest do
  # fragment/1 and its helpers: literal/1, identifier/1, constant/1, splice/1.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "a bare fragment" do
    assert all(from(p in Post, select: fragment("random()"))) ==
             ~s{SELECT random() FROM "posts" AS p0}
  end

  test "a fragment over a field" do
    assert all(from(p in Post, select: fragment("lower(?)", p.title))) ==
             ~s{SELECT lower(p0."title") FROM "posts" AS p0}
  end

  test "a fragment over a binding names its alias" do
    assert SQL.all(plan(from(p in Post, select: fragment("count(?)", p)))) ==
             ~s{SELECT count(p0) FROM "posts" AS p0}
  end

  test "a fragment with a field and a parameter" do
    assert all(from(p in Post, select: fragment("substr(?, ?)", p.title, ^2))) ==
             ~s{SELECT substr(p0."title", ?1) FROM "posts" AS p0}
  end

  test "a fragment in where, group by, having and order by" do
    query =
      from(p in Post,
        where: fragment("length(?) > ?", p.title, ^3),
        group_by: fragment("lower(?)", p.title),
        having: fragment("count(*) > ?", ^1),
        order_by: fragment("lower(?) DESC", p.title),
        select: fragment("lower(?)", p.title)
      )

    assert all(query) ==
             ~s{SELECT lower(p0."title") FROM "posts" AS p0 WHERE (length(p0."title") > ?1) } <>
               ~s{GROUP BY lower(p0."title") HAVING (count(*) > ?2) ORDER BY lower(p0."title") DESC}
  end

  test "a question mark escaped with a backslash is kept" do
    query = from(p in Post, where: fragment("? = 'query\\?'", p.title), select: p.id)
    assert all(query) == ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" = 'query?')}
  end

  test "literal/1 and identifier/1 quote a name" do
    assert all(from(p in Post, select: fragment("? COLLATE ?", p.title, literal(^"NOCASE")))) ==
             ~s{SELECT p0."title" COLLATE "NOCASE" FROM "posts" AS p0}

    assert all(from(p in Post, select: fragment("? COLLATE ?", p.title, identifier(^"NOCASE")))) ==
             ~s{SELECT p0."title" COLLATE "NOCASE" FROM "posts" AS p0}
  end

  test "identifier/1 escapes a double quote" do
    assert SQL.all(plan(from(p in Post, select: fragment("?", identifier(^~s{a"b}))))) ==
             ~s{SELECT "a""b" FROM "posts" AS p0}
  end

  test "constant/1 writes a string or a number as a literal" do
    assert all(from(p in Post, select: fragment("? || ?", constant(^"it's"), constant(^1)))) ==
             ~s{SELECT 'it''s' || 1 FROM "posts" AS p0}

    assert run!(
             all(
               from(p in fragment("SELECT 1"),
                 select: fragment("? || ?", constant(^"it's"), constant(^1))
               )
             )
           ) ==
             [["it's1"]]
  end

  test "splice/1 expands a list parameter among the others" do
    query =
      from(p in Post,
        where: fragment("? IN (?, ?, ?)", p.id, ^1, splice(^[2, 3, 4]), ^5),
        select: p.id
      )

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."id" IN (?1, ?2,?3,?4, ?5))}
  end

  test "a SELECT fragment in an expression is a subquery" do
    assert all(from(p in Post, select: fragment("SELECT max(id) FROM comments"))) ==
             ~s{SELECT (SELECT max(id) FROM comments) FROM "posts" AS p0}
  end

  test "a cast fragment" do
    query =
      from(p in Post, where: fragment("? > ?", p.inserted_at, type(^"4", :integer)), select: p.id)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."inserted_at" > CAST(?1 AS INTEGER))}
  end

  test "keyword fragments raise: they are MongoDB's" do
    assert_raise Ecto.QueryError,
                 ~r/SQLite does not support keyword or interpolated fragments/,
                 fn ->
                   all(from(p in Post, select: fragment(title: 2)))
                 end
  end

  test "a list in a fragment is a JSON array" do
    assert all(from(p in Post, where: p.tags == fragment("?", ["a", "b"]), select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."tags" = json_array('a','b'))}

    run!(~s{INSERT INTO posts (id, tags) VALUES (1, '["a","b"]')})

    assert run!(all(from(p in Post, where: p.tags == fragment("?", ["a", "b"]), select: p.id))) ==
             [[1]]
  end
end
