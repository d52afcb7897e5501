unless Code.ensure_loaded?(EctoLibSql.TursodbServer),
  do: Code.require_file("../support/tursodb_server.exs", __DIR__)

defmodule EctoLibSql.Native.ReplicaTest do
  # Embedded replicas against a real tursodb --sync-server, and side by side with the official
  # Turso sync client (npm @tursodatabase/sync).
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, State, TursodbServer}

  @node System.find_executable("node")
  @sync_script Path.expand("../peers/turso_sync_client.js", __DIR__)
  @sync_client_installed File.dir?(
                           Path.join([
                             TursodbServer.peers(),
                             "node_modules",
                             "@tursodatabase",
                             "sync"
                           ])
                         )

  if TursodbServer.binary() == nil do
    IO.puts(
      "ecto_libsql: NOT RUN: embedded replica tests (tursodb missing in #{TursodbServer.peers()}; " <>
        "run scripts/setup --no-apt)"
    )

    @moduletag skip: "npm turso (tursodb) is not installed in #{TursodbServer.peers()}"
  end

  setup do
    server = TursodbServer.start!(database: tmp_db("server"))
    on_exit(fn -> TursodbServer.stop(server) end)

    TursodbServer.exec!(server, [
      "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
      "INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée')"
    ])

    %{server: server}
  end

  defp replica!(server, extra \\ []) do
    path = Keyword.get_lazy(extra, :database, fn -> tmp_db("replica") end)
    on_exit(fn -> File.rm(path <> "-sync") end)

    connect!(
      [database: path, uri: server.url, auth_token: "token", sync: true]
      |> Keyword.merge(extra)
    )
  end

  defp count(s, table \\ "t"), do: rows!(s, "SELECT count(*) FROM #{table}") |> hd() |> hd()

  test "connect bootstraps the file and serves reads locally", %{server: server} do
    s = replica!(server)
    assert s.mode == :remote_replica
    assert rows!(s, "SELECT v FROM t ORDER BY id") == [["one"], ["two"], ["thrée"]]
    assert {:ok, frame} = Native.get_frame_number_for_replica(s)
    assert frame > 0
    assert {:ok, ^frame} = Native.flush_and_get_frame(s)
    assert {:ok, 0} = Native.get_max_write_frame(s)
    assert Native.get_frame_number(s.conn_id) == frame
  end

  test "sync pulls the server's writes; sync_until_frame waits for a position",
       %{server: server} do
    s = replica!(server, sync: false)
    {:ok, before} = Native.get_frame_number_for_replica(s)
    TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('four')")
    assert count(s) == 3
    assert {:ok, "success sync"} = Native.sync(s)
    assert count(s) == 4
    {:ok, now} = Native.get_frame_number_for_replica(s)
    assert now > before

    TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('five')")
    assert :ok = Native.sync_until_frame(s, now + 1)
    assert count(s) == 5
    assert :ok = Native.sync_until_frame(s, 0)
  end

  test "schema changes and 10,000 rows", %{server: server} do
    s = replica!(server)

    TursodbServer.exec!(server, ["CREATE TABLE big(id INTEGER PRIMARY KEY, v TEXT)"])

    for batch <- 1..10 do
      values = Enum.map_join(1..1000, ",", fn i -> "('#{batch}-#{i}')" end)
      TursodbServer.exec!(server, "INSERT INTO big(v) VALUES " <> values)
    end

    TursodbServer.exec!(server, "ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7")
    assert {:ok, _} = Native.sync(s)
    assert count(s, "big") == 10_000
    assert rows!(s, "SELECT * FROM t WHERE id = 1") == [[1, "one", 7]]
    assert rows!(s, "PRAGMA integrity_check") == [["ok"]]
  end

  test "transactions, prepared statements and cursors read the local file", %{server: server} do
    s = replica!(server)
    assert {:ok, tx} = Native.begin(s)

    assert {:ok, %EctoLibSql.Result{rows: [[3]]}} =
             Native.execute(tx, "SELECT count(*) FROM t", [])

    assert {:ok, _} = Native.commit(tx)
    {:ok, stmt} = Native.prepare(s, "SELECT v FROM t WHERE id = ?")
    assert {:ok, %{rows: [["thrée"]]}} = Native.query_stmt(s, stmt, [3])
    Native.close_stmt(stmt)
  end

  test "server down: reads keep working and sync answers a clear error", %{server: server} do
    s = replica!(server)
    TursodbServer.stop(server)
    assert {:error, "Sync error: " <> message} = Native.sync(s)
    assert message =~ "unreachable"
    assert count(s) == 3
    assert {:error, _} = Native.sync_until_frame(s, 1_000_000)
  end

  test "sync_interval syncs in the background", %{server: server} do
    s = replica!(server, sync_interval: 50)
    TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('four')")
    assert eventually(fn -> count(s) == 4 end)
  end

  test "writes go to the primary or fail clearly", %{server: server} do
    s = replica!(server)

    case Native.execute(s, "INSERT INTO t(v) VALUES ('five')", []) do
      {:error, %EctoLibSql.Error{message: message}} ->
        assert message =~ "cannot forward the write to the primary"
        assert count(s) == 3

      {:ok, _} ->
        assert count(s) == 4
        assert {:ok, n} = Native.get_max_write_frame(s)
        assert n > 0
    end
  end

  test "freeze_replica turns the replica into a local database", %{server: server} do
    path = tmp_db("frozen")
    s = replica!(server, database: path)
    assert {:ok, %State{mode: :local} = frozen} = Native.freeze_replica(s)
    refute File.exists?(path <> "-sync")
    assert {:ok, _} = Native.execute(frozen, "INSERT INTO t(v) VALUES ('local')", [])
    assert count(frozen) == 4
  end

  describe "encrypted (encryption_key)" do
    @key "0123456789abcdef0123456789abcdef-replica"
    @marker "plaintext-marker-5d1e8b"

    defp plaintext?(path) do
      Enum.any?(["", "-journal", "-integrity", ".bootstrap"], fn suffix ->
        case File.read(path <> suffix) do
          {:ok, bytes} -> String.contains?(bytes, @marker)
          _ -> false
        end
      end)
    end

    defp encrypted_replica!(server, path, extra \\ []) do
      on_exit(fn -> File.rm(path <> "-integrity") end)
      replica!(server, [database: path, encryption_key: @key] ++ extra)
    end

    test "bootstrap, pull and read-your-writes write ciphertext only", %{server: server} do
      TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('#{@marker}')")

      # Control: a plain replica of the same server holds the marker in plaintext.
      plain = tmp_db("plain")
      replica!(server, database: plain)
      assert plaintext?(plain)

      path = tmp_db("encrypted")
      s = encrypted_replica!(server, path)
      assert count(s) == 4
      assert rows!(s, "SELECT v FROM t WHERE id = 4") == [[@marker]]
      refute plaintext?(path)
      refute File.read!(path) =~ "SQLite format 3"

      TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('#{@marker}-pulled')")
      assert {:ok, "success sync"} = Native.sync(s)
      assert count(s) == 5

      case Native.execute(s, "INSERT INTO t(v) VALUES ('#{@marker}-written')", []) do
        {:error, %EctoLibSql.Error{message: message}} ->
          assert message =~ "cannot forward the write to the primary"

        {:ok, _} ->
          assert rows!(s, "SELECT count(*) FROM t WHERE v = '#{@marker}-written'") == [[1]]
      end

      assert rows!(s, "PRAGMA integrity_check") == [["ok"]]
      refute plaintext?(path)
    end

    test "a wrong or missing key is refused as in local mode", %{server: server} do
      path = tmp_db("encrypted")
      s = encrypted_replica!(server, path)
      Native.close(s)
      opts = [database: path, uri: server.url, auth_token: "t", sync: true]

      assert {:error, %EctoLibSql.Error{message: message}} =
               Native.connect(opts ++ [encryption_key: String.duplicate("w", 40)])

      assert message ==
               "Failed to connect to #{path}: file is not a database, or the encryption key is wrong"

      assert {:error, %EctoLibSql.Error{message: no_key}} = Native.connect(opts)
      assert no_key =~ "the database is encrypted; give its encryption_key"

      assert {:error, %EctoLibSql.Error{message: short}} =
               Native.connect(opts ++ [encryption_key: "short"])

      assert short =~ "at least 32 characters"
      s = connect!(opts ++ [encryption_key: @key])
      assert count(s) == 3
    end

    test "freeze_replica leaves an encrypted local database", %{server: server} do
      TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('#{@marker}')")
      path = tmp_db("frozen")
      s = encrypted_replica!(server, path)
      assert {:ok, %State{mode: :local} = frozen} = Native.freeze_replica(s)
      assert {:ok, _} = Native.execute(frozen, "INSERT INTO t(v) VALUES ('local')", [])
      Native.close(frozen)
      refute File.exists?(path <> "-sync")
      refute plaintext?(path)

      local = connect!(database: path, encryption_key: @key)
      assert count(local) == 5
      assert rows!(local, "PRAGMA integrity_check") == [["ok"]]
      Native.close(local)
      assert {:error, _} = Native.connect(database: path)
    end
  end

  describe "with the official Turso sync client" do
    if @node == nil or not @sync_client_installed do
      @describetag skip:
                     "node or npm @tursodatabase/sync is not installed in #{TursodbServer.peers()}"
    end

    defp js(command, db, server, arg) do
      env = [{"ECTO_LIBSQL_PEERS", TursodbServer.peers()}]
      {out, 0} = System.cmd(@node, [@sync_script, command, db, server.url, arg], env: env)
      out
    end

    test "rows it pushes appear after our sync; server rows appear in both", %{server: server} do
      s = replica!(server)
      js_db = tmp_db("js")
      on_exit(fn -> for f <- Path.wildcard(js_db <> "*"), do: File.rm(f) end)

      assert js("push", js_db, server, ~s<["INSERT INTO t(v) VALUES ('from js')"]>) == "ok\n"
      assert {:ok, _} = Native.sync(s)
      assert rows!(s, "SELECT v FROM t WHERE id = 4") == [["from js"]]

      TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('from server')")
      assert {:ok, _} = Native.sync(s)
      assert rows!(s, "SELECT v FROM t ORDER BY id DESC LIMIT 1") == [["from server"]]

      assert js("query", js_db, server, "SELECT v FROM t ORDER BY id") ==
               "one\ntwo\nthrée\nfrom js\nfrom server\n"
    end
  end
end
