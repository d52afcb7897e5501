unless Code.ensure_loaded?(EctoLibSql.LibsqlSyncServer),
  do: Code.require_file("../support/libsql_sync_server.exs", __DIR__)

unless Code.ensure_loaded?(EctoLibSql.TursodbServer),
  do: Code.require_file("../support/tursodb_server.exs", __DIR__)

defmodule EctoLibSql.Native.ReplicaLibsqlTest do
  # Embedded replicas over libSQL's own protocols, as Turso Cloud and sqld serve them: HTTP sync
  # (GET /info answers) and the gRPC-web replication log (it does not), against the libSQL sync
  # test server (test/support/libsql_sync_server.js, a real SQLite database and its WAL frames,
  # proven against npm libsql), side by side with npm libsql replicas of the same database.
  # Offline writes over HTTP sync, and over the Turso sync protocol against tursodb with the
  # official @tursodatabase/sync client.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{LibsqlSyncServer, Native, TursodbServer}

  if reason = LibsqlSyncServer.missing(), do: @moduletag(skip: reason)

  @token "sync-secret"
  @node System.find_executable("node")
  @libsql_client Path.expand("../peers/libsql_replica_client.js", __DIR__)
  @turso_client Path.expand("../peers/turso_sync_client.js", __DIR__)

  # --- helpers ----------------------------------------------------------------------------------

  # Starts a server for the test; stopped (whatever restarts gave it) when the test ends.
  defp start_server!(opts) do
    server = LibsqlSyncServer.start!(Keyword.put_new(opts, :token, @token))
    {:ok, holder} = Agent.start(fn -> server end)

    on_exit(fn ->
      LibsqlSyncServer.stop(Agent.get(holder, & &1))
      Agent.stop(holder)
    end)

    LibsqlSyncServer.exec!(server, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
    LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée')")
    Map.put(server, :holder, holder)
  end

  defp restart!(server) do
    again = LibsqlSyncServer.start_again!(server)
    Agent.update(server.holder, fn _ -> again end)
    Map.put(again, :holder, server.holder)
  end

  defp replica!(server, extra \\ []) do
    path = Keyword.get_lazy(extra, :database, fn -> tmp_db("replica") end)
    on_exit(fn -> for f <- Path.wildcard(path <> "-*"), do: File.rm(f) end)
    opts = [database: path, uri: server.url, auth_token: @token, sync: true]
    connect!(Keyword.merge(opts, extra))
  end

  defp count(s, table \\ "t"), do: rows!(s, "SELECT count(*) FROM #{table}") |> hd() |> hd()

  defp server_rows(server, sql), do: LibsqlSyncServer.exec!(server, sql)["rows"]

  # Runs steps on an npm libsql replica of `db` (see test/peers/libsql_replica_client.js).
  defp npm_libsql(server, db, steps, offline \\ false) do
    on_exit(fn -> for f <- Path.wildcard(db <> "*"), do: File.rm(f) end)

    spec =
      LibsqlSyncServer.json_encode(%{
        "db" => db,
        "url" => server.url,
        "token" => @token,
        "offline" => offline,
        "steps" => steps
      })

    env = [{"ECTO_LIBSQL_PEERS", TursodbServer.peers()}]

    case System.cmd(@node, [@libsql_client, spec], env: env, stderr_to_stdout: true) do
      # The last element is the time the open took.
      {out, 0} -> out |> LibsqlSyncServer.json_decode() |> Enum.drop(-1)
      {out, status} -> flunk("npm libsql replica exited with #{status}: #{out}")
    end
  end

  defp protocol(path), do: File.read!(path <> "-sync") |> String.split("\n") |> Enum.at(1)

  # --- per protocol ------------------------------------------------------------------------------

  for {mode, name, recorded} <- [
        {:both, "libSQL HTTP sync", "protocol libsql_http"},
        {:grpc, "libSQL gRPC replication log", "protocol libsql_grpc"}
      ] do
    describe name do
      @describetag mode: mode
      @describetag recorded: recorded

      setup %{mode: mode}, do: %{server: start_server!(mode: mode)}

      test "bootstraps 10,000 rows, pulls remote writes, reads its own writes", %{
        server: server,
        recorded: recorded
      } do
        LibsqlSyncServer.exec!(server, "CREATE TABLE big(id INTEGER PRIMARY KEY, v TEXT)")

        for _ <- 1..10 do
          LibsqlSyncServer.exec!(
            server,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) " <>
              "INSERT INTO big(v) SELECT printf('%0300d', i) FROM n"
          )
        end

        path = tmp_db("big")
        s = replica!(server, database: path)
        assert protocol(path) == recorded
        assert File.stat!(path).size > 3_000_000
        assert count(s, "big") == 10_000
        assert rows!(s, "PRAGMA integrity_check") == [["ok"]]
        {:ok, frame} = Native.get_frame_number_for_replica(s)
        assert frame > 0

        LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('from the server')")
        assert count(s) == 3
        assert {:ok, "success sync"} = Native.sync(s)
        assert count(s) == 4
        {:ok, after_pull} = Native.get_frame_number_for_replica(s)
        assert after_pull > frame

        # Read-your-writes: forwarded over Hrana to the same URL, then pulled.
        assert {:ok, %{num_rows: 1}} = Native.execute(s, "INSERT INTO t(v) VALUES (?)", ["mine"])
        assert rows!(s, "SELECT v FROM t ORDER BY id DESC LIMIT 1") == [["mine"]]
        assert {:ok, written} = Native.get_max_write_frame(s)
        assert written > after_pull
        assert {:ok, ^written} = Native.flush_and_get_frame(s)

        LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('later')")
        assert :ok = Native.sync_until_frame(s, written + 1)
        assert count(s) == 6
      end

      test "side by side with npm libsql replicas, each sees the other's writes", %{
        server: server
      } do
        ours = replica!(server)
        theirs = tmp_db("npm")

        # npm libsql forwards its write and pulls it back; ours pulls it.
        assert [_, "ok", _, [[4, "from npm libsql"]]] =
                 npm_libsql(server, theirs, [
                   %{"sync" => true},
                   %{"exec" => "INSERT INTO t(v) VALUES ('from npm libsql')"},
                   %{"sync" => true},
                   %{"query" => "SELECT id, v FROM t WHERE id = 4"}
                 ])

        assert {:ok, _} = Native.sync(ours)
        assert rows!(ours, "SELECT v FROM t WHERE id = 4") == [["from npm libsql"]]

        # Ours writes; npm libsql's replica (the same file, reopened) pulls it.
        assert {:ok, _} = Native.execute(ours, "INSERT INTO t(v) VALUES ('from ours')", [])

        assert [_, [["one"], ["two"], ["thrée"], ["from npm libsql"], ["from ours"]]] =
                 npm_libsql(server, theirs, [
                   %{"sync" => true},
                   %{"query" => "SELECT v FROM t ORDER BY id"}
                 ])

        assert {:ok, a} = Native.get_frame_number_for_replica(ours)
        assert a > 0
      end

      test "a wrong token is refused; with the server down reads go on", %{server: server} do
        path = tmp_db("wrong")

        assert {:error, %EctoLibSql.Error{message: message}} =
                 Native.connect(database: path, uri: server.url, auth_token: "nope", sync: true)

        assert message =~ "refused the auth token"
        refute message =~ "nope"
        refute File.exists?(path)
        refute File.exists?(path <> "-sync")

        s = replica!(server)
        LibsqlSyncServer.kill(server)
        assert {:error, "Sync error: " <> reason} = Native.sync(s)
        assert reason =~ "unreachable"
        assert count(s) == 3
        assert {:error, _} = Native.sync_until_frame(s, 1_000_000)

        fresh = tmp_db("fresh")

        assert {:error, %EctoLibSql.Error{message: down}} =
                 Native.connect(database: fresh, uri: server.url, auth_token: @token, sync: true)

        assert down =~ "unreachable"
        refute File.exists?(fresh)
      end

      test "freeze_replica leaves a local database", %{server: server} do
        path = tmp_db("frozen")
        s = replica!(server, database: path)
        assert {:ok, %EctoLibSql.State{mode: :local} = frozen} = Native.freeze_replica(s)
        refute File.exists?(path <> "-sync")
        assert {:ok, _} = Native.execute(frozen, "INSERT INTO t(v) VALUES ('local')", [])
        assert count(frozen) == 4
        assert server_rows(server, "SELECT count(*) FROM t") == [[3]]
      end
    end
  end

  describe "generations and snapshots" do
    test "HTTP sync follows a new generation" do
      server = start_server!(mode: :both)
      s = replica!(server)
      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('in 1')")
      assert LibsqlSyncServer.new_generation(server) == 2
      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('in 2')")
      assert {:ok, _} = Native.sync(s)
      assert rows!(s, "SELECT v FROM t WHERE id > 3 ORDER BY id") == [["in 1"], ["in 2"]]
      assert File.read!(s.opts[:database] <> "-sync") =~ "generation 2"
      # Frame numbers count within a generation.
      assert {:ok, frame} = Native.get_frame_number_for_replica(s)
      assert frame > 0
    end

    test "the gRPC log is followed through a snapshot" do
      server = start_server!(mode: :grpc)
      s = replica!(server)
      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('compacted')")
      assert LibsqlSyncServer.compact(server) > 0
      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('after')")
      LibsqlSyncServer.requests(server)
      assert {:ok, _} = Native.sync(s)
      assert count(s) == 5

      assert "POST /wal_log.ReplicationLog/Snapshot 200 grpc-status 0" in LibsqlSyncServer.requests(
               server
             )
    end
  end

  describe "options" do
    test "sync_protocol forces a protocol and is remembered; bad values are refused" do
      server = start_server!(mode: :both)
      path = tmp_db("forced")
      s = replica!(server, database: path, sync_protocol: :libsql_grpc)
      assert protocol(path) == "protocol libsql_grpc"
      assert count(s) == 3
      Native.close(s)

      assert {:error, %EctoLibSql.Error{message: message}} =
               Native.connect(
                 database: path,
                 uri: server.url,
                 auth_token: @token,
                 sync: true,
                 sync_protocol: :libsql_http
               )

      assert message =~ "was bootstrapped with the libSQL gRPC replication log"

      assert_raise ArgumentError, ~r/:sync_protocol must be one of/, fn ->
        Native.connect(database: path, uri: server.url, auth_token: @token, sync_protocol: :v9)
      end

      assert_raise ArgumentError, ~r/:offline must be a boolean/, fn ->
        Native.connect(database: path, uri: server.url, auth_token: @token, offline: "yes")
      end
    end

    test "remote_encryption_key goes with every request, as x-turso-encryption-key" do
      key = "c2VydmVyLXNpZGUta2V5+/="
      server = start_server!(mode: :both, encryption_key: key)
      LibsqlSyncServer.request_log(server)

      s = replica!(server, remote_encryption_key: key)
      assert count(s) == 3
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('four')", [])
      assert count(s) == 4
      assert {:ok, _} = Native.sync(s)
      Native.close(s)

      log = LibsqlSyncServer.request_log(server)
      paths = Enum.map(log, & &1["path"])
      assert "/info" in paths and "/v3/pipeline" in paths
      assert Enum.any?(paths, &String.starts_with?(&1, "/export/"))
      assert Enum.all?(log, &(&1["encryption_key"] == key)), inspect(log)

      # Remote mode (Hrana on the same URL) sends it too.
      {:ok, r} = Native.connect(uri: server.url, auth_token: @token, remote_encryption_key: key)
      assert rows!(r, "SELECT count(*) FROM t") == [[4]]
      Native.close(r)
      assert Enum.all?(LibsqlSyncServer.request_log(server), &(&1["encryption_key"] == key))

      # Without the key (or with another), the server refuses: the error says what it answered
      # and never shows the key.
      for opts <- [[], [remote_encryption_key: "wrong-key"]] do
        assert {:error, %EctoLibSql.Error{message: message}} =
                 Native.connect(
                   [database: tmp_db("nokey"), uri: server.url, auth_token: @token, sync: true] ++
                     opts
                 )

        assert message =~ "400"
        refute message =~ key
        refute message =~ "wrong-key"

        {:ok, r} = Native.connect([uri: server.url, auth_token: @token] ++ opts)
        assert {:error, %EctoLibSql.Error{message: message}} = Native.execute(r, "SELECT 1", [])
        assert message =~ "400"
        refute message =~ "wrong-key"
        Native.close(r)
      end
    end

    test "the gRPC log takes no offline writes" do
      server = start_server!(mode: :grpc)

      assert {:error, %EctoLibSql.Error{message: message}} =
               Native.connect(
                 database: tmp_db("offline"),
                 uri: server.url,
                 auth_token: @token,
                 offline: true
               )

      assert message =~ "offline writes need libSQL's HTTP sync or the Turso sync protocol"
    end
  end

  # --- offline writes over libSQL's HTTP sync -----------------------------------------------------

  describe "offline writes (libSQL HTTP sync)" do
    setup do
      %{server: start_server!(mode: :http)}
    end

    test "pushed writes reach a fresh npm libsql replica and a fresh one of ours", %{
      server: server
    } do
      path = tmp_db("offline")
      s = replica!(server, database: path, offline: true)
      assert s.mode == :remote_replica
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('offline ünï')", [])
      assert {:ok, _} = Native.execute(s, "UPDATE t SET v = 'uno' WHERE id = 1", [])
      assert count(s) == 4
      assert server_rows(server, "SELECT count(*) FROM t") == [[3]]

      assert {:ok, "success sync"} = Native.sync(s)

      assert server_rows(server, "SELECT v FROM t ORDER BY id") ==
               [["uno"], ["two"], ["thrée"], ["offline ünï"]]

      assert [_, [["uno"], ["two"], ["thrée"], ["offline ünï"]]] =
               npm_libsql(server, tmp_db("npm"), [
                 %{"sync" => true},
                 %{"query" => "SELECT v FROM t ORDER BY id"}
               ])

      fresh = replica!(server)

      assert rows!(fresh, "SELECT v FROM t ORDER BY id") ==
               [["uno"], ["two"], ["thrée"], ["offline ünï"]]

      # npm libsql's own offline writes come back to ours.
      assert [_, "ok", _] =
               npm_libsql(
                 server,
                 tmp_db("npm_offline"),
                 [
                   %{"sync" => true},
                   %{"exec" => "INSERT INTO t(v) VALUES ('npm offline')"},
                   %{"sync" => true}
                 ],
                 true
               )

      assert {:ok, _} = Native.sync(s)
      assert rows!(s, "SELECT v FROM t ORDER BY id DESC LIMIT 1") == [["npm offline"]]
      assert rows!(s, "PRAGMA integrity_check") == [["ok"]]
    end

    test "a push cut off by the server dying loses nothing and applies nothing twice", %{
      server: server
    } do
      path = tmp_db("cut")
      s = replica!(server, database: path, offline: true)

      # Enough for several pushes of 128 frames under one baton.
      assert {:ok, _} =
               Native.execute(
                 s,
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) " <>
                   "INSERT INTO t(v) SELECT printf('%0300d', i) FROM n",
                 []
               )

      # The server applies the second push, then dies before answering it.
      LibsqlSyncServer.fault(server, %{
        method: "POST",
        path: "/sync/",
        skip: 1,
        at: "response",
        action: "exit"
      })

      assert {:error, "Sync error: " <> _} = Native.sync(s)
      assert File.exists?(path <> "-push")
      assert count(s) == 2003

      server = restart!(server)
      assert {:ok, _} = Native.sync(s)
      refute File.exists?(path <> "-push")
      assert server_rows(server, "SELECT count(*), count(DISTINCT v) FROM t") == [[2003, 2003]]
      assert %{"conflicts" => 0} = LibsqlSyncServer.stats(server)

      # Cut while the server reads the request: nothing applied; the retry applies it once.
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('cut twice')", [])
      LibsqlSyncServer.fault(server, %{method: "POST", path: "/sync/", request_bytes: 100})
      assert {:error, _} = Native.sync(s)
      assert {:ok, _} = Native.sync(s)
      assert server_rows(server, "SELECT count(*) FROM t WHERE v = 'cut twice'") == [[1]]
      assert count(s) == 2004
      assert rows!(s, "PRAGMA integrity_check") == [["ok"]]
    end

    test "a pull cut off by the server dying leaves the replica as it was", %{server: server} do
      s = replica!(server, offline: true)
      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('pulled')")

      LibsqlSyncServer.fault(server, %{
        method: "GET",
        path: "/sync/",
        at: "response",
        response_bytes: 5000,
        action: "exit"
      })

      assert {:error, _} = Native.sync(s)
      assert count(s) == 3
      _server = restart!(server)
      assert {:ok, _} = Native.sync(s)
      assert count(s) == 4
      assert rows!(s, "PRAGMA integrity_check") == [["ok"]]
    end

    test "5xx answers are retried with back-off, pulls and pushes alike", %{server: server} do
      s = replica!(server, offline: true)
      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('after 503')")

      LibsqlSyncServer.fault(server, %{
        method: "GET",
        path: "/sync/",
        action: "status",
        status: 503,
        body: %{},
        times: 2
      })

      assert {:ok, _} = Native.sync(s)
      assert count(s) == 4

      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('pushed after 503')", [])

      LibsqlSyncServer.fault(server, %{
        method: "POST",
        path: "/sync/",
        action: "status",
        status: 503,
        body: %{},
        times: 2
      })

      assert {:ok, _} = Native.sync(s)
      assert server_rows(server, "SELECT count(*) FROM t WHERE v = 'pushed after 503'") == [[1]]

      # A 4xx is not retried: it is reported, and the push waits for the next sync.
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('after 403')", [])

      LibsqlSyncServer.fault(server, %{
        method: "POST",
        path: "/sync/",
        action: "status",
        status: 403,
        body: %{"error" => "forbidden for now"}
      })

      assert {:error, "Sync error: " <> message} = Native.sync(s)
      assert message =~ "answered HTTP 403"
      assert message =~ "forbidden for now"
      assert {:ok, _} = Native.sync(s)
      assert server_rows(server, "SELECT count(*) FROM t WHERE v = 'after 403'") == [[1]]
    end

    test "sync_interval pushes in the background", %{server: server} do
      s = replica!(server, offline: true, sync_interval: 50)
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('background')", [])

      assert eventually(fn ->
               server_rows(server, "SELECT count(*) FROM t WHERE v = 'background'") == [[1]]
             end)
    end
  end

  # --- offline writes over the Turso sync protocol --------------------------------------------------

  describe "offline writes (Turso sync protocol)" do
    if TursodbServer.binary() == nil,
      do: @describetag(skip: "npm turso (tursodb) is not installed in #{TursodbServer.peers()}")

    defp turso_sync(command, db, server, arg) do
      on_exit(fn -> for f <- Path.wildcard(db <> "*"), do: File.rm(f) end)
      env = [{"ECTO_LIBSQL_PEERS", TursodbServer.peers()}]
      {out, 0} = System.cmd(@node, [@turso_client, command, db, server.url, arg], env: env)
      out
    end

    test "pushed changes reach @tursodatabase/sync and a fresh replica of ours; its pushes come back" do
      server = TursodbServer.start!(database: tmp_db("tursodb"))
      on_exit(fn -> TursodbServer.stop(server) end)

      TursodbServer.exec!(server, [
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
        "INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée')"
      ])

      path = tmp_db("offline_turso")
      on_exit(fn -> for f <- Path.wildcard(path <> "-*"), do: File.rm(f) end)

      s = connect!(database: path, uri: server.url, auth_token: "t", offline: true)

      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('from ours')", [])
      assert {:ok, _} = Native.execute(s, "DELETE FROM t WHERE id = 2", [])
      assert {:ok, "success sync"} = Native.sync(s)

      assert turso_sync("query", tmp_db("js"), server, "SELECT v FROM t ORDER BY id") ==
               "one\nthrée\nfrom ours\n"

      fresh =
        connect!(database: tmp_db("fresh_turso"), uri: server.url, auth_token: "t", sync: true)

      assert rows!(fresh, "SELECT v FROM t ORDER BY id") == [["one"], ["thrée"], ["from ours"]]

      # Its push comes back; a local change made meanwhile is kept and pushed after.
      assert turso_sync(
               "push",
               tmp_db("js2"),
               server,
               ~s<["INSERT INTO t(v) VALUES ('from js')"]>
             ) ==
               "ok\n"

      assert {:ok, _} = Native.execute(s, "UPDATE t SET v = 'ONE' WHERE id = 1", [])
      assert {:ok, _} = Native.sync(s)
      assert {:ok, _} = Native.sync(s)

      assert rows!(s, "SELECT v FROM t ORDER BY id") == [
               ["ONE"],
               ["thrée"],
               ["from ours"],
               ["from js"]
             ]

      assert turso_sync("query", tmp_db("js3"), server, "SELECT v FROM t ORDER BY id") ==
               "ONE\nthrée\nfrom ours\nfrom js\n"
    end
  end
end
