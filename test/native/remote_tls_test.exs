Code.require_file("../support/hrana_server.exs", __DIR__)

unless Code.ensure_loaded?(EctoLibSql.TlsProxy),
  do: Code.require_file("../support/tls_proxy.exs", __DIR__)

defmodule EctoLibSql.Native.RemoteTlsTest do
  # Remote connections over https://, libsql:// and wss:// through a real TLS endpoint on
  # loopback (test/support/tls_proxy.js in front of the Hrana test server), with a self-signed
  # certificate for "localhost" trusted through the tls_ca_file option.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, HranaServer, Native, TlsProxy}

  cond do
    reason = HranaServer.missing() -> @moduletag skip: reason
    reason = TlsProxy.missing() -> @moduletag skip: reason
    true -> :ok
  end

  @moduletag :remote

  setup do
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_rtls_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf(dir) end)
    {cert, key} = TlsProxy.certificate!(dir)
    server = HranaServer.start!(token: "t")
    on_exit(fn -> HranaServer.stop(server) end)
    %{port: TlsProxy.start!(cert, key, server.port), cert: cert}
  end

  test "https://, libsql:// and wss:// with the certificate trusted through tls_ca_file",
       %{port: port, cert: cert} do
    for scheme <- ["https", "libsql", "wss"] do
      {:ok, s} =
        Native.connect(uri: "#{scheme}://localhost:#{port}", auth_token: "t", tls_ca_file: cert)

      {:ok, _} = Native.execute(s, "CREATE TABLE IF NOT EXISTS t(v TEXT)", [])
      {:ok, _} = Native.execute(s, "INSERT INTO t VALUES (?)", [scheme])
      assert rows!(s, "SELECT count(*) FROM t WHERE v = ?", [scheme]) == [[1]]
      # A transaction keeps its stream over the encrypted connection.
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES ('tx')", [])
      {:ok, _} = Native.rollback(t)
      assert rows!(s, "SELECT count(*) FROM t WHERE v = 'tx'") == [[0]]
      Native.close(s)
    end
  end

  test "the system store does not trust the test's certificate", %{port: port} do
    for scheme <- ["https", "wss"] do
      assert {:error, %Error{message: message}} =
               Native.connect(uri: "#{scheme}://localhost:#{port}", auth_token: "t")

      assert message =~ "certificate verify failed"
    end
  end

  test "a certificate for another host name is refused", %{port: port, cert: cert} do
    for scheme <- ["https", "wss"] do
      assert {:error, %Error{message: message}} =
               Native.connect(
                 uri: "#{scheme}://127.0.0.1:#{port}",
                 auth_token: "t",
                 tls_ca_file: cert
               )

      assert message =~ "hostname mismatch" or message =~ "certificate verify failed"
    end
  end

  test "a tls_ca_file that cannot be read is a clear error", %{port: port} do
    for scheme <- ["https", "wss"] do
      assert {:error, %Error{message: message}} =
               Native.connect(
                 uri: "#{scheme}://localhost:#{port}",
                 auth_token: "t",
                 tls_ca_file: "/nonexistent/ca.pem"
               )

      assert message =~ "cannot load the trusted certificates from /nonexistent/ca.pem"
    end
  end
end
