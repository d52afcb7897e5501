defmodule EctoLibSql.Native.VectorHelpersTest do
  use ExUnit.Case, async: true

  alias EctoLibSql.Native

  test "vector/1" do
    assert Native.vector([1, 2.5, -3]) == "[1,2.5,-3]"
    assert Native.vector([]) == "[]"
    assert Native.vector([0.1]) == "[0.1]"

    # Elements are joined as Enum.join/2 joins them, as earlier releases did.
    assert Native.vector([1, "2"]) == "[1,2]"
    assert Native.vector([1.0e20, -0.5]) == "[1.0e20,-0.5]"

    assert_raise FunctionClauseError, fn -> Native.vector("1,2") end
  end

  test "vector_type/2" do
    assert Native.vector_type(3) == "F32_BLOB(3)"
    assert Native.vector_type(1536, :f32) == "F32_BLOB(1536)"
    assert Native.vector_type(2, :f64) == "F64_BLOB(2)"
    assert_raise ArgumentError, ~r/:f32 or :f64/, fn -> Native.vector_type(2, :f16) end
    assert_raise FunctionClauseError, fn -> Native.vector_type(0) end
    assert_raise FunctionClauseError, fn -> Native.vector_type(-1, :f32) end
  end

  test "vector_distance_cos/2" do
    assert Native.vector_distance_cos("embedding", [1, 2]) ==
             "vector_distance_cos(embedding, '[1,2]')"

    assert Native.vector_distance_cos("e", "[0.5,1]") == "vector_distance_cos(e, '[0.5,1]')"
    assert Native.vector_distance_cos("e", "x'y") == "vector_distance_cos(e, 'x''y')"
    assert_raise FunctionClauseError, fn -> Native.vector_distance_cos(:e, [1]) end
  end

  test "EctoLibSql.Vector answers the same under its own names; to_text/1 reads back" do
    alias EctoLibSql.Vector

    assert Vector.to_text([1, 2.5, -3]) == Native.vector([1, 2.5, -3])
    assert Vector.column_type(3) == "F32_BLOB(3)"
    assert Vector.column_type(3, :f64) == "F64_BLOB(3)"
    assert_raise ArgumentError, fn -> Vector.column_type(3, :f16) end

    assert Vector.distance_cos_sql("e", "x'y") == "vector_distance_cos(e, 'x''y')"

    for values <- [[], [0.5], [1.0, -2.25, 3.0e-5]],
        do: assert(Vector.from_text(Vector.to_text(values)) == {:ok, values})
  end
end
