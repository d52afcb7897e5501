defmodule EctoLibSql.JSONTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.JSON

  setup do
    %{s: connect!()}
  end

  test "extract/3", %{s: s} do
    doc = ~s({"theme":"dark","user":{"age":30,"score":9.5,"tags":[1,2]},"none":null,"ok":true})
    assert {:ok, "dark"} = JSON.extract(s, doc, "$.theme")
    assert {:ok, 30} = JSON.extract(s, doc, "$.user.age")
    assert {:ok, 9.5} = JSON.extract(s, doc, "$.user.score")
    assert {:ok, "[1,2]"} = JSON.extract(s, doc, "$.user.tags")
    assert {:ok, 2} = JSON.extract(s, doc, "$.user.tags[1]")
    assert {:ok, nil} = JSON.extract(s, doc, "$.none")
    assert {:ok, nil} = JSON.extract(s, doc, "$.missing")
    assert {:ok, 1} = JSON.extract(s, doc, "$.ok")
    assert {:ok, "😀"} = JSON.extract(s, ~s({"e":"😀"}), "$.e")
    assert {:error, "malformed JSON"} = JSON.extract(s, "{not json", "$.a")
    assert {:error, "JSON path error near 'a'"} = JSON.extract(s, doc, "a")
    assert_raise FunctionClauseError, fn -> JSON.extract(s, %{}, "$") end
  end

  test "type/3", %{s: s} do
    doc = ~s({"a":[1,2.5,"t",null,true,false,{}]})
    assert {:ok, "object"} = JSON.type(s, doc)
    assert {:ok, "array"} = JSON.type(s, doc, "$.a")

    assert for(i <- 0..6, do: elem(JSON.type(s, doc, "$.a[#{i}]"), 1)) ==
             ["integer", "real", "text", "null", "true", "false", "object"]

    assert {:ok, nil} = JSON.type(s, doc, "$.b")
    assert {:error, "malformed JSON"} = JSON.type(s, "[", "$")
  end

  test "is_valid/2", %{s: s} do
    assert {:ok, true} = JSON.is_valid(s, ~s({"valid":true}))
    assert {:ok, true} = JSON.is_valid(s, "42")
    assert {:ok, false} = JSON.is_valid(s, "not json")
    assert {:ok, false} = JSON.is_valid(s, "")
    assert {:ok, false} = JSON.is_valid(s, ~s({"a":}))
  end

  test "array/2 and object/2", %{s: s} do
    assert {:ok, ~s([1,2.5,"hello",null,1])} = JSON.array(s, [1, 2.5, "hello", nil, true])
    assert {:ok, "[]"} = JSON.array(s, [])
    {:ok, obj} = JSON.object(s, ["name", "Alice", "age", 30])
    assert obj == ~s({"name":"Alice","age":30})
    assert {:ok, "{}"} = JSON.object(s, [])

    assert {:error, {:invalid_arguments, "json_object requires even number of arguments"}} =
             JSON.object(s, ["a"])

    assert {:error, "json_object() labels must be TEXT"} = JSON.object(s, [1, 2])
    # text stays text: nest JSON by passing it through SQL's json() first, or build it here
    assert {:ok, ~s(["{\\"name\\":\\"Alice\\",\\"age\\":30}"])} = JSON.array(s, [obj])
    assert {:error, "unsupported argument type: " <> _} = JSON.array(s, [{:tuple}])
  end

  test "each/3 and tree/3", %{s: s} do
    assert {:ok, [{0, 1, "integer"}, {1, "x", "text"}, {2, "[3]", "array"}]} =
             JSON.each(s, ~s([1,"x",[3]]))

    assert {:ok, [{"a", 1, "integer"}, {"b", nil, "null"}]} = JSON.each(s, ~s({"a":1,"b":null}))
    assert {:ok, [{0, 3, "integer"}]} = JSON.each(s, ~s({"a":[3]}), "$.a")
    assert {:ok, []} = JSON.each(s, "[]")

    assert {:ok,
            [
              {"$", nil, "object"},
              {"$.a", nil, "object"},
              {"$.a.b", 1, "integer"},
              {"$.c", nil, "array"},
              {"$.c[0]", 2, "integer"}
            ]} = JSON.tree(s, ~s({"a":{"b":1},"c":[2]}))

    assert {:ok, [{"$.c", nil, "array"}, {"$.c[0]", 2, "integer"}]} =
             JSON.tree(s, ~s({"a":{"b":1},"c":[2]}), "$.c")

    assert {:error, "malformed JSON"} = JSON.each(s, "{", "$")
    assert {:error, "malformed JSON"} = JSON.tree(s, "{", "$")
  end

  test "convert/3", %{s: s} do
    assert {:ok, ~s({"a":1,"b":[1,2]})} = JSON.convert(s, ~s(  { "a" : 1, "b": [1, 2] }  ))
    assert {:ok, "[]"} = JSON.convert(s, "[ ]", :json)
    assert {:error, "malformed JSON"} = JSON.convert(s, "nope")

    assert_raise ArgumentError, ~r/format must be :json or :jsonb/, fn ->
      JSON.convert(s, "1", :xml)
    end

    [[version]] = rows!(s, "SELECT sqlite_version()")

    if Version.compare(version, "3.45.0") == :lt do
      assert {:error,
              "JSONB needs SQLite 3.45 or later; this connection uses SQLite " <> ^version} =
               JSON.convert(s, ~s({"a":1}), :jsonb)
    else
      assert {:ok, blob} = JSON.convert(s, ~s({"a":1}), :jsonb)
      assert is_binary(blob)
    end
  end

  test "arrow_fragment/3" do
    assert JSON.arrow_fragment("settings", "$.theme") == "settings -> '$.theme'"
    assert JSON.arrow_fragment("settings", "theme", :double_arrow) == "settings ->> 'theme'"
    assert JSON.arrow_fragment("tags", 0) == "tags -> 0"
    assert JSON.arrow_fragment("tags", -1, :double_arrow) == "tags ->> -1"
    assert JSON.arrow_fragment("_c1", "it's") == "_c1 -> 'it''s'"

    for bad <- ["1col", "a b", "a;DROP TABLE x", "t.c", "", "é"] do
      assert_raise ArgumentError, ~r/json_column must be a valid SQL identifier/, fn ->
        JSON.arrow_fragment(bad, "$")
      end
    end

    assert_raise ArgumentError, ~r/operator/, fn -> JSON.arrow_fragment("c", "$", :arrowz) end
    assert_raise ArgumentError, ~r/path/, fn -> JSON.arrow_fragment("c", 1.5) end
  end

  test "arrow fragments run in SQLite", %{s: s} do
    {:ok, _} = EctoLibSql.Native.execute(s, "CREATE TABLE d(settings TEXT)")

    {:ok, _} =
      EctoLibSql.Native.execute(s, "INSERT INTO d VALUES (?)", [~s({"theme":"dark","n":[5]})])

    sql =
      "SELECT #{JSON.arrow_fragment("settings", "$.theme", :double_arrow)}, " <>
        "#{JSON.arrow_fragment("settings", "$.theme")} FROM d"

    assert rows!(s, sql) == [["dark", ~s("dark")]]
  end

  test "json_quote/2", %{s: s} do
    assert {:ok, ~s("hello \\"world\\"")} = JSON.json_quote(s, ~s(hello "world"))
    assert {:ok, "42"} = JSON.json_quote(s, 42)
    assert {:ok, "1.5"} = JSON.json_quote(s, 1.5)
    assert {:ok, "null"} = JSON.json_quote(s, nil)
    assert {:ok, ~s("😀")} = JSON.json_quote(s, "😀")
  end

  test "json_length/3 (emulated: SQLite has no json_length)", %{s: s} do
    assert {:ok, 3} = JSON.json_length(s, "[1,2,3]")
    assert {:ok, 2} = JSON.json_length(s, ~s({"a":1,"b":2}))
    assert {:ok, 0} = JSON.json_length(s, "[]")
    assert {:ok, 0} = JSON.json_length(s, "{}")
    assert {:ok, 2} = JSON.json_length(s, ~s({"a":[1,[2,3]]}), "$.a")
    assert {:ok, nil} = JSON.json_length(s, "42")
    assert {:ok, nil} = JSON.json_length(s, ~s({"a":1}), "$.missing")
    assert {:error, "malformed JSON"} = JSON.json_length(s, "[")
  end

  test "depth/2 (emulated: SQLite has no json_depth)", %{s: s} do
    assert {:ok, 1} = JSON.depth(s, "1")
    assert {:ok, 1} = JSON.depth(s, "[]")
    assert {:ok, 1} = JSON.depth(s, "{}")
    assert {:ok, 2} = JSON.depth(s, "[1,2,3]")
    assert {:ok, 3} = JSON.depth(s, ~s({"a":{"b":1}}))
    assert {:ok, 4} = JSON.depth(s, ~s([1,[2,[3]],{"x":[]}]))
    assert {:error, "malformed JSON"} = JSON.depth(s, "{")
  end

  test "keys/3 (emulated: SQLite has no json_keys)", %{s: s} do
    assert {:ok, ~s(["name","age"])} = JSON.keys(s, ~s({"name":"Alice","age":30}))
    assert {:ok, "[]"} = JSON.keys(s, "{}")
    assert {:ok, ~s(["b"])} = JSON.keys(s, ~s({"a":{"b":1}}), "$.a")
    assert {:ok, nil} = JSON.keys(s, "[1,2]")
    assert {:ok, nil} = JSON.keys(s, ~s({"a":1}), "$.zz")
    assert {:error, "malformed JSON"} = JSON.keys(s, "{")
  end

  test "remove/3, set/4, replace/4, insert/4, patch/3", %{s: s} do
    assert {:ok, ~s({"a":1,"c":3})} = JSON.remove(s, ~s({"a":1,"b":2,"c":3}), "$.b")
    assert {:ok, "[2,4,5]"} = JSON.remove(s, "[1,2,3,4,5]", ["$[0]", "$[1]"])
    assert {:ok, "[1]"} = JSON.remove(s, "[1]", [])

    assert {:ok, ~s({"a":1,"b":2})} = JSON.set(s, ~s({"a":1}), "$.b", 2)
    assert {:ok, ~s({"a":"x"})} = JSON.set(s, ~s({"a":1}), "$.a", "x")
    assert {:ok, ~s({"a":1,"t":1})} = JSON.set(s, ~s({"a":1}), "$.t", true)
    assert {:ok, ~s({"a":null})} = JSON.set(s, ~s({"a":1}), "$.a", nil)

    assert {:ok, ~s({"a":10,"b":2})} = JSON.replace(s, ~s({"a":1,"b":2}), "$.a", 10)
    assert {:ok, ~s({"a":1})} = JSON.replace(s, ~s({"a":1}), "$.z", 99)

    assert {:ok, ~s({"a":1,"b":2})} = JSON.insert(s, ~s({"a":1}), "$.b", 2)
    assert {:ok, ~s({"a":1})} = JSON.insert(s, ~s({"a":1}), "$.a", 2)
    assert {:ok, "[1,3,4,5]"} = JSON.insert(s, "[1,3,4]", "$[#]", 5)

    assert {:ok, ~s({"a":10,"b":2})} = JSON.patch(s, ~s({"a":1,"b":2}), ~s({"a":10}))
    assert {:ok, ~s({"a":1,"c":3})} = JSON.patch(s, ~s({"a":1,"b":2,"c":3}), ~s({"b":null}))

    assert {:ok, ~s({"user":{"name":"A","age":31}})} =
             JSON.patch(s, ~s({"user":{"name":"A","age":30}}), ~s({"user":{"age":31}}))

    assert {:error, "malformed JSON"} = JSON.set(s, "{", "$.a", 1)
    assert {:error, "JSON path error near 'a'"} = JSON.set(s, "{}", "a", 1)
    assert {:error, "malformed JSON"} = JSON.patch(s, "{}", "{")
  end

  test "errors on a closed connection", %{s: s} do
    :ok = EctoLibSql.Native.close(s)
    assert {:error, "Connection not found: it is closed"} = JSON.extract(s, "{}", "$")
    assert {:error, "Connection not found: it is closed"} = JSON.each(s, "[]")
  end
end
