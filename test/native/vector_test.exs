defmodule EctoLibSql.Native.VectorTest do
  # libSQL's vector functions and vector indexes through the driver, on plain and encrypted
  # connections.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result, Vector, VectorSearch}

  @key "vector-test-key-with-at-least-32-characters"

  defp one!(s, sql, args \\ []) do
    [[value]] = rows!(s, sql, args)
    value
  end

  defp error(s, sql, args \\ []) do
    assert {:error, %Error{message: message, sqlite: %{code: code}}} =
             Native.execute(s, sql, args)

    {code, message}
  end

  defp index_objects(s) do
    rows!(s, "SELECT name FROM sqlite_schema WHERE name LIKE 'items_idx%' ORDER BY name")
    |> List.flatten()
  end

  describe "SQL functions" do
    setup do
      %{s: connect!()}
    end

    test "constructors answer libSQL's blobs", %{s: s} do
      assert one!(s, "SELECT hex(vector('[1,2,3]'))") == "0000803F0000004000004040"
      assert one!(s, "SELECT hex(vector32('[1,2,3]'))") == "0000803F0000004000004040"
      assert one!(s, "SELECT hex(vector64('[1,2]'))") == "000000000000F03F000000000000004002"
      assert one!(s, "SELECT hex(vector16('[1,2]'))") == "003C004005"
      assert one!(s, "SELECT hex(vectorb16('[1,2]'))") == "803F004006"
      assert one!(s, "SELECT hex(vector8('[1,2,3]'))") == "007FFF008180003C0000803F000104"
      assert one!(s, "SELECT hex(vector1bit('[1,-2,3]'))") == "050D03"
      assert one!(s, "SELECT hex(vector32('[]'))") == ""
      assert one!(s, "SELECT hex(vector64('[]'))") == "02"
    end

    test "vector_extract and distances", %{s: s} do
      assert one!(s, "SELECT vector_extract(vector('[1, 2.5, -3]'))") == "[1,2.5,-3]"
      assert one!(s, "SELECT vector_extract(vector64('[1e18]'))") == "[1e+18]"
      assert one!(s, "SELECT vector_extract(vector8('[0,1]'))") == "[0,1]"
      assert_in_delta one!(s, "SELECT vector_distance_cos('[1,2]','[2,1]')"), 0.2, 1.0e-6

      assert_in_delta one!(
                        s,
                        "SELECT vector_distance_l2(vector('[1,2,2,3,4,1,5]'), vector('[2,3,1,-1,2,4,5]'))"
                      ),
                      5.65685415267944,
                      1.0e-6

      assert one!(s, "SELECT vector_distance_cos(vector1bit('[1,1,1]'), vector1bit('[1,-1,-1]'))") ==
               2.0

      # A zero vector has no cosine distance: NULL, as in libSQL.
      assert one!(s, "SELECT vector_distance_cos('[0,0]','[1,1]')") == nil
    end

    test "arguments bound from Elixir: lists as blobs, text, vector/1", %{s: s} do
      {:blob, blob} = Vector.to_blob([1, 2, 3])
      assert one!(s, "SELECT vector_extract(?)", [{:blob, blob}]) == "[1,2,3]"

      assert one!(s, "SELECT vector_extract(vector32(?))", [Native.vector([1, 2, 3])]) ==
               "[1,2,3]"

      assert {:ok, [1.0, 2.0, 3.0]} = Vector.from_blob(one!(s, "SELECT vector64('[1,2,3]')"))
      assert {:ok, [1.0, -1.0, 1.0]} = Vector.from_blob(one!(s, "SELECT vector1bit('[1,-2,3]')"))
      assert {:ok, [1.0, 2.0]} = Vector.from_blob(one!(s, "SELECT vector16('[1,2]')"))
      assert {:ok, [1.0, 2.0]} = Vector.from_blob(one!(s, "SELECT vectorb16('[1,2]')"))
      assert {:ok, [a, b, c]} = Vector.from_blob(one!(s, "SELECT vector8('[1,2,3]')"))
      assert_in_delta a, 1.0, 0.01
      assert_in_delta b, 2.0, 0.01
      assert_in_delta c, 3.0, 0.01

      assert_in_delta one!(s, "SELECT #{Native.vector_distance_cos("?", [1, 2])}", [
                        Native.vector([2, 1])
                      ]),
                      0.2,
                      1.0e-6

      unicode = "[1,2]" <> "é"
      assert {:error, _} = Native.execute(s, "SELECT vector(?)", [unicode])
    end

    test "through Native.query/3 (the DBConnection path)", %{s: s} do
      q = %EctoLibSql.Query{
        statement: "SELECT vector_extract(vector64(?)), vector_distance_l2(?, ?)"
      }

      assert {:ok, ^q, %Result{rows: [["[1,2]", 5.0]]}, ^s} =
               Native.query(s, q, ["[1,2]", "[0,0]", Vector.to_blob([3, 4])])

      bad = %EctoLibSql.Query{statement: "SELECT vector_distance_cos(?, ?)"}

      assert {:error,
              %Error{message: "vector_distance: vectors must have the same length: 1 != 2"},
              ^s} = Native.query(s, bad, ["[1]", "[1,2]"])
    end

    test "errors are %EctoLibSql.Error{} with libSQL's messages", %{s: s} do
      assert {:error, "vector: unexpected value type: got NULL, expected TEXT or BLOB"} =
               error(s, "SELECT vector(NULL)")

      assert {:error, "vector: must start with '['"} = error(s, "SELECT vector('1,2')")
      assert {:error, "vector: must end with ']'"} = error(s, "SELECT vector('[1,2')")

      assert {:error, "vector: invalid float at position 2: ''"} =
               error(s, "SELECT vector('[1,2,]')")

      assert {:error, "vector_distance: vectors must have the same length: 2 != 3"} =
               error(s, "SELECT vector_distance_cos('[1,2]', '[1,2,3]')")

      assert {:error, "vector_distance: vectors must have the same type: 1 != 2"} =
               error(s, "SELECT vector_distance_cos(vector('[1]'), vector64('[1]'))")

      assert {:error, "vector_distance: l2 distance is not supported for float1bit vectors"} =
               error(s, "SELECT vector_distance_l2(vector1bit('[1]'), vector1bit('[1]'))")

      assert {:error, "vector: unexpected binary type: 9"} =
               error(s, "SELECT vector(?)", [{:blob, <<0, 0, 9>>}])

      # The connection is still usable.
      assert one!(s, "SELECT 1") == 1
    end
  end

  describe "indexes" do
    defp setup_items(s) do
      rows!(s, "CREATE TABLE items(id INTEGER PRIMARY KEY, category TEXT, embedding F32_BLOB(3))")

      for {id, category, v} <- [
            {1, "a", [1, 0, 0]},
            {2, "b", [0.9, 0.1, 0]},
            {3, "a", [0, 1, 0]},
            {4, "b", [0, 0, 1]},
            {5, "a", [0.8, 0.2, 0.1]}
          ] do
        rows!(s, "INSERT INTO items VALUES (?, ?, ?)", [id, category, Vector.to_blob(v)])
      end
    end

    defp create_index!(s, options \\ "'metric=cosine'") do
      rows!(
        s,
        "CREATE INDEX items_idx ON items(libsql_vector_idx(embedding, #{options}))"
      )
    end

    defp top_k(s, vector, k) do
      s
      |> rows!("SELECT id FROM vector_top_k('items_idx', ?, ?)", [Vector.to_blob(vector), k])
      |> List.flatten()
    end

    test "create, search, maintain, drop" do
      s = connect!()
      setup_items(s)
      create_index!(s)
      assert index_objects(s) == ["items_idx", "items_idx_shadow", "items_idx_shadow_idx"]
      assert top_k(s, [1, 0, 0], 3) == [1, 2, 5]
      assert top_k(s, [0, 0, 1], 1) == [4]
      assert top_k(s, [0, 0, 1], 0) == []

      # Maintained on insert, update and delete.
      rows!(s, "INSERT INTO items VALUES (6, 'c', vector('[0,0,0.9]'))")
      assert top_k(s, [0, 0, 1], 2) == [4, 6]
      rows!(s, "UPDATE items SET embedding = vector('[1,0,0]') WHERE id = 4")
      assert hd(top_k(s, [0, 0, 1], 1)) == 6
      rows!(s, "DELETE FROM items WHERE id = 1")
      refute 1 in top_k(s, [1, 0, 0], 10)
      assert length(top_k(s, [1, 0, 0], 10)) == 5

      # A rolled-back transaction leaves the index as it was.
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO items VALUES (7, 'c', vector('[0,1,0]'))")
      {:ok, _} = Native.rollback(t)
      refute 7 in top_k(s, [0, 1, 0], 10)

      # Result columns: only id.
      assert {:ok, %Result{columns: ["id"]}} =
               Native.execute(s, "SELECT * FROM vector_top_k('items_idx', vector('[1,0,0]'), 1)")

      rows!(s, "DROP INDEX items_idx")
      assert index_objects(s) == []

      # libSQL's message for an index that does not exist.
      assert {:error, "vector index(search): failed to parse vector index parameters"} =
               error(s, "SELECT id FROM vector_top_k('items_idx', vector('[1,0,0]'), 1)")
    end

    test "index errors" do
      s = connect!()
      setup_items(s)

      assert {:error,
              "vector index: invalid vector index parameter 'metric=dot': invalid parameter"} =
               error(
                 s,
                 "CREATE INDEX items_idx ON items(libsql_vector_idx(embedding, 'metric=dot'))"
               )

      assert {:error, message} =
               error(s, "CREATE INDEX items_idx ON items(libsql_vector_idx(embedding, 1))")

      assert message =~ "all arguments after first must be strings"
      assert index_objects(s) == []

      create_index!(s, "'metric=l2', 'max_neighbors=8'")

      assert {:error, "vector index(insert): dimensions are different: 2 != 3"} =
               error(s, "INSERT INTO items VALUES (10, 'x', vector('[1,2]'))")

      assert {:error, "vector index(search): dimensions are different: 2 != 3"} =
               error(s, "SELECT id FROM vector_top_k('items_idx', vector('[1,2]'), 1)")

      assert {:error, message} =
               error(s, "SELECT id FROM vector_top_k('items_idx', vector('[1,2,3]'), -1)")

      assert message =~ "third parameter (k) must be a non-negative integer"

      assert {:error, "vector index(search): got 2 parameters, expected 3"} =
               error(s, "SELECT id FROM vector_top_k('items_idx', vector('[1,2,3]'))")

      # Nothing half-applied: the failed insert left no row.
      assert one!(s, "SELECT count(*) FROM items") == 5
      assert top_k(s, [1, 0, 0], 1) == [1]
    end

    test "persisted: intact after reopen, on a file" do
      path = tmp_db("vector")
      s = connect!(database: path)
      setup_items(s)
      create_index!(s)
      Native.close(s)

      s = connect!(database: path)
      assert top_k(s, [0, 1, 0], 1) == [3]
      rows!(s, "INSERT INTO items VALUES (8, 'c', vector('[0,0.95,0.05]'))")
      assert top_k(s, [0, 1, 0], 2) == [3, 8]
      assert one!(s, "PRAGMA integrity_check") == "ok"
    end

    test "two connections: one writes, the other's searches see it" do
      path = tmp_db("vector_shared")
      a = connect!(database: path)
      setup_items(a)
      create_index!(a)
      b = connect!(database: path)
      assert top_k(b, [0, 1, 0], 1) == [3]
      rows!(a, "INSERT INTO items VALUES (9, 'c', vector('[0,1,0]'))")
      rows!(a, "DELETE FROM items WHERE id = 3")
      assert top_k(b, [0, 1, 0], 1) == [9]

      # Searches in parallel, each on its own connection.
      results =
        1..4
        |> Enum.map(fn _ ->
          Task.async(fn ->
            {:ok, c} = Native.connect(database: path)

            try do
              for _ <- 1..20, do: top_k(c, [0, 0, 1], 1)
            after
              Native.close(c)
            end
          end)
        end)
        |> Task.await_many(30_000)

      assert results |> List.flatten() |> Enum.uniq() == [4]

      Native.close(b)

      assert {:error, %Error{}} =
               Native.execute(b, "SELECT id FROM vector_top_k('items_idx', '[1,0,0]', 1)")
    end

    test "on an encrypted connection" do
      path = tmp_db("vector_encrypted")
      s = connect!(database: path, encryption_key: @key)
      assert one!(s, "SELECT hex(vector('[1]'))") == "0000803F"
      setup_items(s)
      create_index!(s)
      assert top_k(s, [1, 0, 0], 2) == [1, 2]
      Native.close(s)

      # The file is encrypted, and the index reads back with the key.
      refute File.read!(path) =~ "items_idx_shadow"
      s = connect!(database: path, encryption_key: @key)
      assert top_k(s, [0, 0, 1], 1) == [4]
      rows!(s, "DROP INDEX items_idx")
      assert index_objects(s) == []
    end

    test "a database written by libSQL: reads, writes, searches" do
      path = tmp_db("vidx_by_libsql")
      File.cp!(Path.expand("../../native/tests/data/libsql/vidx_by_libsql.db", __DIR__), path)
      s = connect!(database: path)
      ids = fn sql -> s |> rows!(sql) |> List.flatten() end

      assert ids.("SELECT id FROM vector_top_k('i2', vector32('[1,2,3]'), 10)") == [3, 2, 4]
      assert ids.("SELECT id FROM vector_top_k('main.ui', vector64('[0.1,1]'), 1)") == [2]
      rows!(s, "INSERT INTO t VALUES (9, 'i', vector32('[1,2,3.1]'))")
      rows!(s, "DELETE FROM t WHERE id = 3")
      assert ids.("SELECT id FROM vector_top_k('i2', vector32('[1,2,3]'), 10)") == [9, 2, 4]
      assert one!(s, "PRAGMA integrity_check") == "ok"
      Native.close(s)

      s = connect!(database: path)

      assert s |> rows!("SELECT id FROM vector_top_k('i2', vector32('[1,2,3]'), 10)") ==
               [[9], [2], [4]]
    end

    test "VectorSearch.top_k with a filter" do
      s = connect!()
      setup_items(s)
      create_index!(s)

      assert {:ok, %Result{columns: ["id", "distance"], rows: rows}} =
               VectorSearch.top_k(s, [1, 0, 0],
                 table: "items",
                 index: "items_idx",
                 column: "embedding",
                 select: "items.id",
                 k: 2,
                 candidates: 5,
                 where: "category = ?",
                 where_args: ["a"]
               )

      assert [[1, d1], [5, d5]] = rows
      assert d1 < 1.0e-6 and d5 > d1

      # The filter applies to the candidates: one candidate (id 1) is not in category b.
      opts = [table: "items", index: "items_idx", column: "embedding", k: 1]

      assert {:ok, %Result{rows: []}} =
               VectorSearch.top_k(s, "[1,0,0]", [where: "category = 'b'"] ++ opts)

      assert {:ok,
              %Result{
                columns: ["id", "category", "embedding", "distance"],
                rows: [[2, "b", _, _]]
              }} =
               VectorSearch.top_k(s, "[1,0,0]", [where: "category = 'b'", candidates: 3] ++ opts)

      assert {:error,
              %Error{message: "vector index(search): failed to parse vector index parameters"}} =
               VectorSearch.top_k(s, [1, 0, 0],
                 table: "items",
                 index: "missing",
                 column: "embedding",
                 k: 1
               )
    end
  end

  describe "EctoLibSql.Vector" do
    test "to_blob/2" do
      assert Vector.to_blob([1, 2, 3]) == {:blob, <<0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64>>}
      assert Vector.to_blob([]) == {:blob, ""}

      assert Vector.to_blob([1, 2], :f64) ==
               {:blob, <<1.0::float-64-little, 2.0::float-64-little, 2>>}

      assert Vector.to_blob([], :f64) == {:blob, <<2>>}
      assert_raise ArgumentError, ~r/must be numbers/, fn -> Vector.to_blob([1, "2"]) end
      assert_raise ArgumentError, ~r/32-bit float/, fn -> Vector.to_blob([1.0e300]) end
      assert_raise ArgumentError, ~r/list of numbers/, fn -> Vector.to_blob("[1]") end
      assert_raise ArgumentError, ~r/:f32 or :f64/, fn -> Vector.to_blob([1], :f16) end

      assert_raise ArgumentError, ~r/at most 65536/, fn ->
        Vector.to_blob(List.duplicate(0, 65_537))
      end
    end

    test "from_blob/1" do
      assert Vector.from_blob("") == {:ok, []}
      assert Vector.from_blob(<<2>>) == {:ok, []}
      assert Vector.from_blob(<<1.5::float-32-little, 1>>) == {:ok, [1.5]}
      assert Vector.from_blob(<<0, 0, 9>>) == {:error, "vector: unexpected binary type: 9"}
      assert {:error, _} = Vector.from_blob(<<0, 0, 0, 0, 0, 2>>)
      assert {:error, _} = Vector.from_blob(<<3>>)
      # Infinity has no Elixir float.
      assert {:error, "vector: element 1 is not a finite number"} =
               Vector.from_blob(<<1.0::float-32-little, 0, 0, 128, 127>>)
    end

    test "from_text/1" do
      assert Vector.from_text("[1,2.5,-3]") == {:ok, [1.0, 2.5, -3.0]}
      assert Vector.from_text(" [ 1e+18 , .5, -.5 ] ") == {:ok, [1.0e18, 0.5, -0.5]}
      assert Vector.from_text("[]") == {:ok, []}
      assert {:error, "vector: must start with '['"} = Vector.from_text("1")
      assert {:error, "vector: must end with ']'"} = Vector.from_text("[1")
      assert {:error, "vector: invalid float at position 1: 'x'"} = Vector.from_text("[1,x]")
    end
  end

  describe "EctoLibSql.VectorSearch.top_k_query/2" do
    test "SQL and arguments" do
      {sql, args} =
        VectorSearch.top_k_query([1, 2],
          table: ~s(my "items"),
          index: "idx",
          column: "e",
          k: 3,
          metric: :l2,
          where: "a = ?",
          where_args: [1]
        )

      t = ~s("my ""items""")

      assert sql ==
               "SELECT #{t}.*, vector_distance_l2(#{t}.\"e\", ?2) AS distance " <>
                 "FROM vector_top_k(?1, ?2, ?3) AS top_k JOIN #{t} ON " <>
                 "#{t}.\"rowid\" = top_k.id WHERE (a = ?) ORDER BY distance LIMIT 3"

      assert args == ["idx", Vector.to_blob([1, 2]), 3, 1]
    end

    test "bad options raise ArgumentError" do
      base = [table: "t", index: "i", column: "c", k: 1]

      assert_raise ArgumentError, ~r/missing option :table/, fn ->
        VectorSearch.top_k_query([1], Keyword.delete(base, :table))
      end

      assert_raise ArgumentError, ~r/:k must be/, fn ->
        VectorSearch.top_k_query([1], Keyword.put(base, :k, -1))
      end

      assert_raise ArgumentError, ~r/:metric/, fn ->
        VectorSearch.top_k_query([1], Keyword.put(base, :metric, :dot))
      end

      assert_raise ArgumentError, ~r/query vector/, fn -> VectorSearch.top_k_query(1, base) end
    end
  end
end
