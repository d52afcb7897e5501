defmodule Ecto.Adapters.LibSql.Connection.JsonTest do
  # json_extract_path (field["key"][0]) and arrays, which SQLite stores as JSON text.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "json_extract_path becomes json_extract with a JSON path" do
    assert all(from(p in Post, select: p.meta["author"]["names"][0])) ==
             ~s{SELECT json_extract(p0."meta", '$."author"."names"[0]') FROM "posts" AS p0}
  end

  test "JSON paths: quotes in keys, and elements taken from fields" do
    assert all(from(p in Post, select: p.meta["it's"])) ==
             ~s{SELECT json_extract(p0."meta", '$."it''s"') FROM "posts" AS p0}

    assert all(from(p in Post, select: p.meta["x"]["a\"b"][0])) ==
             ~s{SELECT json_extract((SELECT value FROM json_each(json_extract(p0."meta", '$."x"')) WHERE key = 'a"b'), '$[0]') FROM "posts" AS p0}

    assert all(from(p in Post, select: p.meta[p.title][p.visits])) ==
             ~s{SELECT json_extract(p0."meta", '$' || (CASE WHEN typeof(p0."title") = 'integer' THEN '[' || p0."title" || ']' ELSE '."' || p0."title" || '"' END) || (CASE WHEN typeof(p0."visits") = 'integer' THEN '[' || p0."visits" || ']' ELSE '."' || p0."visits" || '"' END)) FROM "posts" AS p0}
  end

  test "json_extract_path/2 with a list of keys and indexes" do
    assert all(from(p in Post, select: json_extract_path(p.meta, ["a", 0, "b"]))) ==
             ~s{SELECT json_extract(p0."meta", '$."a"[0]."b"') FROM "posts" AS p0}
  end

  test "array indexes only" do
    assert all(from(p in Post, select: json_extract_path(p.meta, [0, 1]))) ==
             ~s{SELECT json_extract(p0."meta", '$[0][1]') FROM "posts" AS p0}
  end

  test "a key with a dot or a bracket stays one key" do
    query = from(p in Post, select: p.meta["a.b"]["[c]"])
    assert all(query) == ~s{SELECT json_extract(p0."meta", '$."a.b"."[c]"') FROM "posts" AS p0}

    run!(~s|INSERT INTO posts (id, meta) VALUES (1, '{"a.b": {"[c]": 7}}')|)
    assert run!(all(query)) == [[7]]
  end

  test "a key with a double quote is looked up with json_each" do
    query = from(p in Post, select: p.meta["say \"hi\""])

    assert all(query) ==
             ~s{SELECT (SELECT value FROM json_each(p0."meta") WHERE key = 'say "hi"') FROM "posts" AS p0}

    run!(~s|INSERT INTO posts (id, meta) VALUES (1, '{"say \\"hi\\"": "yes"}')|)
    assert run!(all(query)) == [["yes"]]
  end

  test "a negative index counts from the end" do
    last = -1
    query = from(p in Post, select: {p.meta["list"][^last], p.meta["list"][^(-2)]})

    assert all(query) ==
             ~s{SELECT json_extract(p0."meta", '$."list"[#-1]'), json_extract(p0."meta", '$."list"[#-2]') FROM "posts" AS p0}

    run!(~s|INSERT INTO posts (id, meta) VALUES (1, '{"list": [1, 2, 3]}')|)
    assert run!(all(query)) == [[3, 2]]
  end

  test "interpolated keys and indexes are part of the literal path" do
    key = "a"

    assert all(from(p in Post, select: p.meta[^key][^0])) ==
             ~s{SELECT json_extract(p0."meta", '$."a"[0]') FROM "posts" AS p0}
  end

  test "keys taken from fields find keys and indexes" do
    query = from(p in Post, select: {p.meta[p.title], p.meta["list"][p.visits]})

    run!(
      ~s|INSERT INTO posts (id, title, visits, meta) VALUES (1, 'k', 1, '{"k": "v", "list": [10, 20]}')|
    )

    assert run!(all(query)) == [["v", 20]]
  end

  test "comparisons with JSON values" do
    assert all(from(p in Post, where: p.meta["id"] == 123, select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (json_extract(p0."meta", '$."id"') = 123)}

    assert all(from(p in Post, where: p.meta["id"] == "123", select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (json_extract(p0."meta", '$."id"') = '123')}

    assert all(from(p in Post, where: p.meta["tags"][0]["name"] == "x", select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (json_extract(p0."meta", '$."tags"[0]."name"') = 'x')}
  end

  test "JSON true and false extract as 1 and 0, which the booleans compare with" do
    query = from(p in Post, where: p.meta["on"] == true and p.meta["off"] == false, select: p.id)

    assert all(query) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE ((json_extract(p0."meta", '$."on"') = 1) AND (json_extract(p0."meta", '$."off"') = 0))}

    run!(
      ~s|INSERT INTO posts (id, meta) VALUES (1, '{"on": true, "off": false}'), (2, '{"on": false}')|
    )

    assert run!(all(query)) == [[1]]
  end

  test "an array field compared with an array literal" do
    query = from(p in Post, where: p.tags == ["a", "b"], select: p.id)
    assert all(query) == ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."tags" = '["a","b"]')}
    run!(~s|INSERT INTO posts (id, tags) VALUES (1, '["a","b"]'), (2, '["b","a"]')|)
    assert run!(all(query)) == [[1]]
  end

  test "an empty array literal" do
    assert all(from(p in Post, where: p.tags == [], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."tags" = '[]')}
  end

  test "an array parameter" do
    assert all(from(p in Post, where: p.tags == ^["a"], select: p.id)) ==
             ~s{SELECT p0."id" FROM "posts" AS p0 WHERE (p0."tags" = ?1)}
  end
end
