defmodule EctoLibSql.StructsTest do
  use ExUnit.Case, async: true

  alias EctoLibSql.{Error, Query, Result, State}

  describe "State" do
    test "requires conn_id" do
      assert_raise ArgumentError, ~r/conn_id/, fn -> struct!(State, []) end

      assert %State{conn_id: :c, trx_id: nil, mode: nil, sync: nil, opts: []} = %State{
               conn_id: :c
             }
    end

    test "detect_mode/1 follows the options given" do
      assert State.detect_mode(database: "a.db") == :local
      assert State.detect_mode(uri: "libsql://x", auth_token: "t") == :remote
      assert State.detect_mode(uri: "libsql://x", auth_token: "t", database: "a.db") == :remote

      assert State.detect_mode(uri: "libsql://x", auth_token: "t", database: "a.db", sync: false) ==
               :remote_replica

      # Offline writes (offline: true) are a replica's, with or without :sync.
      assert State.detect_mode(
               uri: "libsql://x",
               auth_token: "t",
               database: "a.db",
               offline: true
             ) ==
               :remote_replica

      assert State.detect_mode(
               uri: "libsql://x",
               auth_token: "t",
               database: "a.db",
               offline: false
             ) ==
               :remote

      assert State.detect_mode(uri: "libsql://x", database: "a.db", sync: true) == :local
      assert State.detect_mode(uri: "libsql://x") == :unknown
      assert State.detect_mode([]) == :unknown
      assert State.detect_mode(database: nil) == :unknown
    end

    test "detect_sync/1 is :enable_sync only for sync: true" do
      assert State.detect_sync(sync: true) == :enable_sync
      assert State.detect_sync(sync: false) == :disable_sync
      assert State.detect_sync(sync: "true") == :disable_sync
      assert State.detect_sync([]) == :disable_sync
    end
  end

  describe "Result" do
    test "defaults" do
      assert %Result{command: nil, columns: nil, rows: nil, num_rows: 0} = %Result{}
    end

    test "new/1 takes keyword options and defaults command to :other" do
      assert %Result{command: :other, columns: nil, rows: nil, num_rows: 0} = Result.new()
      assert %Result{command: :other} = Result.new([])

      assert %Result{command: :select, columns: ["a"], rows: [[1]], num_rows: 1} =
               Result.new(command: :select, columns: ["a"], rows: [[1]], num_rows: 1)
    end
  end

  describe "Error" do
    test "is an exception with a message" do
      error = %Error{message: "boom"}
      assert Exception.message(error) == "boom"
      assert_raise Error, "boom", fn -> raise error end
      assert %Error{message: "x", sqlite: nil} = Error.exception(message: "x")
    end

    test "from_native/1 keeps SQLite's codes" do
      native =
        {:ecto_libsql_error, 2067, :constraint, :constraint_unique, "UNIQUE failed", nil,
         {:unique, "t_x_index"}}

      assert %Error{
               message: "UNIQUE failed",
               sqlite: %{
                 code: :constraint,
                 extended_code: 2067,
                 extended: :constraint_unique,
                 message: "UNIQUE failed",
                 remote_code: nil
               },
               constraint: {:unique, "t_x_index"}
             } = Error.from_native(native)

      assert %Error{constraint: nil} =
               Error.from_native(
                 {:ecto_libsql_error, 1, :error, :error, "x", "SQLITE_ERROR", nil}
               )

      assert %Error{message: "plain", sqlite: nil, constraint: nil} = Error.from_native("plain")
      assert %Error{message: "e"} = Error.from_native(%Error{message: "e"})
      assert %Error{message: ":weird"} = Error.from_native(:weird)
    end

    test "constraint_violation?/1" do
      assert Error.constraint_violation?(%Error{message: "x", sqlite: %{code: :constraint}})
      assert Error.constraint_violation?(%Error{message: "NOT NULL constraint failed: t.a"})
      refute Error.constraint_violation?(%Error{message: "no such table: t"})
      refute Error.constraint_violation?(%Error{message: nil})
      refute Error.constraint_violation?("UNIQUE constraint failed")
      refute Error.constraint_violation?(nil)
    end

    test "constraint_name/1 answers the column of table.column" do
      assert Error.constraint_name(%Error{message: "UNIQUE constraint failed: users.email"}) ==
               "email"

      assert Error.constraint_name(%Error{
               message: "UNIQUE constraint failed: users.email (index: users_email_index)"
             }) == "email"

      assert Error.constraint_name(%Error{message: "CHECK constraint failed: positive"}) == nil
      assert Error.constraint_name(%Error{message: nil}) == nil
      assert Error.constraint_name(:other) == nil
    end
  end

  describe "Query" do
    test "defaults" do
      assert %Query{statement: nil, name: nil, prepared: nil, param_types: nil, type: :binary} =
               %Query{}
    end

    test "String.Chars gives the statement, iodata included" do
      assert to_string(%Query{statement: "SELECT 1"}) == "SELECT 1"
      assert to_string(%Query{statement: ["SELECT ", ?1, [" -- ", "é"]]}) == "SELECT 1 -- é"
      assert "#{%Query{statement: ""}}" == ""
    end
  end
end
