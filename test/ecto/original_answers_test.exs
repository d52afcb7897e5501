defmodule Ecto.Adapters.LibSql.OriginalAnswersTest do
  # The Ecto adapter answers what the original adapter (ecto_libsql 0.9) answered where its
  # users' code looks: constraint mapping, explain, the SQL builders' text, type dumpers and
  # loaders, parameter encoding and storage calls.
  use ExUnit.Case, async: false

  import Ecto.Query
  alias Ecto.Adapters.LibSql
  alias Ecto.Adapters.LibSql.Connection

  defmodule Repo do
    use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
  end

  defmodule User do
    use Ecto.Schema

    schema "users" do
      field(:name, :string)
      field(:age, :integer)
    end
  end

  describe "to_constraints/2" do
    test "takes any exception or map with a message, as the original did" do
      assert Connection.to_constraints(%{message: "UNIQUE constraint failed: users.email"}, []) ==
               [unique: "users_email_index"]

      assert Connection.to_constraints(
               %EctoLibSql.Error{message: "UNIQUE constraint failed: users.email"},
               []
             ) == [unique: "users_email_index"]

      assert Connection.to_constraints(%RuntimeError{message: "CHECK constraint failed: c"}, []) ==
               [check: "c"]

      assert Connection.to_constraints(%{message: "Some other error"}, []) == []
      assert Connection.to_constraints(%{}, []) == []
    end

    test "maps each kind of failure as the original did" do
      for {message, expected} <- [
            {"UNIQUE constraint failed: users.slug, users.parent_slug",
             [unique: "users_slug_parent_slug_index"]},
            {"UNIQUE constraint failed: users.email`", [unique: "users_email_index"]},
            {"UNIQUE constraint failed: users.email (index: custom_email_index)",
             [unique: "custom_email_index"]},
            {"FOREIGN KEY constraint failed", [foreign_key: :unknown]},
            {"CHECK constraint failed: positive_age", [check: "positive_age"]},
            {"NOT NULL constraint failed: users.name", [check: "users_name_index"]},
            # tursodb appends SQLite's code
            {"UNIQUE constraint failed: t.x (19)", [unique: "t_x_index"]}
          ] do
        assert Connection.to_constraints(%{message: message}, []) == expected, message
      end
    end

    test "a foreign key the driver names is reported by its name" do
      message = "FOREIGN KEY constraint failed: posts.user_id (foreign key: posts_user_id_fkey)"

      assert Connection.to_constraints(%{message: message}, []) ==
               [foreign_key: "posts_user_id_fkey"]
    end
  end

  describe "SQL builders" do
    test "answer binaries spelt with \", \" between items" do
      assert Connection.insert(
               nil,
               "users",
               [:name, :email],
               [[:name, :email]],
               {:raise, [], []},
               [],
               []
             ) ==
               ~s{INSERT INTO "users" ("name", "email") VALUES (?1, ?2)}

      assert Connection.insert(nil, "users", [:name], [[:name], [:name]], :raise, [:id], []) ==
               ~s{INSERT INTO "users" ("name") VALUES (?1), (?2) RETURNING "id"}

      assert is_binary(Connection.update(nil, "users", [:name], [id: 1], []))
      assert is_binary(Connection.delete(nil, "users", [id: 1], []))

      assert Connection.table_exists_query("users") ==
               {"SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1 LIMIT 1", ["users"]}
    end

    test "queries: IN lists and the empty-list sentinel, all columns of a schemaless source" do
      query = fn wheres ->
        %Ecto.Query{
          from: %Ecto.Query.FromExpr{source: {"users", nil}},
          sources: {{"users", nil, nil}},
          select: %Ecto.Query.SelectExpr{fields: [{:&, [], [0]}]},
          wheres: [%Ecto.Query.BooleanExpr{op: :and, expr: wheres, params: []}]
        }
      end

      field = {{:., [], [{:&, [], [0]}, :id]}, [], []}

      assert Connection.all(query.({:in, [], [field, {:^, [], [1, 2]}]})) ==
               ~s{SELECT u0.* FROM "users" AS u0 WHERE (u0."id" IN (?2, ?3))}

      assert Connection.all(query.({:in, [], [field, {:^, [], [0, 0]}]})) ==
               ~s{SELECT u0.* FROM "users" AS u0 WHERE (u0."id" IN (SELECT NULL WHERE 1=0))}
    end

    test "every on_conflict form" do
      insert = fn on_conflict ->
        Connection.insert(nil, "users", [:name, :email], [[:name, :email]], on_conflict, [], [])
      end

      assert insert.({:nothing, [], []}) ==
               ~s{INSERT INTO "users" ("name", "email") VALUES (?1, ?2) ON CONFLICT DO NOTHING}

      assert insert.({:nothing, nil, [:email, :name]}) =~
               ~s{ON CONFLICT ("email", "name") DO NOTHING}

      assert insert.({:replace_all, nil, [:email]}) =~
               ~s{ON CONFLICT ("email") DO UPDATE SET "name" = excluded."name", "email" = excluded."email"}

      assert insert.({[:name], nil, [:email]}) =~
               ~s{ON CONFLICT ("email") DO UPDATE SET "name" = excluded."name"}

      assert_raise ArgumentError, "Upsert in LibSQL does not support ON CONSTRAINT", fn ->
        insert.({:replace_all, nil, {:constraint, :users_pkey}})
      end

      update = fn expr, wheres ->
        %Ecto.Query{
          from: %Ecto.Query.FromExpr{source: {"users", nil}},
          sources: {{"users", nil, nil}},
          updates: [%Ecto.Query.QueryExpr{expr: expr}],
          wheres: wheres
        }
      end

      # Without a WHERE the updates name the columns bare, as the original wrote them.
      assert insert.({update.([inc: [count: 1], set: [name: "x"]], []), [], [:email]}) ==
               ~s{INSERT INTO "users" ("name", "email") VALUES (?1, ?2) ON CONFLICT ("email") } <>
                 ~s{DO UPDATE SET "count" = "count" + 1, "name" = 'x'}

      # With one, the table is named so that the WHERE can say which row (the original dropped
      # the WHERE).
      where = %Ecto.Query.BooleanExpr{
        op: :and,
        expr: {:>, [], [{{:., [], [{:&, [], [0]}, :count]}, [], []}, 1]},
        params: []
      }

      assert insert.({update.([inc: [count: 1]], [where]), [], [:email]}) ==
               ~s{INSERT INTO "users" AS u0 ("name", "email") VALUES (?1, ?2) ON CONFLICT ("email") } <>
                 ~s{DO UPDATE SET "count" = u0."count" + 1 WHERE (u0."count" > 1)}
    end
  end

  describe "dumpers and loaders" do
    test "booleans, dates and times are dumped as the original dumped them" do
      dump = fn type, value -> type |> LibSql.dumpers(type) |> List.last() |> apply([value]) end

      assert dump.(:boolean, false) == {:ok, 0}
      assert dump.(:boolean, true) == {:ok, 1}
      assert dump.(:naive_datetime, ~N[2024-01-15 10:30:00]) == {:ok, "2024-01-15T10:30:00"}
      assert dump.(:utc_datetime, ~U[2024-01-15 10:30:00Z]) == {:ok, "2024-01-15T10:30:00Z"}
      assert dump.(:date, ~D[2024-01-15]) == {:ok, "2024-01-15"}
      assert dump.(:time, ~T[10:30:00]) == {:ok, "10:30:00"}
      assert LibSql.dumpers(:binary, :binary) == [:binary]
    end

    test "an empty string loads as an empty array" do
      load = fn value ->
        {:array, :string} |> LibSql.loaders({:array, :string}) |> hd() |> apply([value])
      end

      assert load.("") == {:ok, []}
      assert load.(nil) == {:ok, nil}
      assert load.(~s(["a"])) == {:ok, ["a"]}
      assert load.(~s({"a": 1})) == :error
    end

    test "query parameters encode booleans as 1 / 0" do
      query = %EctoLibSql.Query{statement: "SELECT ?"}

      assert DBConnection.Query.encode(query, [true, false, nil, ~D[2024-01-15]], []) ==
               [1, 0, nil, "2024-01-15"]
    end
  end

  describe "explain" do
    setup do
      dir =
        Path.join(
          System.tmp_dir!(),
          "ecto_libsql_explain_#{System.pid()}_#{System.unique_integer([:positive])}"
        )

      File.mkdir_p!(dir)
      on_exit(fn -> File.rm_rf!(dir) end)
      start_supervised!({Repo, database: Path.join(dir, "e.db"), log: false})
      Repo.query!("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
      Repo.query!("CREATE INDEX users_age ON users (age)")
      :ok
    end

    test "answers the query plan as a list of maps, one per row" do
      plan = Repo.explain(:all, from(u in User, where: u.age > 25))
      assert [%{"id" => _, "parent" => _, "notused" => _, "detail" => detail} | _] = plan
      assert detail =~ "users_age"

      assert {:ok, [%{"detail" => _} | _]} =
               Ecto.Adapters.SQL.explain(Repo, :all, User, wrap_in_transaction: false)

      assert [%{} | _] = Repo.explain(:update_all, from(u in User, update: [set: [age: 1]]))
      assert is_list(Repo.explain(:delete_all, User))
    end

    test "type: :instructions answers SQLite's bytecode program" do
      program = Repo.explain(:all, User, type: :instructions)
      assert [%{"addr" => 0, "opcode" => "Init"} | _] = program
      assert Enum.any?(program, &(&1["opcode"] == "Halt"))
    end

    test "analyze: and unknown types raise instead of being ignored" do
      assert_raise ArgumentError, ~r/SQLite has no EXPLAIN ANALYZE/, fn ->
        Repo.explain(:all, User, analyze: true)
      end

      assert_raise ArgumentError, ~r/explain type: must be :query_plan or :instructions/, fn ->
        Repo.explain(:all, User, type: :json)
      end

      assert [_ | _] = Repo.explain(:all, User, analyze: false, type: :query_plan)
    end
  end
end
