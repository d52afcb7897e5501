# Remote mode against a real server (tursodb --sync-server, npm turso): failures of the server
# and the network, large results, concurrency, and what a server cannot do.
Code.require_file("../support/tursodb_server.exs", __DIR__)

defmodule EctoLibSql.Native.RemoteTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, Native, TursodbServer}

  if reason = TursodbServer.missing(), do: @moduletag(skip: reason)
  @moduletag :remote

  setup do
    server = TursodbServer.start!()
    on_exit(fn -> TursodbServer.stop(server) end)
    %{server: server}
  end

  defp connect_to!(server), do: connect!(uri: server.url, auth_token: "token")

  test "connecting to a port where no server listens fails clearly" do
    port = TursodbServer.free_port()

    assert {:error, %Error{message: message}} =
             EctoLibSql.Native.connect(uri: "http://127.0.0.1:#{port}", auth_token: "t")

    assert message =~ "Failed to connect to 127.0.0.1:#{port}"
  end

  test "unsupported URL schemes and missing options" do
    assert {:error, %Error{message: message}} =
             Native.connect(uri: "ftp://127.0.0.1:1", auth_token: "t")

    assert message =~ "unsupported URL scheme"
  end

  test "a server that accepts but never answers hits the request timeout" do
    {:ok, listener} = :gen_tcp.listen(0, ip: {127, 0, 0, 1}, active: false)
    {:ok, port} = :inet.port(listener)
    on_exit(fn -> :gen_tcp.close(listener) end)
    started = System.monotonic_time(:millisecond)

    assert {:error, %Error{message: message}} =
             Native.connect(
               uri: "http://127.0.0.1:#{port}",
               auth_token: "t",
               request_timeout: 300
             )

    assert message =~ "request timed out"
    assert System.monotonic_time(:millisecond) - started < 5_000
  end

  test "the server killed inside a transaction fails that transaction", %{server: server} do
    s = connect_to!(server)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    TursodbServer.stop(server)

    assert {:error, %Error{message: message, sqlite: %{remote_code: "CONNECTION_LOST"}}} =
             Native.execute(t, "INSERT INTO t VALUES (2)", [])

    assert message =~ "inside a transaction"
    assert Native.get_is_autocommit(s)
    assert {:error, _} = Native.commit(t)
    # Outside a transaction the failure is reported as such.
    assert {:error, %Error{message: message}} = Native.execute(s, "SELECT 1", [])
    assert message =~ "Failed to connect"
  end

  # tursodb keeps no stream per client: a restarted server knows nothing of the transaction,
  # and a statement sent after it must fail instead of running outside it.
  test "a server restarted inside a transaction fails that transaction", %{server: server} do
    s = connect_to!(server)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    TursodbServer.kill(server)
    restarted = TursodbServer.start!(port: server.port, database: server.database)
    on_exit(fn -> TursodbServer.stop(restarted) end)

    assert {:error, %Error{message: message, sqlite: %{remote_code: "TRANSACTION_LOST"}}} =
             Native.execute(t, "INSERT INTO t VALUES (2)", [])

    assert message =~ "no longer holds this connection's transaction"
    assert Native.get_is_autocommit(s)
    assert {:ok, _} = Native.rollback(t)
    assert rows!(s, "SELECT count(*) FROM t") == [[0]]
    # The connection goes on.
    {:ok, _} = Native.execute(s, "INSERT INTO t VALUES (3)", [])
    assert rows!(s, "SELECT x FROM t") == [[3]]
  end

  test "a restarted server is reached again by the same connection", %{server: server} do
    s = connect_to!(server)
    assert [[1]] = rows!(s, "SELECT 1")
    TursodbServer.stop(server)
    assert {:error, %Error{}} = Native.execute(s, "SELECT 1", [])
    restarted = TursodbServer.start!(port: server.port)
    on_exit(fn -> TursodbServer.stop(restarted) end)
    assert [[2]] = rows!(s, "SELECT 2")
  end

  test "a 50 MB result arrives whole", %{server: server} do
    s = connect_to!(server)
    {:ok, _} = Native.execute(s, "CREATE TABLE big(x BLOB)", [])
    chunk = :binary.copy(<<7>>, 1_000_000)
    for _ <- 1..25, do: {:ok, _} = Native.execute(s, "INSERT INTO big VALUES (?)", [chunk])
    # Blobs travel as base64: 25 MB of blobs make a reply of more than 33 MB; text doubles it.
    {:ok, %{rows: rows}} = Native.execute(s, "SELECT x, hex(x) FROM big", [])
    assert length(rows) == 25
    assert Enum.all?(rows, fn [b, h] -> b == chunk and byte_size(h) == 2_000_000 end)
  end

  test "1,000 requests from 50 concurrent processes lose nothing", %{server: server} do
    s = connect_to!(server)
    {:ok, _} = Native.execute(s, "CREATE TABLE c(p INTEGER, i INTEGER)", [])

    results =
      1..50
      |> Task.async_stream(
        fn p ->
          {:ok, conn} = Native.connect(uri: server.url, auth_token: "token")

          r =
            for i <- 1..20 do
              if rem(i, 2) == 0 do
                {:ok, %{num_rows: 1}} =
                  Native.execute(conn, "INSERT INTO c VALUES (?, ?)", [p, i])

                :write
              else
                {:ok, %{rows: [[^i]]}} = Native.execute(conn, "SELECT ?", [i])
                :read
              end
            end

          Native.close(conn)
          r
        end,
        max_concurrency: 50,
        timeout: 120_000
      )
      |> Enum.flat_map(fn {:ok, r} -> r end)

    assert length(results) == 1_000
    assert rows!(s, "SELECT count(*), count(DISTINCT p * 100 + i) FROM c") == [[500, 500]]
  end

  test "what a server cannot do gives a clear error", %{server: server} do
    s = connect_to!(server)
    assert Native.get_is_autocommit(s)

    assert {:error, "the update hook is not supported in remote mode"} = Native.add_update_hook(s)

    assert {:error, "loading extensions is not supported in remote mode"} =
             Native.load_ext(s, "/nonexistent.so")

    # tursodb has no describe: column metadata of a statement that has not run is refused.
    {:ok, stmt} = Native.prepare(s, "SELECT ?")

    assert {:error, "column metadata" <> _} = Native.get_stmt_columns(s, stmt)
  end
end
