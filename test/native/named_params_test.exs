defmodule EctoLibSql.Native.NamedParamsTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, Result}

  setup do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE u(id INTEGER PRIMARY KEY, name TEXT, age INT)")
    %{s: s}
  end

  test ":name, @name and $name with atom and string keys", %{s: s} do
    assert {:ok, %Result{num_rows: 1}} =
             Native.execute(s, "INSERT INTO u(name, age) VALUES (:name, :age)", %{
               name: "a",
               age: 1
             })

    assert {:ok, %Result{num_rows: 1}} =
             Native.execute(s, "INSERT INTO u(name, age) VALUES (@name, @age)", %{
               "name" => "b",
               "age" => 2
             })

    assert {:ok, %Result{num_rows: 1}} =
             Native.execute(s, "INSERT INTO u(name, age) VALUES ($name, $age)", %{
               "$name" => "c",
               age: 3
             })

    assert rows!(s, "SELECT name, age FROM u ORDER BY id") == [["a", 1], ["b", 2], ["c", 3]]
  end

  test "a name used twice binds once; extra keys are ignored", %{s: s} do
    assert rows!(s, "SELECT :x + :x, :y", %{x: 2, y: "z", unused: 1}) == [[4, "z"]]
  end

  test "prefixed keys must match the prefix in the SQL", %{s: s} do
    assert {:error, %Error{message: "Missing required parameters: $c. SQL requires: $c"}} =
             Native.execute(s, "SELECT $c", %{":c" => 1})
  end

  test "names inside strings and comments are not parameters", %{s: s} do
    sql = "SELECT ':not_a_param', :real /* @nor_this */ -- $nor_that\n"
    assert rows!(s, sql, %{real: 1}) == [[":not_a_param", 1]]
  end

  test "missing parameters are named in the error", %{s: s} do
    assert {:error,
            %Error{message: "Missing required parameters: :b, :c. SQL requires: :a, :b, :c"}} =
             Native.execute(s, "SELECT :a, :b, :c", %{a: 1})

    assert {:error, %Error{message: "Missing required parameters: :a. SQL requires: :a"}} =
             Native.execute(s, "SELECT :a", %{})
  end

  test "a map with positional SQL is refused", %{s: s} do
    for sql <- ["SELECT ?", "SELECT ?1", "SELECT :a, ?"] do
      assert {:error,
              %Error{
                message:
                  "Cannot use named parameter map with SQL that has positional parameters (?)." <>
                    _
              }} = Native.execute(s, sql, %{a: 1})
    end
  end

  test "a map for SQL without parameters is fine", %{s: s} do
    assert rows!(s, "SELECT 1", %{}) == [[1]]
    assert rows!(s, "SELECT 1", %{a: 1}) == [[1]]
  end

  test "keys must be atoms or strings", %{s: s} do
    assert {:error, %Error{message: "named parameter keys must be atoms or strings, got: 1"}} =
             Native.execute(s, "SELECT :a", %{1 => 1})
  end

  test "values in maps are encoded like positional ones", %{s: s} do
    assert rows!(s, "SELECT :d, :n, :b", %{d: ~D[2020-01-01], n: nil, b: true}) ==
             [["2020-01-01", nil, 1]]

    assert {:error, %Error{message: "unsupported argument type: " <> _}} =
             Native.execute(s, "SELECT :a", %{a: {1}})
  end

  test "positional ?NNN parameters take a list", %{s: s} do
    assert rows!(s, "SELECT ?2, ?1, ?2", [1, 2]) == [[2, 1, 2]]
  end

  describe "normalise_arguments/3" do
    test "lists pass through; maps become positional lists in SQL order", %{s: s} do
      assert Native.normalise_arguments(s, "SELECT ?", [1]) == [1]

      assert Native.normalise_arguments(s, "SELECT @b, :a, $c", %{"a" => 1, b: 2, c: 3}) ==
               [2, 1, 3]

      assert Native.normalise_arguments(s.conn_id, "SELECT :a", %{a: 1}) == [1]
    end

    test "a prepared statement's map resolves against its SQL", %{s: s} do
      {:ok, stmt} = Native.prepare(s, "SELECT :b, @a")
      assert Native.normalise_arguments_for_stmt(s.conn_id, stmt, %{a: 1, b: 2}) == [2, 1]
      assert Native.normalise_arguments_for_stmt(s.conn_id, stmt, [5, 6]) == [5, 6]

      assert_raise ArgumentError, ~r/Missing required parameters: @a/, fn ->
        Native.normalise_arguments_for_stmt(s.conn_id, stmt, %{b: 2})
      end
    end

    test "raises for missing parameters and for positional SQL", %{s: s} do
      assert_raise ArgumentError, "Missing required parameters: @b. SQL requires: :a, @b", fn ->
        Native.normalise_arguments(s, "SELECT :a, @b", %{a: 1})
      end

      assert_raise ArgumentError, ~r/positional parameters/, fn ->
        Native.normalise_arguments(s, "SELECT ?", %{a: 1})
      end
    end

    test "answers errors for bad SQL and bad arguments", %{s: s} do
      assert {:error, "near \"SELEC\": syntax error"} =
               Native.normalise_arguments(s, "SELEC :a", %{a: 1})

      assert {:error, "arguments must be a list or map"} =
               Native.normalise_arguments(s, "SELECT 1", :x)
    end

    test "atom keys that were never created do not create atoms", %{s: s} do
      name = "never_an_atom_#{System.unique_integer([:positive])}"

      assert_raise ArgumentError, ~r/Missing required parameters/, fn ->
        Native.normalise_arguments(s, "SELECT :#{name}", %{})
      end

      assert_raise ArgumentError, fn -> String.to_existing_atom(name) end
    end
  end

  describe "normalise_arguments_for_stmt/3" do
    test "orders a map by the statement's parameters", %{s: s} do
      {:ok, stmt} = Native.prepare(s, "SELECT :b, :a")
      assert Native.normalise_arguments_for_stmt(s.conn_id, stmt, %{a: 1, b: 2}) == [2, 1]
      assert Native.normalise_arguments_for_stmt(s.conn_id, stmt, [9]) == [9]

      assert {:error, "arguments must be a list or map"} =
               Native.normalise_arguments_for_stmt(s.conn_id, stmt, "x")

      :ok = Native.close_stmt(stmt)

      assert {:error, "Statement not found: it is closed"} =
               Native.normalise_arguments_for_stmt(s.conn_id, stmt, %{a: 1})
    end
  end

  describe "NIF.named_arguments/3 (the engine's one resolver)" do
    alias EctoLibSql.NIF

    test "orders a map as binding does: string keys over atom keys, bare names over prefixed",
         %{s: s} do
      # A name used twice is one parameter.
      assert {:ok, [2, 1, 3]} =
               NIF.named_arguments(s.conn_id, "SELECT @b, :a, $c, @b", %{"a" => 1, b: 2, c: 3})

      assert {:ok, ["string"]} =
               NIF.named_arguments(s.conn_id, "SELECT :k", %{:k => "atom", "k" => "string"})

      assert {:ok, ["bare"]} =
               NIF.named_arguments(s.conn_id, "SELECT :k", %{":k" => "prefixed", "k" => "bare"})

      # Keys no parameter takes, of any type, are ignored.
      assert {:ok, [1]} = NIF.named_arguments(s.conn_id, "SELECT :a", %{3 => 4, a: 1, x: 2})
      assert {:ok, []} = NIF.named_arguments(s.conn_id, "SELECT 1", %{a: 1})
    end

    test "answers what does not fit as an argument error, bad SQL as an error", %{s: s} do
      assert {:argument_error, "Missing required parameters: @b. SQL requires: :a, @b"} =
               NIF.named_arguments(s.conn_id, "SELECT :a, @b", %{"@c" => 2, a: 1})

      assert {:argument_error, "Cannot use named parameter map" <> _} =
               NIF.named_arguments(s.conn_id, "SELECT ?, :a", %{a: 1})

      assert {:error,
              {:ecto_libsql_error, 1, :error, :error, "near \"SELEC\": syntax error", nil, nil}} =
               NIF.named_arguments(s.conn_id, "SELEC :a", %{a: 1})

      assert_raise ArgumentError, fn -> NIF.named_arguments(s.conn_id, "SELECT :a", [1]) end
    end
  end

  test "clear_param_cache/0 and param_cache_size/0 answer as 0.9's, with nothing cached", %{s: s} do
    _ = Native.normalise_arguments(s, "SELECT :clear_me", %{clear_me: 1})
    assert :ok = Native.clear_param_cache()
    assert Native.param_cache_size() == 0
  end
end
