# Remote mode against the Hrana test server (test/support/hrana_server.js) for what tursodb does
# not serve: authentication, stream expiry, base_url, v2-only servers, describe.
Code.require_file("../support/hrana_server.exs", __DIR__)

defmodule EctoLibSql.Native.RemoteHranaTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, HranaServer, Native}

  if reason = HranaServer.missing(), do: @moduletag(skip: reason)
  @moduletag :remote

  defp start!(opts \\ []) do
    server = HranaServer.start!(opts)
    on_exit(fn -> HranaServer.stop(server) end)
    server
  end

  test "a wrong token is refused with the server's message" do
    server = start!(token: "right")

    assert {:error, %Error{message: message, sqlite: %{code: :auth, remote_code: "UNAUTHORIZED"}}} =
             Native.connect(uri: server.url, auth_token: "wrong")

    assert message =~ "Authentication failed"
    s = connect!(uri: server.url, auth_token: "right")
    assert rows!(s, "SELECT 1") == [[1]]
  end

  test "an expired stream fails its transaction; the connection goes on" do
    server = start!(expire_ms: 200)
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    Process.sleep(400)

    assert {:error, %Error{message: message, sqlite: %{remote_code: "STREAM_EXPIRED"}}} =
             Native.execute(t, "INSERT INTO t VALUES (2)", [])

    assert message =~ "transaction was abandoned"
    assert Native.get_is_autocommit(s)
    assert rows!(s, "SELECT count(*) FROM t") == [[0]]
  end

  test "requests of a stream follow its base_url" do
    server = start!(base_url_prefix: "/moved", token: "t")
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)

    for i <- 1..3 do
      assert {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (?)", [i])
    end

    assert {:ok, _} = Native.commit(t)
    assert rows!(s, "SELECT sum(x) FROM t") == [[6]]
  end

  test "a v2-only server runs transactions through batons" do
    server = start!(v2_only: true)
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    # Another connection does not see the uncommitted row: the transaction has its own stream.
    other = connect!(uri: server.url, auth_token: "t")
    assert rows!(other, "SELECT count(*) FROM t") == [[0]]
    {:ok, _} = Native.commit(t)
    assert rows!(other, "SELECT count(*) FROM t") == [[1]]
  end

  test "prepared statements describe their columns before running" do
    server = start!()
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER, name TEXT)", [])
    {:ok, stmt} = Native.prepare(s, "SELECT id, name FROM t WHERE id = ?")
    assert {:ok, columns} = Native.get_stmt_columns(s, stmt)
    assert Enum.map(columns, &elem(&1, 0)) == ["id", "name"]
  end

  test "a kept-alive connection closed by a restarted server is replaced for reads" do
    server = start!()
    s = connect!(uri: server.url, auth_token: "t")
    assert rows!(s, "SELECT 1") == [[1]]
    HranaServer.stop(server)
    restarted = HranaServer.start!(port: server.port)
    on_exit(fn -> HranaServer.stop(restarted) end)
    assert rows!(s, "SELECT 2") == [[2]]
  end

  test "WebSocket: hello with a wrong token is refused; streams are per connection" do
    server = start!(token: "right")
    url = "ws://127.0.0.1:#{server.port}"

    assert {:error, %Error{message: message, sqlite: %{code: :auth}}} =
             Native.connect(uri: url, auth_token: "wrong")

    assert message =~ "Authentication failed"
    s = connect!(uri: url, auth_token: "right")
    other = connect!(uri: server.url, auth_token: "right", transport: :websocket)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    assert rows!(other, "SELECT count(*) FROM t") == [[0]]
    {:ok, _} = Native.commit(t)
    assert rows!(other, "SELECT count(*) FROM t") == [[1]]
  end

  test "WebSocket: the server killed inside a transaction fails it; reads reconnect" do
    server = start!()
    s = connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    HranaServer.stop(server)

    assert {:error, %Error{sqlite: %{remote_code: "CONNECTION_LOST"}}} =
             Native.execute(t, "INSERT INTO t VALUES (2)", [])

    assert Native.get_is_autocommit(s)
    restarted = HranaServer.start!(port: server.port)
    on_exit(fn -> HranaServer.stop(restarted) end)
    assert rows!(s, "SELECT 3") == [[3]]
  end

  describe "interrupt/1" do
    # The server (one Node thread) runs the query to its end; the client stops waiting.
    @slow "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) " <>
            "SELECT count(*) FROM c"

    test "aborts the request in flight from another process; the connection stays usable" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      started = System.monotonic_time(:millisecond)
      task = Task.async(fn -> Native.execute(s, @slow, []) end)
      Process.sleep(200)
      :ok = Native.interrupt(s)

      assert {:error, %Error{message: "interrupted", sqlite: %{code: :interrupt}}} =
               Task.await(task, 30_000)

      assert System.monotonic_time(:millisecond) - started < 1_500
      assert rows!(s, "SELECT 1") == [[1]]
      assert :ok = Native.interrupt(s)
      assert rows!(s, "SELECT 2") == [[2]]
    end

    test "inside a transaction abandons the transaction; the connection goes on" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
      task = Task.async(fn -> Native.execute(t, @slow, []) end)
      Process.sleep(200)
      :ok = Native.interrupt(s)

      assert {:error, %Error{message: "interrupted; the transaction was abandoned" <> _} = e} =
               Task.await(task, 30_000)

      assert e.sqlite.code == :interrupt
      assert Native.get_is_autocommit(s)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
      assert rows!(s, "SELECT 1") == [[1]]
    end
  end
end
