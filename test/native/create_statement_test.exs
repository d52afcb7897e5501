defmodule EctoLibSql.CreateStatementTest do
  # EctoLibSql.CreateStatement.parse/1 (the parse_create NIF): CREATE statements read with the
  # engine's tokenizer.
  use ExUnit.Case, async: true

  alias EctoLibSql.CreateStatement

  doctest EctoLibSql.CreateStatement

  test "a table's head, items and tail are the text's own bytes" do
    sql = ~s{CREATE TABLE IF NOT EXISTS main."é""" (a, "ü" TEXT) STRICT, WITHOUT ROWID}
    assert {:ok, create} = CreateStatement.parse(sql)

    assert %{
             type: :table,
             schema: "main",
             name: ~s{é"},
             if_not_exists: true,
             temporary: false,
             unique: false,
             head: ~s{CREATE TABLE IF NOT EXISTS main."é""" },
             tail: " STRICT, WITHOUT ROWID",
             options: [:strict, :without_rowid]
           } = create

    {offset, length} = create.name_at
    assert binary_part(sql, offset, length) == ~s{"é"""}

    assert create.head <>
             "(" <> Enum.map_join(create.items, ", ", & &1.text) <> ")" <> create.tail ==
             sql

    assert [
             %{kind: :column, name: "a", text: "a"},
             %{kind: :column, name: "ü", text: ~s{"ü" TEXT}}
           ] = create.items
  end

  test "comments, strings and parentheses never split an item" do
    sql = """
    CREATE TABLE t ( -- columns, (
      a INTEGER /* , ) */ PRIMARY KEY AUTOINCREMENT, -- the key, (
      [b c] TEXT DEFAULT 'x, (y' CHECK (length([b c]) > (0)) COLLATE nocase,
      `d` REFERENCES p (id) ON DELETE SET DEFAULT, -- a comment ending an item
      CONSTRAINT "x\""" UNIQUE ("b c", a), CHECK (a <> ','),
      CONSTRAINT fk FOREIGN KEY (a, `d`) REFERENCES p (x, y)
    )
    """

    assert {:ok, %{items: items, tail: "\n"}} = CreateStatement.parse(sql)

    assert [
             %{kind: :column, name: "a", clauses: [:primary_key, :autoincrement]},
             %{kind: :column, name: "b c", clauses: [:default, :check, :collate]},
             %{kind: :column, name: "d", clauses: [:references], references: "p"},
             %{kind: :unique, name: ~s{x"}, columns: ["b c", "a"], clauses: [:unique]},
             %{kind: :check, name: nil, columns: [], clauses: [:check]},
             %{kind: :foreign_key, name: "fk", columns: ["a", "d"], references: "p"}
           ] = items

    assert Enum.at(items, 0).text == "a INTEGER /* , ) */ PRIMARY KEY AUTOINCREMENT"
    assert Enum.at(items, 2).text == "`d` REFERENCES p (id) ON DELETE SET DEFAULT"
  end

  test "other objects have a name but no column list" do
    assert {:ok,
            %{
              type: :index,
              unique: true,
              name: "i x",
              head: nil,
              items: nil,
              tail: nil,
              options: nil
            }} = CreateStatement.parse("CREATE UNIQUE INDEX [i x] ON t (a)")

    assert {:ok, %{type: :view, temporary: true}} =
             CreateStatement.parse("CREATE TEMP VIEW v AS SELECT 1")

    assert {:ok, %{type: :trigger}} =
             CreateStatement.parse("CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END")

    assert {:ok, %{type: :virtual_table, items: nil}} =
             CreateStatement.parse("CREATE VIRTUAL TABLE v USING fts5(a)")

    assert {:ok, %{type: :table, items: nil, options: nil}} =
             CreateStatement.parse("CREATE TABLE s AS SELECT 1")
  end

  test "table options, with comments between their words" do
    assert {:ok, %{options: [:without_rowid, :strict], tail: tail}} =
             CreateStatement.parse(
               "CREATE TABLE t (k PRIMARY KEY) without /* , */ rowid -- x\n, STRICT"
             )

    assert tail == " without /* , */ rowid -- x\n, STRICT"
    assert {:ok, %{options: []}} = CreateStatement.parse("CREATE TABLE t (a) -- none")
  end

  test "anything else, and malformed text, is an error saying what and where" do
    for {sql, reason} <- [
          {"", "not a CREATE statement at the end of the text"},
          {"SELECT 1", "not a CREATE statement at byte 0"},
          {"-- CREATE TABLE t (a)", "not a CREATE statement at the end of the text"},
          {"CREATE TABLE t (a", "the column list's parenthesis is not closed at byte 15"},
          {"CREATE TABLE t ()", "an empty item in the column list at byte 16"},
          {"CREATE TABLE t (a,, b)", "an empty item in the column list at byte 18"},
          {"CREATE TABLE 't (a)", "an unterminated string at byte 13"},
          {"CREATE TABLE t (a DEFAULT 'x)", "an unterminated string at byte 26"},
          {"CREATE TABLE t (a /* b)", "the column list's parenthesis is not closed at byte 15"},
          {"CREATE TABLE t (a) STRICT, ROWID",
           "expected STRICT or WITHOUT ROWID after the column list at byte 27"},
          {"CREATE TABLE t (a, CONSTRAINT c)",
           "expected a table constraint after its name at byte 19"},
          {<<0xFF, 0xFE>>, "not a CREATE statement at byte 0"}
        ] do
      assert CreateStatement.parse(sql) == {:error, reason}, sql
    end

    assert_raise FunctionClauseError, fn -> CreateStatement.parse(:not_sql) end
    assert_raise ArgumentError, fn -> EctoLibSql.NIF.parse_create(~c"CREATE TABLE t (a)") end
  end

  test "every prefix of a statement is read or refused, never a crash" do
    sql = ~s{CREATE TABLE "é" (a INTEGER PRIMARY KEY, "b c" TEXT CHECK (b <> ')')) STRICT}

    for n <- 0..byte_size(sql) do
      assert {result, _} = CreateStatement.parse(binary_part(sql, 0, n))
      assert result in [:ok, :error]
    end
  end

  test "a long statement is read on a dirty scheduler, with every item" do
    columns = for i <- 1..20_000, do: ~s{"c#{i}" TEXT DEFAULT 'a, (#{i})'}
    sql = "CREATE TABLE big (" <> Enum.join(columns, ",\n") <> ")"
    assert byte_size(sql) > 256 * 1024
    assert {:ok, %{items: items}} = CreateStatement.parse(sql)
    assert length(items) == 20_000

    assert List.last(items) == %{
             kind: :column,
             name: "c20000",
             text: ~s{"c20000" TEXT DEFAULT 'a, (20000)'},
             columns: [],
             clauses: [:default],
             references: nil
           }
  end
end
