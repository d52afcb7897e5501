defmodule Ecto.Adapters.LibSql.VectorTypeTest do
  use ExUnit.Case, async: true

  import Ecto.Query
  import Ecto.Adapters.LibSql.VectorQuery

  alias Ecto.Adapters.LibSql.Vector, as: VectorType
  alias EctoLibSql.{Native, Vector}

  @type3 Ecto.ParameterizedType.init(VectorType, dimensions: 3)
  @any Ecto.ParameterizedType.init(VectorType, [])
  @f64 Ecto.ParameterizedType.init(VectorType, type: :f64)

  describe "Ecto.Type functions" do
    test "cast" do
      assert Ecto.Type.cast(@type3, [1, 2.5, -3]) == {:ok, [1.0, 2.5, -3.0]}
      assert Ecto.Type.cast(@type3, "[1, 2.5, -3]") == {:ok, [1.0, 2.5, -3.0]}
      assert Ecto.Type.cast(@type3, nil) == {:ok, nil}
      assert Ecto.Type.cast(@any, []) == {:ok, []}

      assert {:error, [message: "must have 3 dimensions, got 2", dimensions: 3]} =
               Ecto.Type.cast(@type3, [1, 2])

      assert {:error, [message: "must be a list of numbers"]} = Ecto.Type.cast(@any, [1, "2"])
      assert {:error, [message: "vector: must start with '['"]} = Ecto.Type.cast(@any, "1,2")
      assert :error = Ecto.Type.cast(@any, %{})
      assert :error = Ecto.Type.cast(@any, 1.0)
    end

    test "dump and load" do
      assert {:ok, {:blob, <<0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64>>}} =
               Ecto.Type.dump(@type3, [1.0, 2.0, 3.0])

      assert {:ok, {:blob, <<1.0::float-64-little, 2>>}} = Ecto.Type.dump(@f64, [1.0])
      assert Ecto.Type.dump(@type3, nil) == {:ok, nil}
      assert Ecto.Type.dump(@type3, [1.0]) == :error
      assert Ecto.Type.dump(@any, [1.0e300]) == :error
      assert Ecto.Type.dump(@any, "[1]") == :error

      assert Ecto.Type.load(@type3, <<0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64>>) ==
               {:ok, [1.0, 2.0, 3.0]}

      assert Ecto.Type.load(@any, <<1.0::float-64-little, 2>>) == {:ok, [1.0]}
      assert Ecto.Type.load(@any, "[1,2]") == {:ok, [1.0, 2.0]}
      assert Ecto.Type.load(@any, nil) == {:ok, nil}
      assert Ecto.Type.load(@any, <<0, 0, 9>>) == :error
      assert Ecto.Type.type(@type3) == :binary
      assert Ecto.Type.equal?(@type3, [1.0], [1.0])
      refute Ecto.Type.equal?(@type3, [1.0], [2.0])
    end

    test "bad options" do
      assert_raise ArgumentError, ~r/:dimensions/, fn ->
        Ecto.ParameterizedType.init(VectorType, dimensions: 0)
      end

      assert_raise ArgumentError, ~r/:type/, fn ->
        Ecto.ParameterizedType.init(VectorType, type: :f16)
      end
    end

    test "schemaless changesets" do
      types = %{title: :string, embedding: @type3}

      changeset =
        Ecto.Changeset.cast({%{}, types}, %{"title" => "a", "embedding" => [1, 0, 0]}, [
          :title,
          :embedding
        ])

      assert changeset.valid?
      assert Ecto.Changeset.get_change(changeset, :embedding) == [1.0, 0.0, 0.0]

      changeset = Ecto.Changeset.cast({%{}, types}, %{"embedding" => [1, 0]}, [:embedding])
      refute changeset.valid?

      assert [embedding: {"must have 3 dimensions, got 2", meta}] = changeset.errors
      assert meta[:dimensions] == 3 and meta[:validation] == :cast
    end

    test "dumped values round-trip through the database" do
      {:ok, s} = Native.connect(database: ":memory:")
      on_exit(fn -> Native.close(s) end)
      {:ok, _} = Native.execute(s, "CREATE TABLE items(id INTEGER PRIMARY KEY, e F32_BLOB(3))")
      # Zero bytes are valid UTF-8: the {:blob, _} form keeps them a BLOB.
      for {id, v} <- [{1, [0.0, 0.0, 0.0]}, {2, [1.0, -2.5, 3.0]}] do
        {:ok, dumped} = Ecto.Type.dump(@type3, v)
        {:ok, _} = Native.execute(s, "INSERT INTO items VALUES (?, ?)", [id, dumped])
      end

      {:ok, %{rows: rows}} =
        Native.execute(s, "SELECT typeof(e), vector_extract(e), e FROM items ORDER BY id")

      assert [["blob", "[0,0,0]", b1], ["blob", "[1,-2.5,3]", b2]] = rows
      assert Ecto.Type.load(@type3, b1) == {:ok, [0.0, 0.0, 0.0]}
      assert Ecto.Type.load(@type3, b2) == {:ok, [1.0, -2.5, 3.0]}
    end
  end

  describe "query macros" do
    test "vector_top_k/3 builds a join on vector_top_k with bound arguments" do
      embedding = [1, 0, 0]

      query =
        from(i in "items",
          join: t in vector_top_k("items_idx", ^embedding, 3),
          on: t.id == i.id,
          where: i.category == ^"a",
          order_by: vector_distance_cos(i.embedding, embedding),
          select: {i.id, vector_distance_l2(i.embedding, "[1,0,0]")}
        )

      [join] = query.joins
      assert {:fragment, [], parts} = join.source

      assert [raw: "vector_top_k(", expr: _, raw: ", ", expr: _, raw: ", ", expr: _, raw: ")"] =
               parts

      assert [{"items_idx", :any}, {{:blob, blob}, :any}, {3, :any}] = join.params
      assert {:blob, blob} == Vector.to_blob(embedding)

      [order] = query.order_bys
      assert [{{:blob, ^blob}, :any}] = order.params
      assert [{"[1,0,0]", :any}] = query.select.params
    end

    test "the SQL the join stands for runs on a real connection" do
      {:ok, s} = Native.connect(database: ":memory:")
      on_exit(fn -> Native.close(s) end)

      for sql <- [
            "CREATE TABLE items(id INTEGER PRIMARY KEY, category TEXT, embedding F32_BLOB(3))",
            "INSERT INTO items VALUES (1, 'a', vector('[1,0,0]')), (2, 'b', vector('[0.9,0.1,0]')), (3, 'a', vector('[0,1,0]'))",
            "CREATE INDEX items_idx ON items(libsql_vector_idx(embedding))"
          ],
          do: {:ok, _} = Native.execute(s, sql)

      query =
        from(i in "items", join: t in vector_top_k("items_idx", [1, 0, 0], 3), on: t.id == i.id)

      [join] = query.joins
      args = Enum.map(join.params, &elem(&1, 0))

      # A join on a fragment, as Ecto's SQL adapters print it.
      sql =
        ~s{SELECT i0."id" FROM "items" AS i0 INNER JOIN (vector_top_k(?, ?, ?)) AS f1 } <>
          ~s{ON f1."id" = i0."id" WHERE (i0."category" = 'a') ORDER BY vector_distance_cos(i0."embedding", ?)}

      assert {:ok, %{rows: [[1], [3]]}} = Native.execute(s, sql, args ++ [Enum.at(args, 1)])
    end
  end
end
