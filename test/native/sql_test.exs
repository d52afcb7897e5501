defmodule EctoLibSql.SQLTest do
  # Quoting of names and literals, shared by the driver and the adapter: what SQLite reads back
  # is what was quoted, whatever the name or text holds.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.SQL

  test "names" do
    assert SQL.quote_name("users") == ~s("users")
    assert SQL.quote_name(:users) == ~s("users")
    assert SQL.quote_name(~s(a"b)) == ~s("a""b")
    assert SQL.quote_name("") == ~s("")
    assert IO.iodata_to_binary(SQL.quote_names([:a, "b"])) == ~s("a", "b")
    assert IO.iodata_to_binary(SQL.quote_table(nil, :t)) == ~s("t")
    assert IO.iodata_to_binary(SQL.quote_table("aux", :t)) == ~s("aux"."t")
  end

  test "string and binary literals" do
    assert SQL.quote_string("it's") == "'it''s'"
    assert SQL.quote_string("") == "''"
    assert IO.iodata_to_binary(SQL.binary_literal("é")) == "'é'"
    assert IO.iodata_to_binary(SQL.binary_literal(<<0xFF, 0>>)) == "x'ff00'"
    assert IO.iodata_to_binary(SQL.binary_literal("a\0b")) == "CAST(x'610062' AS TEXT)"
  end

  test "SQLite reads back exactly what was quoted" do
    s = connect!()
    names = ["plain", ~s(with "quotes"), "select", "ünïcode ✓", "semi;colon", "--dash"]

    for name <- names do
      quoted = SQL.quote_name(name)
      {:ok, _} = EctoLibSql.Native.execute(s, "CREATE TABLE #{quoted} (#{quoted} TEXT)")

      assert rows!(s, "SELECT name FROM pragma_table_info(#{SQL.quote_string(name)})") ==
               [[name]]
    end

    for text <- ["", "it's", "''", "\\", "a\nb", "x'00'"] do
      assert rows!(s, "SELECT #{SQL.quote_string(text)}") == [[text]]
      assert rows!(s, "SELECT #{IO.iodata_to_binary(SQL.binary_literal(text))}") == [[text]]
    end

    assert rows!(s, "SELECT #{IO.iodata_to_binary(SQL.binary_literal("a\0b"))}") == [["a\0b"]]
    assert rows!(s, "SELECT #{IO.iodata_to_binary(SQL.binary_literal(<<0xFF>>))}") == [[<<0xFF>>]]
  end
end
