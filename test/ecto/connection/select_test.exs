defmodule Ecto.Adapters.LibSql.Connection.SelectTest do
  # SELECT lists: fields, literals, operators, casts and aliases.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  describe "fields" do
    test "a tuple, a list and a struct of fields select the same columns" do
      expected = ~s{SELECT p0."title", p0."visits" FROM "posts" AS p0}
      assert all(from(p in Post, select: {p.title, p.visits})) == expected
      assert all(from(p in Post, select: [p.title, p.visits])) == expected
      assert all(from(p in Post, select: struct(p, [:title, :visits]))) == expected
    end

    test "map/2 selects the fields in the order given" do
      assert all(from(p in Post, select: map(p, [:visits, :title]))) ==
               ~s{SELECT p0."visits", p0."title" FROM "posts" AS p0}
    end

    test "selecting the whole schema names every field" do
      assert all(from(a in Author, select: a)) ==
               ~s{SELECT a0."id", a0."name", a0."email", a0."manager_id" FROM "authors" AS a0}
    end

    test "a schema-less source selects a named field" do
      assert all(from(p in "posts", select: p.title)) ==
               ~s{SELECT p0."title" FROM "posts" AS p0}
    end

    test "field/2 with an interpolated name" do
      assert all(from(p in Post, select: field(p, ^:title))) ==
               ~s{SELECT p0."title" FROM "posts" AS p0}
    end

    test "a query without a select list selects 1" do
      query = from(p in Post, select: p.id) |> plan()

      assert SQL.all(%{query | select: %{query.select | fields: []}}) |> valid!() ==
               ~s{SELECT 1 FROM "posts" AS p0}
    end

    test "selecting a fragment source whole raises: its columns are unknown" do
      assert_raise Ecto.QueryError, ~r/SQLite cannot select all fields from fragment f0/, fn ->
        all(from(f in fragment("SELECT 1 AS x"), select: f))
      end
    end
  end

  describe "aliases" do
    test "selected_as/2 names the selected value" do
      assert all(from(p in Post, select: selected_as(p.visits, :n))) ==
               ~s{SELECT p0."visits" AS "n" FROM "posts" AS p0}
    end

    test "selected_as/2 over an aggregate" do
      assert all(from(p in Post, select: p.visits |> coalesce(0) |> sum() |> selected_as(:total))) ==
               ~s{SELECT sum(coalesce(p0."visits", 0)) AS "total" FROM "posts" AS p0}
    end

    test "an alias that needs quoting is quoted" do
      assert all(from(p in Post, select: selected_as(p.visits, :"a \"b\""))) ==
               ~s{SELECT p0."visits" AS "a ""b""" FROM "posts" AS p0}
    end
  end

  describe "literals" do
    test "true and false are 1 and 0" do
      assert all(from(p in Post, where: p.published == true or p.published == false, select: 1)) ==
               ~s{SELECT 1 FROM "posts" AS p0 WHERE ((p0."published" = 1) OR (p0."published" = 0))}
    end

    test "literals in a select list are Ecto's, not SQL's: a query of only literals selects 1" do
      assert all(from(p in Post, select: {1, 1.5, nil, "x"})) == ~s{SELECT 1 FROM "posts" AS p0}
    end

    test "integers and floats" do
      assert all(from(p in Post, where: p.visits > -2 and p.rating == 1.5, select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."visits" > -2) AND (p0."rating" = 1.5))}
    end

    test "strings are quoted and their single quotes doubled" do
      assert all(from(p in Post, where: p.title == "it's", select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" = 'it''s')}
    end

    test "backslashes are not escapes in SQLite" do
      assert all(from(p in Post, where: p.title == "'\\  ", select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" = '''\\  ')}

      run!("INSERT INTO posts (id, title) VALUES (1, ?1)", ["'\\  "])
      assert run!(all(from(p in Post, where: p.title == "'\\  ", select: p.id))) == [[1]]
    end

    test "a string of only a quote" do
      assert all(from(p in Post, where: p.title == "'", select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" = '''')}
    end

    # Ecto's query macro tags a literal binary with `is_binary(literal)`, which the compiler
    # warns always yields the same result: these queries are expanded when the test runs.
    defp run_time(quoted), do: quoted |> Code.eval_quoted([], __ENV__) |> elem(0)

    test "binary literals are written as the driver binds binaries" do
      query = run_time(quote(do: from(p in Post, where: p.data == <<0, 1, 255>>, select: p.id)))

      assert %Ecto.Query.Tagged{value: <<0, 1, 255>>, type: :binary} =
               hd(query.wheres).expr |> elem(2) |> List.last()

      assert all(query) == ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."data" = x'0001ff')}

      assert all(run_time(quote(do: from(p in Post, where: p.data == <<0, 1>>, select: p.id)))) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."data" = CAST(x'0001' AS TEXT))}

      assert all(from(p in Post, where: p.title == "plain", select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" = 'plain')}
    end

    test "a binary literal finds the row the driver stored" do
      run!("INSERT INTO posts (id, data) VALUES (1, ?1), (2, ?2)", [<<0, 1, 255>>, "x"])
      query = run_time(quote(do: from(p in Post, where: p.data == <<0, 1, 255>>, select: p.id)))
      assert run!(all(query)) == [[1]]
    end

    test "a parameter is numbered" do
      assert all(from(p in Post, select: {p.id, ^0})) ==
               ~s{SELECT p0."id", ?1 FROM "posts" AS p0}
    end
  end

  describe "operators" do
    for {op, sql} <- [==: "=", !=: "!=", <=: "<=", >=: ">=", <: "<", >: ">"] do
      test "comparison #{op} is #{sql}" do
        query = from(p in Post, select: unquote(op)(p.visits, 2))
        assert all(query) == ~s{SELECT p0."visits" #{unquote(sql)} 2 FROM "posts" AS p0}
      end
    end

    for {op, sql} <- [+: "+", -: "-", *: "*", /: "/"] do
      test "arithmetic #{op}" do
        query = from(p in Post, select: unquote(op)(p.visits, 2))
        assert all(query) == ~s{SELECT p0."visits" #{unquote(sql)} 2 FROM "posts" AS p0}
      end
    end

    test "unary minus" do
      assert all(from(p in Post, select: -p.visits)) ==
               ~s{SELECT -(p0."visits") FROM "posts" AS p0}

      run!("INSERT INTO posts (id, visits) VALUES (1, 5)")
      assert run!(all(from(p in Post, select: -p.visits))) == [[-5]]
    end

    test "nested operators are parenthesised" do
      z = 123

      assert all(from(p in Post, select: (p.visits > 0 and p.id > ^(-z)) or true)) ==
               ~s{SELECT ((p0."visits" > 0) AND (p0."id" > ?1)) OR 1 FROM "posts" AS p0}
    end

    test "arithmetic inside a comparison is parenthesised" do
      assert all(from(p in Post, select: p.visits * 2 + 1 > p.id)) ==
               ~s{SELECT ((p0."visits" * 2) + 1) > p0."id" FROM "posts" AS p0}
    end

    test "is_nil" do
      assert all(from(p in Post, select: is_nil(p.title))) ==
               ~s{SELECT p0."title" IS NULL FROM "posts" AS p0}
    end

    test "not is_nil" do
      assert all(from(p in Post, select: not is_nil(p.title))) ==
               ~s{SELECT NOT (p0."title" IS NULL) FROM "posts" AS p0}
    end

    test "is_nil compared is parenthesised" do
      assert all(from(p in Post, select: p.published == is_nil(p.title))) ==
               ~s{SELECT p0."published" = (p0."title" IS NULL) FROM "posts" AS p0}
    end

    test "like" do
      assert all(from(p in Post, where: like(p.title, "a%"), select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" LIKE 'a%')}
    end

    test "ilike is LIKE, which ignores the case of ASCII letters in SQLite" do
      assert all(from(p in Post, where: ilike(p.title, ^"A%"), select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."title" LIKE ?1)}

      run!("INSERT INTO posts (id, title) VALUES (1, 'abc'), (2, 'xyz')")
      assert run!(all(from(p in Post, where: ilike(p.title, "A%"), select: p.id))) == [[1]]
    end

    test "tuples compare as row values" do
      assert all(from(p in Post, where: {p.visits, p.id} > {1, 2}, select: p.id)) ==
               ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((p0."visits",p0."id") > (1,2))}
    end
  end

  describe "casts" do
    test "type/2 to an integer" do
      assert all(from(p in Post, select: type(p.visits + p.id, :integer))) ==
               ~s{SELECT CAST(p0."visits" + p0."id" AS INTEGER) FROM "posts" AS p0}
    end

    test "type/2 to a float casts the operand that Ecto tags too" do
      assert all(from(p in Post, select: type(p.visits + 1, :float))) ==
               ~s{SELECT CAST(p0."visits" + CAST(1 AS REAL) AS REAL) FROM "posts" AS p0}
    end

    test "type/2 of a parameter to a decimal is NUMERIC" do
      assert all(from(p in Post, select: type(^"1.5", :decimal))) ==
               ~s{SELECT CAST(?1 AS NUMERIC) FROM "posts" AS p0}
    end

    test "type/2 to a string and a binary" do
      assert all(from(p in Post, select: {type(p.visits, :string), type(p.title, :binary)})) ==
               ~s{SELECT CAST(p0."visits" AS TEXT), CAST(p0."title" AS BLOB) FROM "posts" AS p0}
    end

    test "types SQLite stores as they are dumped take no cast" do
      uuid = "601d74e4-a8d3-4b6e-8365-eddb4c893327"

      assert all(from(p in Post, select: type(^uuid, Ecto.UUID))) ==
               ~s{SELECT ?1 FROM "posts" AS p0}

      assert all(from(p in Post, select: type(^[uuid], {:array, Ecto.UUID}))) ==
               ~s{SELECT ?1 FROM "posts" AS p0}

      assert all(from(p in Post, select: type(^~N[2020-01-01 00:00:00], :naive_datetime))) ==
               ~s{SELECT ?1 FROM "posts" AS p0}
    end
  end

  describe "expressions SQLite cannot run" do
    test "an expression the generator does not know raises, naming it" do
      query = from(p in Post, select: p.id) |> plan()
      query = %{query | select: %{query.select | fields: [{:no_such_thing, [], :atom}]}}

      assert_raise Ecto.QueryError, ~r/unsupported expression for SQLite: \{:no_such_thing/, fn ->
        SQL.all(query)
      end
    end
  end
end
