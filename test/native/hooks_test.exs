defmodule EctoLibSql.Native.HooksTest do
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native}

  setup do
    s = connect!()
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
    %{s: s}
  end

  describe "update hook" do
    test "sends {:update, op, db, table, rowid} for each changed row", %{s: s} do
      assert :ok = Native.add_update_hook(s)
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1), (2)")
      {:ok, _} = Native.execute(s, "UPDATE t SET x = 3 WHERE id = 2")
      {:ok, _} = Native.execute(s, "DELETE FROM t WHERE id = 1")
      assert_receive {:update, :insert, "main", "t", 1}
      assert_receive {:update, :insert, "main", "t", 2}
      assert_receive {:update, :update, "main", "t", 2}
      assert_receive {:update, :delete, "main", "t", 1}
      refute_receive {:update, _, _, _, _}, 20
    end

    test "goes to the given pid, for every path that writes", %{s: s} do
      parent = self()

      listener =
        spawn_link(fn ->
          receive_loop = fn loop ->
            receive do
              msg -> send(parent, {:got, msg})
            end

            loop.(loop)
          end

          receive_loop.(receive_loop)
        end)

      assert :ok = Native.add_update_hook(s, listener)
      {:ok, stmt} = Native.prepare(s, "INSERT INTO t(x) VALUES (?)")
      {:ok, 1} = Native.execute_stmt(s, stmt, "", ["p"])
      {:ok, _} = Native.batch(s, [{"INSERT INTO t(x) VALUES ('b')", []}])
      {:ok, _} = Native.execute_batch_sql(s, "INSERT INTO t(x) VALUES ('s')")
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES ('t')")
      {:ok, _} = Native.commit(t)

      for rowid <- 1..4, do: assert_receive({:got, {:update, :insert, "main", "t", ^rowid}})
      refute_received {:update, _, _, _, _}
    end

    test "rows of a rolled-back transaction are still reported (SQLite reports changes as made)",
         %{s: s} do
      :ok = Native.add_update_hook(s)
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t(x) VALUES (1)")
      {:ok, _} = Native.rollback(t)
      assert_receive {:update, :insert, "main", "t", 1}
    end

    test "remove_update_hook/1 and replacing the hook", %{s: s} do
      :ok = Native.add_update_hook(s)
      assert :ok = Native.remove_update_hook(s)
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1)")
      refute_receive {:update, _, _, _, _}, 20

      other = spawn(fn -> Process.sleep(:infinity) end)
      :ok = Native.add_update_hook(s, other)
      :ok = Native.add_update_hook(s, self())
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (2)")
      assert_receive {:update, :insert, "main", "t", 2}
      assert {:messages, []} = Process.info(other, :messages)
    end

    test "a dead listener does not break writes", %{s: s} do
      dead = spawn(fn -> :ok end)
      ref = Process.monitor(dead)
      assert_receive {:DOWN, ^ref, _, _, _}
      :ok = Native.add_update_hook(s, dead)
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1)")
    end

    test "compatibility set_update_hook/2 and clear_update_hook/1", %{s: s} do
      assert :ok = Native.set_update_hook(s.conn_id, self())
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1)")
      assert_receive {:update, :insert, "main", "t", 1}
      assert :ok = Native.clear_update_hook(s.conn_id)
      {:ok, _} = Native.execute(s, "INSERT INTO t(x) VALUES (1)")
      refute_receive {:update, _, _, _, _}, 20
    end

    test "argument checks", %{s: s} do
      assert_raise FunctionClauseError, fn -> Native.add_update_hook(s, :name) end
      assert_raise FunctionClauseError, fn -> Native.set_update_hook(s.conn_id, "pid") end
      assert_raise ArgumentError, fn -> EctoLibSql.NIF.set_update_hook(s.conn_id, :pid) end
    end
  end

  describe "authorizer" do
    defp start_authorizer(decide) do
      parent = self()

      spawn_link(fn ->
        loop = fn loop ->
          receive do
            {:authorize, id, action, a1, a2, db, trigger} ->
              send(parent, {:asked, action, a1, a2, db, trigger})
              :ok = Native.authorize_reply(id, decide.(action, a1, a2))
              loop.(loop)
          end
        end

        loop.(loop)
      end)
    end

    setup %{s: s} do
      {:ok, _} = Native.execute(s, "CREATE TABLE secrets(pub, secret)")
      {:ok, _} = Native.execute(s, "INSERT INTO secrets VALUES (1, 2)")
      :ok
    end

    test "a pid answers :ok, :deny or :ignore for each action", %{s: s} do
      auth =
        start_authorizer(fn
          :delete, _, _ -> :deny
          :read, "secrets", "secret" -> :ignore
          _, _, _ -> :ok
        end)

      assert :ok = Native.add_authorizer(s, auth)

      assert rows!(s, "SELECT pub, secret FROM secrets") == [[1, nil]]
      assert_receive {:asked, :select, nil, nil, nil, nil}
      assert_receive {:asked, :read, "secrets", "pub", "main", nil}
      assert_receive {:asked, :read, "secrets", "secret", "main", nil}

      assert {:error, %Error{message: "not authorized", sqlite: %{code: :auth}}} =
               Native.execute(s, "DELETE FROM secrets")

      assert_receive {:asked, :delete, "secrets", nil, "main", nil}
      assert {:ok, _} = Native.execute(s, "INSERT INTO secrets VALUES (3, 4)")
      assert_receive {:asked, :insert, "secrets", nil, "main", nil}
      assert :ok = Native.remove_authorizer(s)
      assert rows!(s, "SELECT count(*) FROM secrets") == [[2]]
    end

    test "statements cached before the authorizer are checked again", %{s: s} do
      assert rows!(s, "SELECT pub FROM secrets") == [[1]]
      :ok = Native.add_authorizer(s, start_authorizer(fn _, _, _ -> :deny end))

      assert {:error, %Error{message: "not authorized"}} =
               Native.execute(s, "SELECT pub FROM secrets")
    end

    test "no answer within the timeout denies", %{s: s} do
      silent = spawn_link(fn -> Process.sleep(:infinity) end)
      :ok = Native.add_authorizer(s, silent, 50)

      assert {:error, %Error{message: "not authorized"}} =
               Native.execute(s, "SELECT pub FROM secrets")

      assert {:messages, [{:authorize, id, :select, nil, nil, nil, nil}]} =
               Process.info(silent, :messages)

      # a late answer finds no request waiting
      assert {:error, "no authorizer request is waiting for this answer"} =
               Native.authorize_reply(id, :ok)
    end

    test "the calling process as authorizer is denied, not deadlocked", %{s: s} do
      :ok = Native.add_authorizer(s, self())
      assert {:error, %Error{message: "not authorized"}} = Native.execute(s, "SELECT 1")
      refute_received {:authorize, _, _, _, _, _, _}
    end

    test "a dead authorizer denies", %{s: s} do
      dead = spawn(fn -> :ok end)
      ref = Process.monitor(dead)
      assert_receive {:DOWN, ^ref, _, _, _}
      :ok = Native.add_authorizer(s, dead)
      assert {:error, %Error{message: "not authorized"}} = Native.execute(s, "SELECT 1")
      :ok = Native.remove_authorizer(s)
      assert rows!(s, "SELECT 1") == [[1]]
    end

    test "works for prepared statements, cursors and transactions", %{s: s} do
      :ok =
        Native.add_authorizer(
          s,
          start_authorizer(fn
            :read, "secrets", "secret" -> :deny
            _, _, _ -> :ok
          end)
        )

      assert {:error, "Prepare failed: access to secrets.secret is prohibited"} =
               Native.prepare(s, "SELECT secret FROM secrets")

      assert {:ok, stmt} = Native.prepare(s, "SELECT pub FROM secrets")
      assert {:ok, %{rows: [[1]]}} = Native.query_stmt(s, stmt, [])

      assert {:error, %Error{message: "access to secrets.secret is prohibited"}} =
               Native.declare_cursor(s, "SELECT secret FROM secrets", [])

      {:ok, t} = Native.begin(s)
      assert rows!(t, "SELECT pub FROM secrets") == [[1]]
      {:ok, _} = Native.commit(t)
    end

    test "compatibility set_authorizer/2 and argument checks", %{s: s} do
      assert :ok = Native.set_authorizer(s.conn_id, start_authorizer(fn _, _, _ -> :ok end))
      assert rows!(s, "SELECT 1") == [[1]]
      assert_raise FunctionClauseError, fn -> Native.add_authorizer(s, :pid) end
      assert_raise FunctionClauseError, fn -> Native.add_authorizer(s, self(), -1) end
      assert_raise FunctionClauseError, fn -> Native.authorize_reply(1, :maybe) end
      assert_raise ArgumentError, fn -> EctoLibSql.NIF.authorizer_reply(-1, :ok) end
    end
  end
end
