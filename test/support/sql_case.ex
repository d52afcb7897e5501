# Compiled only with the Hex packages: the no-Hex build (ECTO_LIBSQL_OFFLINE=1) runs the
# native-driver suite alone.
if Code.ensure_loaded?(Ecto.Schema) do
  defmodule Ecto.Adapters.LibSql.SqlCase do
    @moduledoc false
    # The per-feature tests of the SQL that Ecto.Adapters.LibSql.Connection generates
    # (test/ecto/connection/*_test.exs). The helpers answer the exact text, and SQLite prepares
    # every query statement they answer on an in-memory database that holds the fixtures'
    # tables: a statement that matches its expected text but that SQLite cannot compile (a
    # syntax error, a column or table that does not exist where it is named) fails the test.
    # Statements that change the data can also be run (run!/2), and DDL runs on a database of
    # its own (ddl!/2).

    use ExUnit.CaseTemplate

    alias Ecto.Adapters.LibSql.Connection
    alias EctoLibSql.Native

    using do
      quote do
        import Ecto.Query
        import Ecto.Adapters.LibSql.SqlCase

        alias Ecto.Adapters.LibSql.Connection, as: SQL

        alias Ecto.Adapters.LibSql.SqlCase.{
          Author,
          Comment,
          Label,
          Permalink,
          Post
        }
      end
    end

    defmodule Author do
      @moduledoc false
      use Ecto.Schema

      schema "authors" do
        field(:name, :string)
        field(:email, :string)
        belongs_to(:manager, __MODULE__)
        has_many(:posts, Ecto.Adapters.LibSql.SqlCase.Post)
      end
    end

    defmodule Post do
      @moduledoc false
      use Ecto.Schema

      schema "posts" do
        field(:title, :string)
        field(:body, :string)
        field(:visits, :integer)
        field(:rating, :float)
        field(:price, :decimal)
        field(:tags, {:array, :string})
        field(:meta, :map)
        field(:data, :binary)
        field(:published, :boolean)
        field(:inserted_at, :naive_datetime)
        field(:published_on, :date)
        belongs_to(:author, Ecto.Adapters.LibSql.SqlCase.Author)
        has_many(:comments, Ecto.Adapters.LibSql.SqlCase.Comment)
        has_one(:permalink, Ecto.Adapters.LibSql.SqlCase.Permalink)

        many_to_many(:labels, Ecto.Adapters.LibSql.SqlCase.Label, join_through: "posts_labels")
      end
    end

    defmodule Comment do
      @moduledoc false
      use Ecto.Schema

      schema "comments" do
        field(:body, :string)
        field(:likes, :integer)
        field(:deleted_at, :naive_datetime)
        belongs_to(:post, Ecto.Adapters.LibSql.SqlCase.Post)
        belongs_to(:author, Ecto.Adapters.LibSql.SqlCase.Author)
      end
    end

    defmodule Permalink do
      @moduledoc false
      use Ecto.Schema

      schema "permalinks" do
        field(:url, :string)
        belongs_to(:post, Ecto.Adapters.LibSql.SqlCase.Post)
      end
    end

    defmodule Label do
      @moduledoc false
      use Ecto.Schema

      schema "labels" do
        field(:name, :string)
      end
    end

    # The schemas' tables, and tables that queries name without a schema. "other" is an
    # attached database, for prefixes.
    @fixtures """
    CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, manager_id INTEGER);
    CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT UNIQUE, body TEXT, visits INTEGER,
      rating REAL, price DECIMAL, tags TEXT, meta TEXT, data BLOB, published INTEGER,
      inserted_at DATETIME, published_on DATE, author_id INTEGER REFERENCES authors(id),
      category_id INTEGER);
    CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT, likes INTEGER, deleted_at DATETIME,
      post_id INTEGER REFERENCES posts(id), author_id INTEGER REFERENCES authors(id));
    CREATE TABLE permalinks (id INTEGER PRIMARY KEY, url TEXT, post_id INTEGER);
    CREATE TABLE labels (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE posts_labels (post_id INTEGER, label_id INTEGER);
    CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT, parent_id INTEGER, depth INTEGER);
    CREATE TABLE counters (key TEXT PRIMARY KEY, count INTEGER, note TEXT) WITHOUT ROWID;
    ATTACH DATABASE ':memory:' AS other;
    CREATE TABLE other.posts (id INTEGER PRIMARY KEY, title TEXT, visits INTEGER);
    CREATE TABLE other.comments (id INTEGER PRIMARY KEY, body TEXT, post_id INTEGER);
    """

    setup do
      db = fixture_db!()
      Process.put(__MODULE__, db)
      on_exit(fn -> Native.close(db) end)
      %{db: db}
    end

    @doc "An in-memory database holding the fixtures' tables."
    def fixture_db! do
      {:ok, db} = Native.connect(database: ":memory:")
      {:ok, _} = Native.execute_batch_sql(db, @fixtures)
      db
    end

    defp db!, do: Process.get(__MODULE__) || raise("no fixture database: use SqlCase's setup")

    ## Builders: the text, proven to compile on the fixtures' database

    @doc """
    The query as Ecto gives it to the adapter; `offset` is the number of parameters before the
    query's own (an upsert's update query follows the inserted values).
    """
    def plan(query, operation \\ :all, offset \\ 0) do
      query = Ecto.Queryable.to_query(query)
      {query, _params, _key} = Ecto.Query.Planner.plan(query, operation, Ecto.Adapters.LibSql)
      {query, _} = Ecto.Query.Planner.normalize(query, operation, Ecto.Adapters.LibSql, offset)
      query
    end

    @doc "The SELECT of a query (planned here), compiled by SQLite."
    def all(query), do: query |> plan() |> Connection.all() |> valid!()

    def update_all(query),
      do: query |> plan(:update_all) |> Connection.update_all() |> valid!()

    def delete_all(query),
      do: query |> plan(:delete_all) |> Connection.delete_all() |> valid!()

    def insert(prefix, table, header, rows, on_conflict, returning, placeholders \\ []) do
      prefix
      |> Connection.insert(table, header, rows, on_conflict, returning, placeholders)
      |> valid!()
    end

    def update(prefix, table, fields, filters, returning),
      do: prefix |> Connection.update(table, fields, filters, returning) |> valid!()

    def delete(prefix, table, filters, returning),
      do: prefix |> Connection.delete(table, filters, returning) |> valid!()

    @doc "Asserts that SQLite compiles the statement (on the fixtures' database); answers it."
    def valid!(sql) do
      sql = IO.iodata_to_binary(sql)

      case Native.prepare(db!(), sql) do
        {:ok, stmt} ->
          Native.close_stmt(stmt)
          sql

        {:error, message} ->
          ExUnit.Assertions.flunk(
            "SQLite does not compile the generated SQL:\n#{sql}\n#{message}"
          )
      end
    end

    @doc "Runs a statement on the fixtures' database and answers its rows."
    def run!(sql, params \\ []) do
      case Native.execute(db!(), IO.iodata_to_binary(sql), params) do
        {:ok, result} ->
          result.rows

        {:error, error} ->
          ExUnit.Assertions.flunk("SQLite refused:\n#{sql}\n#{Exception.message(error)}")
      end
    end

    ## DDL

    @doc "The statements of a migration command, as binaries (nothing is run)."
    def execute_ddl(definition), do: Connection.execute_ddl(definition)

    @doc """
    The statements of a migration command, run in order on a new empty database after the
    `given` statements: a statement SQLite refuses fails the test.
    """
    def ddl!(definition, given \\ []) do
      statements = Connection.execute_ddl(definition)
      {:ok, db} = Native.connect(database: ":memory:")

      try do
        for sql <- given ++ statements do
          case Native.execute(db, sql) do
            {:ok, _} ->
              :ok

            {:error, error} ->
              ExUnit.Assertions.flunk("SQLite refused:\n#{sql}\n#{Exception.message(error)}")
          end
        end
      after
        Native.close(db)
      end

      statements
    end
  end
end
