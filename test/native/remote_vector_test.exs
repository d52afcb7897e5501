# Vector SQL in remote mode goes to the server as written: against the Hrana test server, whose
# engine is libSQL itself (npm libsql), the functions, an index and vector_top_k answer what
# libSQL answers, through the same helpers as in local mode; against tursodb, the functions it
# has.
Code.require_file("../support/hrana_server.exs", __DIR__)
Code.require_file("../support/tursodb_server.exs", __DIR__)

defmodule EctoLibSql.Native.RemoteVectorTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, HranaServer, Native, TursodbServer, Vector, VectorSearch}

  @moduletag :remote

  # Rows 1..5 of a 3-dimensional table, and what an index and an exact scan answer for them.
  @items [
    {1, [1.0, 0.0, 0.0], "a"},
    {2, [0.9, 0.1, 0.0], "b"},
    {3, [0.0, 1.0, 0.0], "a"},
    {4, [0.0, 0.0, 1.0], "b"},
    {5, [0.7, 0.7, 0.0], "a"}
  ]

  defp fill!(s) do
    {:ok, _} =
      Native.execute(s, "CREATE TABLE items(id INTEGER PRIMARY KEY, emb F32_BLOB(3), tag TEXT)")

    for {id, v, tag} <- @items do
      {:ok, _} =
        Native.execute(s, "INSERT INTO items VALUES (?, vector32(?), ?)", [
          id,
          Native.vector(v),
          tag
        ])
    end
  end

  describe "against libSQL (the Hrana test server)" do
    if reason = HranaServer.missing(), do: @describetag(skip: reason)

    setup do
      server = HranaServer.start!()
      on_exit(fn -> HranaServer.stop(server) end)
      %{s: connect!(uri: server.url, auth_token: "t")}
    end

    test "functions answer libSQL's blobs and values", %{s: s} do
      assert rows!(s, "SELECT hex(vector32('[1,2,3]')), hex(vector8('[1,2,3]'))") ==
               [["0000803F0000004000004040", "007FFF008180003C0000803F000104"]]

      assert rows!(s, "SELECT vector_extract(vector('[1, 2.5, -3]'))") == [["[1,2.5,-3]"]]
      [[cos]] = rows!(s, "SELECT vector_distance_cos('[1,2]', '[2,1]')")
      assert_in_delta cos, 0.2, 1.0e-6

      # a blob built by the Elixir helper is read by the server's engine
      assert rows!(s, "SELECT vector_extract(?)", [Vector.to_blob([1.5, -2.0])]) ==
               [["[1.5,-2]"]]

      assert {:error, %Error{message: message}} =
               Native.execute(s, "SELECT vector_distance_cos('[1,2]', '[1,2,3]')", [])

      assert message =~ "vector"
    end

    test "an index on the server answers vector_top_k and the top-k helper", %{s: s} do
      fill!(s)

      {:ok, _} = Native.execute(s, "CREATE INDEX items_idx ON items(libsql_vector_idx(emb))", [])

      ids = fn v, k ->
        s
        |> rows!("SELECT id FROM vector_top_k('items_idx', ?, ?)", [Vector.to_blob(v), k])
        |> List.flatten()
      end

      assert ids.([1, 0, 0], 3) == [1, 2, 5]
      assert ids.([0, 0, 1], 1) == [4]

      # the index follows writes made through the driver
      {:ok, _} = Native.execute(s, "DELETE FROM items WHERE id = 1", [])
      # (libSQL's graph over four rows may then miss one: only the deletion is asserted)
      answered = ids.([1, 0, 0], 4)
      assert answered != [] and 1 not in answered

      assert {:ok, %{columns: columns, rows: rows}} =
               VectorSearch.top_k(s, [1, 0, 0],
                 table: "items",
                 index: "items_idx",
                 column: "emb",
                 k: 2,
                 candidates: 4,
                 select: "items.id, items.tag",
                 where: "tag = ?",
                 where_args: ["a"]
               )

      assert columns == ["id", "tag", "distance"]
      assert Enum.map(rows, &Enum.take(&1, 2)) == [[5, "a"], [3, "a"]]

      # libSQL's message, the same as the local engine's
      assert {:error,
              %Error{message: "vector index(search): failed to parse vector index parameters"}} =
               Native.execute(s, "SELECT id FROM vector_top_k('no_such_idx', '[1,0,0]', 1)", [])
    end
  end

  describe "against tursodb" do
    if reason = TursodbServer.missing(), do: @describetag(skip: reason)

    setup do
      server = TursodbServer.start!()
      on_exit(fn -> TursodbServer.stop(server) end)
      %{s: connect!(uri: server.url, auth_token: "token")}
    end

    test "the vector functions it has answer through the driver, exact scans included", %{s: s} do
      fill!(s)

      assert rows!(s, "SELECT vector_extract(emb) FROM items WHERE id = 2") ==
               [["[0.9,0.1,0]"]]

      by_distance =
        rows!(
          s,
          "SELECT id FROM items ORDER BY vector_distance_cos(emb, vector32(?)), id LIMIT 3",
          ["[1,0,0]"]
        )

      assert List.flatten(by_distance) == [1, 2, 5]
    end
  end
end
