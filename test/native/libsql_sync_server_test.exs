# The starter of the libSQL sync test server (test/support/libsql_sync_server.exs): its debug
# helpers, faults, and a restart that carries on with the same database and logs. The server's
# protocols are proven against npm libsql by test/support/libsql_sync_server_client_check.js.
Code.require_file("../support/libsql_sync_server.exs", __DIR__)

defmodule EctoLibSql.Native.LibsqlSyncServerTest do
  use ExUnit.Case, async: false

  alias EctoLibSql.LibsqlSyncServer

  if reason = LibsqlSyncServer.missing(), do: @moduletag(skip: reason)
  @moduletag :remote

  defp get(url, headers \\ []) do
    {:ok, _} = Application.ensure_all_started(:inets)
    headers = Enum.map(headers, fn {k, v} -> {String.to_charlist(k), String.to_charlist(v)} end)
    :httpc.request(:get, {String.to_charlist(url), headers}, [], body_format: :binary)
  end

  # Stops the server last started (restarts give it a new OS pid).
  defp stop_at_exit(server) do
    {:ok, holder} = Agent.start(fn -> server end)
    on_exit(fn -> LibsqlSyncServer.stop(Agent.get(holder, & &1)) end)
    holder
  end

  test "debug helpers, generations, a fault that kills the server, and its restart" do
    server = LibsqlSyncServer.start!(token: "t")
    holder = stop_at_exit(server)

    LibsqlSyncServer.exec!(
      server,
      "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, b BLOB, f REAL)"
    )

    assert %{"affected" => 1, "last_insert_rowid" => 1} =
             LibsqlSyncServer.exec!(server, "INSERT INTO t(s, b, f) VALUES (?, ?, ?)", [
               "ünï \"q\" \\ 😀",
               {:blob, <<0, 255>>},
               1.5
             ])

    LibsqlSyncServer.exec!(server, "INSERT INTO t(s) VALUES (NULL)")

    assert %{"columns" => ["id", "s", "b", "f"], "rows" => rows} =
             LibsqlSyncServer.exec!(server, "SELECT id, s, b, f FROM t ORDER BY id")

    assert rows == [
             [1, "ünï \"q\" \\ 😀", %{"base64" => Base.encode64(<<0, 255>>)}, 1.5],
             [2, nil, nil, nil]
           ]

    assert %{"generation" => 1, "frames" => frames} = LibsqlSyncServer.stats(server)
    assert frames >= 3
    assert LibsqlSyncServer.new_generation(server) == 2
    assert LibsqlSyncServer.compact(server) > 0

    # The token guards the protocol routes, not the debug ones.
    assert {:ok, {{_, 401, _}, _, _}} = get(server.url <> "/info")

    assert {:ok, {{_, 200, _}, _, ~s({"current_generation":2})}} =
             get(server.url <> "/info", [{"authorization", "Bearer t"}])

    assert LibsqlSyncServer.requests(server) == ["GET /info 401", "GET /info 200"]
    assert LibsqlSyncServer.requests(server) == []

    # The next /info kills the server before it answers; restarted, it has kept everything.
    LibsqlSyncServer.fault(server, %{path: "/info", action: "exit"})
    assert {:error, _} = get(server.url <> "/info", [{"authorization", "Bearer t"}])
    server = LibsqlSyncServer.start_again!(server)
    Agent.update(holder, fn _ -> server end)
    assert %{"generation" => 2} = LibsqlSyncServer.stats(server)
    assert %{"rows" => [[2]]} = LibsqlSyncServer.exec!(server, "SELECT count(*) FROM t")

    # A fault answering a status, once.
    LibsqlSyncServer.fault(server, %{path: "/info", action: "status", status: 503})
    auth = [{"authorization", "Bearer t"}]
    assert {:ok, {{_, 503, _}, _, _}} = get(server.url <> "/info", auth)
    assert {:ok, {{_, 200, _}, _, _}} = get(server.url <> "/info", auth)
    LibsqlSyncServer.fault(server, %{path: "/info", action: "status", status: 500, times: 5})
    LibsqlSyncServer.clear_faults(server)
    assert {:ok, {{_, 200, _}, _, _}} = get(server.url <> "/info", auth)

    server = LibsqlSyncServer.restart!(server)
    Agent.update(holder, fn _ -> server end)
    assert %{"generation" => 2, "requests" => requests} = LibsqlSyncServer.stats(server)
    assert requests == %{}
  end

  test "in gRPC mode /info answers 404, as sqld" do
    server = LibsqlSyncServer.start!(mode: :grpc)
    stop_at_exit(server)
    assert {:ok, {{_, 404, _}, _, _}} = get(server.url <> "/info")
    assert LibsqlSyncServer.requests(server) == ["GET /info 404"]
  end
end
