unless Code.ensure_loaded?(EctoLibSql.TursodbServer),
  do: Code.require_file("../support/tursodb_server.exs", __DIR__)

unless Code.ensure_loaded?(EctoLibSql.TlsProxy),
  do: Code.require_file("../support/tls_proxy.exs", __DIR__)

unless Code.ensure_loaded?(EctoLibSql.LibsqlSyncServer),
  do: Code.require_file("../support/libsql_sync_server.exs", __DIR__)

defmodule EctoLibSql.Native.ReplicaTlsTest do
  # Embedded replicas syncing over https:// and libsql:// through a real TLS endpoint on
  # loopback: test/support/tls_proxy.js (Node https) in front of tursodb --sync-server, with a
  # self-signed certificate for "localhost" made by `openssl req` and trusted through the
  # tls_ca_file option.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{LibsqlSyncServer, Native, TlsProxy, TursodbServer}

  cond do
    TursodbServer.binary() == nil ->
      @moduletag skip: "npm turso (tursodb) is not installed in #{TursodbServer.peers()}"

    TlsProxy.missing() != nil ->
      @moduletag skip: TlsProxy.missing()

    true ->
      :ok
  end

  setup do
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_tls_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf(dir) end)
    {cert, key} = TlsProxy.certificate!(dir)
    server = TursodbServer.start!(database: Path.join(dir, "server.db"))
    on_exit(fn -> TursodbServer.stop(server) end)

    TursodbServer.exec!(server, [
      "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
      "INSERT INTO t(v) VALUES ('one'), ('two'), ('three')"
    ])

    port = TlsProxy.start!(cert, key, server.port)
    %{server: server, port: port, dir: dir, cert: cert, key: key}
  end

  defp connect_replica(uri, path, ca_file) do
    on_exit(fn -> File.rm(path <> "-sync") end)
    opts = [database: path, uri: uri, auth_token: "token", sync: true]
    Native.connect(if ca_file, do: [tls_ca_file: ca_file] ++ opts, else: opts)
  end

  test "https:// and libsql:// sync over TLS", %{server: server, port: port, cert: cert} do
    for scheme <- ["https", "libsql"] do
      {:ok, s} = connect_replica("#{scheme}://localhost:#{port}", tmp_db(scheme), cert)
      on_exit(fn -> Native.close(s) end)

      assert rows!(s, "SELECT v FROM t WHERE id <= 3 ORDER BY id") == [
               ["one"],
               ["two"],
               ["three"]
             ]

      TursodbServer.exec!(server, "INSERT INTO t(v) VALUES ('#{scheme}')")
      assert {:ok, "success sync"} = Native.sync(s)
      assert rows!(s, "SELECT v FROM t ORDER BY id DESC LIMIT 1") == [[scheme]]
    end
  end

  test "a certificate for another host name is refused", %{port: port, cert: cert} do
    path = tmp_db("wrong_host")

    assert {:error, %EctoLibSql.Error{message: message}} =
             connect_replica("https://127.0.0.1:#{port}", path, cert)

    assert message =~ "TLS handshake with 127.0.0.1 failed"
    assert message =~ "hostname mismatch"
    refute File.exists?(path)
  end

  test "an untrusted certificate is refused", %{port: port} do
    path = tmp_db("untrusted")

    # The system store does not know the test's self-signed certificate.
    assert {:error, %EctoLibSql.Error{message: message}} =
             connect_replica("https://localhost:#{port}", path, nil)

    assert message ==
             "sync server localhost:#{port} unreachable: TLS handshake with localhost failed: " <>
               "certificate verify failed (SSL routines) (self-signed certificate)"

    refute File.exists?(path)
  end

  test "libSQL's HTTP sync and gRPC replication log over TLS, writes forwarded too", %{
    cert: cert,
    key: key
  } do
    if reason = LibsqlSyncServer.missing(), do: flunk(reason)

    for mode <- [:both, :grpc] do
      server = LibsqlSyncServer.start!(token: "tls-token", mode: mode)
      on_exit(fn -> LibsqlSyncServer.stop(server) end)
      LibsqlSyncServer.exec!(server, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
      port = TlsProxy.start!(cert, key, server.port)
      path = tmp_db("tls_#{mode}")
      on_exit(fn -> for f <- Path.wildcard(path <> "-*"), do: File.rm(f) end)

      s =
        connect!(
          database: path,
          uri: "libsql://localhost:#{port}",
          auth_token: "tls-token",
          sync: true,
          tls_ca_file: cert
        )

      LibsqlSyncServer.exec!(server, "INSERT INTO t(v) VALUES ('pulled over TLS')")
      assert {:ok, "success sync"} = Native.sync(s)
      assert {:ok, _} = Native.execute(s, "INSERT INTO t(v) VALUES ('written over TLS')", [])

      assert rows!(s, "SELECT v FROM t ORDER BY id") == [
               ["pulled over TLS"],
               ["written over TLS"]
             ]

      Native.close(s)

      # Without the CA, the certificate is refused before anything is written.
      other = tmp_db("tls_untrusted_#{mode}")

      assert {:error, %EctoLibSql.Error{message: message}} =
               Native.connect(
                 database: other,
                 uri: "https://localhost:#{port}",
                 auth_token: "tls-token",
                 sync: true
               )

      assert message =~ "certificate verify failed"
      refute File.exists?(other)
    end
  end
end
