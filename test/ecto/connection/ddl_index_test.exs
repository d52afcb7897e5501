defmodule Ecto.Adapters.LibSql.Connection.DdlIndexTest do
  # CREATE INDEX and DROP INDEX; index options SQLite cannot honour raise.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  alias Ecto.Migration.Index

  @given [
    ~s{CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY, "title" TEXT, "visits" INTEGER, "public" INTEGER)}
  ]

  defp index(opts),
    do: struct!(%Index{name: :posts_title_index, table: :posts, columns: [:title]}, opts)

  test "partial and expression indexes" do
    [sql] =
      SQL.execute_ddl(
        {:create_if_not_exists,
         %Index{
           name: :posts_lower_title_index,
           table: :posts,
           columns: ["lower(title)"],
           unique: true,
           where: "visits > 0"
         }}
      )

    assert IO.iodata_to_binary(sql) ==
             ~s{CREATE UNIQUE INDEX IF NOT EXISTS "posts_lower_title_index" ON "posts" (lower(title)) WHERE visits > 0}

    ddl!(
      {:create_if_not_exists,
       index(columns: ["lower(title)"], unique: true, where: "visits > 0")},
      @given
    )
  end

  test "several columns, and a name that needs quoting" do
    assert ddl!({:create, index(name: "posts$main", columns: [:title, :visits])}, @given) ==
             [~s{CREATE INDEX "posts$main" ON "posts" ("title", "visits")}]
  end

  test "a where given as an atom" do
    assert ddl!({:create, index(where: :public)}, @given) ==
             [~s{CREATE INDEX "posts_title_index" ON "posts" ("title") WHERE public}]
  end

  test "in an attached database, the index is named in it" do
    given = ["ATTACH DATABASE ':memory:' AS other", "CREATE TABLE other.posts (title TEXT)"]

    assert ddl!({:create, index(prefix: "other")}, given) ==
             [~s{CREATE INDEX "other"."posts_title_index" ON "posts" ("title")}]
  end

  test "column directions" do
    assert ddl!(
             {:create, index(columns: [desc: :title, asc: :visits, asc: "lower(title)"])},
             @given
           ) ==
             [
               ~s{CREATE INDEX "posts_title_index" ON "posts" ("title" DESC, "visits" ASC, lower(title) ASC)}
             ]
  end

  test "NULLs ordering in an index raises: SQLite's indexes have none" do
    for dir <- [:asc_nulls_first, :asc_nulls_last, :desc_nulls_first, :desc_nulls_last] do
      assert_raise ArgumentError,
                   ~r/SQLite indexes cannot order NULLs \(:#{dir} on :title\)/,
                   fn ->
                     execute_ddl({:create, index(columns: [{dir, :title}])})
                   end
    end
  end

  test "options that change nothing in SQLite are left out" do
    for opts <- [
          [concurrently: true],
          [only: true],
          [comment: "c"],
          [using: :btree],
          [nulls_distinct: true]
        ] do
      assert ddl!({:create, index(opts)}, @given) ==
               [~s{CREATE INDEX "posts_title_index" ON "posts" ("title")}]
    end
  end

  test "options that would give another index raise" do
    for {opts, message} <- [
          {[include: [:visits]],
           ~r/SQLite indexes have no INCLUDE columns \(index posts_title_index, include: \[:visits\]\)/},
          {[unique: true, nulls_distinct: false],
           ~r/SQLite's unique indexes always treat NULLs as distinct/},
          {[using: :hash], ~r/SQLite indexes are B-trees: using: :hash is not supported/},
          {[using: "gin"], ~r/using: "gin" is not supported/},
          {[options: "WITH (fillfactor = 10)"], ~r/SQLite indexes take no storage options/}
        ] do
      assert_raise ArgumentError, message, fn -> execute_ddl({:create, index(opts)}) end
    end
  end

  describe "drop" do
    @indexed @given ++ [~s{CREATE INDEX "posts_title_index" ON "posts" ("title")}]

    test "drop, with or without a mode" do
      assert ddl!({:drop, index([])}, @indexed) == [~s{DROP INDEX "posts_title_index"}]
      assert ddl!({:drop, index([]), :restrict}, @indexed) == [~s{DROP INDEX "posts_title_index"}]
      assert ddl!({:drop, index([]), :cascade}, @indexed) == [~s{DROP INDEX "posts_title_index"}]
    end

    test "drop_if_exists" do
      assert ddl!({:drop_if_exists, index([]), :restrict}) == [
               ~s{DROP INDEX IF EXISTS "posts_title_index"}
             ]
    end

    test "in an attached database" do
      given = [
        "ATTACH DATABASE ':memory:' AS other",
        "CREATE TABLE other.posts (title TEXT)",
        "CREATE INDEX other.i ON posts (title)"
      ]

      assert ddl!({:drop, index(name: :i, prefix: "other"), :restrict}, given) ==
               [~s{DROP INDEX "other"."i"}]
    end
  end

  test "renaming an index is the adapter's (a drop and a create)" do
    assert_raise ArgumentError, ~r/renaming an index is done by the adapter/, fn ->
      execute_ddl({:rename, index([]), :new_name})
    end
  end
end
