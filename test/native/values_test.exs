defmodule EctoLibSql.Native.ValuesTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result}

  setup do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE v(id INTEGER PRIMARY KEY, val)")
    %{s: s}
  end

  # Stores `value`, reads it back with its SQLite type.
  defp round_trip(s, value) do
    {:ok, %Result{rows: [[id]]}} =
      Native.execute(s, "INSERT INTO v(val) VALUES (?) RETURNING id", [value])

    [[back, type]] = rows!(s, "SELECT val, typeof(val) FROM v WHERE id = ?", [id])
    {back, type}
  end

  test "NULL, empty text and empty blob stay distinct", %{s: s} do
    assert round_trip(s, nil) == {nil, "null"}
    assert round_trip(s, "") == {"", "text"}
    assert round_trip(s, {:blob, ""}) == {"", "blob"}
    assert round_trip(s, {:blob, []}) == {"", "blob"}
    assert rows!(s, "SELECT length(?), ? IS NULL", [{:blob, ""}, ""]) == [[0, 0]]
  end

  test "unicode text round-trips, 4-byte characters and NUL included", %{s: s} do
    for text <- ["héllo", "日本語", "😀𝄞🀄", "a\u0000b", "\u{10FFFF}", String.duplicate("ß", 1000)] do
      assert round_trip(s, text) == {text, "text"}
    end

    assert rows!(s, "SELECT length(?)", ["😀𝄞"]) == [[2]]
  end

  test "invalid UTF-8 is stored as a blob; {:blob, bin} forces a blob", %{s: s} do
    assert round_trip(s, <<0xFF, 0xFE, 0>>) == {<<0xFF, 0xFE, 0>>, "blob"}
    assert round_trip(s, <<0xED, 0xA0, 0x80>>) == {<<0xED, 0xA0, 0x80>>, "blob"}
    assert round_trip(s, {:blob, "text"}) == {"text", "blob"}
    assert round_trip(s, {:blob, [0, 1, 255]}) == {<<0, 1, 255>>, "blob"}
  end

  test "1 MB of text and 1 MB of blob round-trip", %{s: s} do
    text = String.duplicate("abcdéf😀", div(1_048_576, 11) + 1)
    blob = :crypto.strong_rand_bytes(1_048_576)
    assert {^text, "text"} = round_trip(s, text)
    assert {^blob, "blob"} = round_trip(s, {:blob, blob})
    assert rows!(s, "SELECT length(?)", [{:blob, blob}]) == [[1_048_576]]
  end

  test "sub-binaries are bound correctly", %{s: s} do
    big = :binary.copy("0123456789", 1000)
    <<_::binary-size(5), part::binary-size(20), _::binary>> = big
    assert round_trip(s, part) == {"56789012345678901234", "text"}
  end

  test "64-bit integer limits round-trip; bigger ones are refused clearly", %{s: s} do
    max = 9_223_372_036_854_775_807
    min = -9_223_372_036_854_775_808

    for i <- [0, 1, -1, max, min, 2_147_483_648, -2_147_483_649] do
      assert round_trip(s, i) == {i, "integer"}
    end

    for big <- [max + 1, min - 1, 2 ** 100, -(2 ** 100)] do
      assert {:error, %Error{message: message, sqlite: %{code: :range}}} =
               Native.execute(s, "SELECT ?", [big])

      assert message =~ "integer out of 64-bit range: #{big}"
    end

    assert rows!(s, "SELECT 9223372036854775807 + 0") == [[max]]
    # SQLite turns integer overflow into a float
    assert [[f]] = rows!(s, "SELECT 9223372036854775807 + 1")
    assert is_float(f)
  end

  test "floats round-trip; infinities come back as :inf and :\"-inf\"", %{s: s} do
    for f <- [0.0, -0.0, 1.5, -2.25e-308, 1.7976931348623157e308, 5.0e-324, 3.141592653589793] do
      assert round_trip(s, f) == {f, "real"}
    end

    assert rows!(s, "SELECT 1e999, -1e999") == [[:inf, :"-inf"]]
    assert round_trip(s, :inf) == {:inf, "real"}
    assert round_trip(s, :"-inf") == {:"-inf", "real"}
    # SQLite has no NaN: 0.0/0 and inf - inf are NULL
    assert rows!(s, "SELECT 0.0/0, 1e999 - 1e999") == [[nil, nil]]
  end

  test "booleans become 1 and 0", %{s: s} do
    assert round_trip(s, true) == {1, "integer"}
    assert round_trip(s, false) == {0, "integer"}
  end

  test "dates, times, :null and plain maps are encoded", %{s: s} do
    assert round_trip(s, ~D[2024-02-29]) == {"2024-02-29", "text"}
    assert round_trip(s, ~T[23:59:59.123]) == {"23:59:59.123", "text"}
    assert round_trip(s, ~N[2024-01-02 03:04:05]) == {"2024-01-02T03:04:05", "text"}

    assert round_trip(s, DateTime.from_naive!(~N[2024-01-02 03:04:05], "Etc/UTC")) ==
             {"2024-01-02T03:04:05Z", "text"}

    assert round_trip(s, :null) == {nil, "null"}
    {json, "text"} = round_trip(s, %{"a" => [1, "é", nil]})
    assert rows!(s, "SELECT json_extract(?, '$.a[1]')", [json]) == [["é"]]
  end

  # The NIF takes arguments as given and asks for EctoLibSql.Params only when a value needs it:
  # every entry point must give the same answer as Native.execute/3.
  test "values that need encoding work through every entry point", %{s: s} do
    date = ~D[2024-02-29]
    stamp = DateTime.from_naive!(~N[2024-01-02 03:04:05], "Etc/UTC")
    args = [1, date, stamp, :null, %{"k" => "é"}, {:blob, <<0>>}]
    expected = [1, "2024-02-29", "2024-01-02T03:04:05Z", nil, ~s({"k":"é"}), <<0>>]
    sql = "SELECT ?, ?, ?, ?, ?, ?"

    assert {:ok, %Result{rows: [^expected]}} = Native.execute(s, sql, args)

    {:ok, stmt} = Native.prepare(s, sql)
    assert {:ok, %Result{rows: [^expected]}} = Native.query_stmt(s, stmt, args)
    # the statement runs again with plain values, then with encoded ones
    assert {:ok, %Result{rows: [[2, "a", 3.5, nil, "b", "c"]]}} =
             Native.query_stmt(s, stmt, [2, "a", 3.5, nil, "b", "c"])

    assert {:ok, %Result{rows: [^expected]}} = Native.query_stmt(s, stmt, args)
    assert {:ok, %Result{rows: [^expected]}} = Native.execute_stmt(s, stmt, sql, args)

    assert {:ok, [%Result{rows: [^expected]}, %Result{rows: [[1]]}]} =
             Native.batch(s, [{sql, args}, {"SELECT 1", []}])

    assert {:ok, [%Result{rows: [^expected]}]} = Native.batch_transactional(s, [{sql, args}])

    assert {:ok, %Result{rows: [["2024-02-29", nil]]}} =
             Native.execute(s, "SELECT :d, @n", %{d: date, n: :null})

    {:ok, trx} = Native.begin(s)
    assert {:ok, %Result{rows: [^expected]}} = Native.execute(trx, sql, args)
    {:ok, cursor} = Native.declare_cursor(trx, sql, args)
    assert {:halt, %Result{rows: [^expected]}} = Native.fetch(trx, cursor)
    {:ok, _} = Native.rollback(trx)

    # an encoded struct keeps its error; nothing ran
    assert {:error, %Error{message: "unsupported argument type: " <> _}} =
             Native.execute(s, "INSERT INTO v(val) VALUES (?), (?)", [date, URI.parse("x:")])

    assert rows!(s, "SELECT count(*) FROM v") == [[0]]
  end

  test "unsupported values give a clear error tuple, not a crash", %{s: s} do
    for bad <- [
          {1, 2},
          self(),
          make_ref(),
          :atom,
          [1, 2],
          1..2,
          fn -> 1 end,
          {:blob, 1},
          <<1::3>>
        ] do
      assert {:error,
              %Error{message: "unsupported argument type: " <> _, sqlite: %{code: :misuse}}} =
               Native.execute(s, "SELECT ?", [bad])
    end

    assert {:error,
            %Error{message: "unsupported argument type: {:blob, list} whose elements" <> _}} =
             Native.execute(s, "SELECT ?", [{:blob, [1, 256]}])

    # a map JSON cannot hold: a clear ArgumentError, with Jason or with the built-in encoder
    for bad <- [%{{:x} => 1}, %{[0x110000] => 1}, %{"a" => self()}, %{"a" => {1, 2}}] do
      assert_raise ArgumentError, ~r/^Cannot encode map parameter to JSON: /, fn ->
        Native.execute(s, "SELECT ?", [bad])
      end
    end

    # a struct that is not a known value (maps in a parameter list are JSON, structs are not)
    assert {:error, %Error{message: "unsupported argument type: " <> _}} =
             Native.execute(s, "SELECT ?", [URI.parse("http://x")])

    # nothing was half-done: the table is still empty and usable
    assert rows!(s, "SELECT count(*) FROM v") == [[0]]
  end

  test "the NIF asks for encoding only for values EctoLibSql.Params turns into text", %{s: s} do
    conn = s.conn_id

    for args <- [[%{a: 1}], %{a: %{b: 1}}, [:null], [~D[2024-01-01]], %{a: ~T[10:00:00]}] do
      assert EctoLibSql.NIF.query(conn, nil, "SELECT :a", args, nil) == :ecto_libsql_encode
    end

    # other structs and maps inside tuples are not encodable: a clear error, at once
    for args <- [[URI.parse("x:")], [{:blob, %{}}]] do
      assert {:error,
              {:ecto_libsql_error, 21, :misuse, :misuse, "unsupported argument type: " <> _, nil,
               nil}} = EctoLibSql.NIF.query(conn, nil, "SELECT :a", args, nil)
    end

    assert rows!(s, "SELECT json_extract(:a, '$.b')", %{a: %{b: 1}}) == [[1]]
    assert_raise ArgumentError, fn -> EctoLibSql.NIF.query(conn, nil, %{}, []) end
  end

  test "argument lists are checked", %{s: s} do
    assert {:error, %Error{message: "wrong number of parameters: the statement takes 1, 0 given"}} =
             Native.execute(s, "SELECT ?", [])

    assert {:error, %Error{message: "wrong number of parameters: the statement takes 0, 1 given"}} =
             Native.execute(s, "SELECT 1", [1])

    assert {:error, %Error{message: "arguments must be a list or map, got: foo"}} =
             Native.execute(s, "SELECT 1", :foo)

    assert {:error, %Error{message: "arguments must be a proper list"}} =
             Native.execute(s, "SELECT ?", [1 | 2])
  end

  test "many parameters and many columns", %{s: s} do
    n = 500
    args = Enum.to_list(1..n)
    sql = "SELECT " <> Enum.map_join(1..n, ", ", fn _ -> "?" end)
    assert {:ok, %Result{rows: [^args], columns: columns}} = Native.execute(s, sql, args)
    assert length(columns) == n
  end

  test "column names come from SQLite", %{s: s} do
    assert {:ok, %Result{columns: ["a", "b b", "1 + 1", "ü"]}} =
             Native.execute(s, ~s(SELECT 1 AS a, 2 AS "b b", 1 + 1, 3 AS "ü"))
  end
end
