unless Code.ensure_loaded?(EctoLibSql.TestOsProcess),
  do: Code.require_file("test_os_process.exs", __DIR__)

defmodule EctoLibSql.TlsProxy do
  @moduledoc false
  # A real TLS endpoint on loopback for the TLS tests: test/support/tls_proxy.js (Node https) in
  # front of a plain HTTP server (tursodb --sync-server or the Hrana test server), with a
  # self-signed certificate for "localhost" made by `openssl req`, trusted through the
  # tls_ca_file option. It dies with the VM (EctoLibSql.TestOsProcess).

  alias EctoLibSql.TestOsProcess

  @node System.find_executable("node")
  @openssl System.find_executable("openssl")
  @script Path.expand("tls_proxy.js", __DIR__)

  @doc "Answers nil when node and openssl are installed, or the reason tests are skipped."
  def missing do
    if @node == nil or @openssl == nil, do: "node and openssl are needed for the TLS endpoint"
  end

  @doc "Writes a self-signed certificate for localhost into `dir`: {cert_pem, key_pem}."
  def certificate!(dir) do
    cert = Path.join(dir, "cert.pem")
    key = Path.join(dir, "key.pem")

    {_, 0} =
      System.cmd(
        @openssl,
        ~w(req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1
           -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout) ++
          [key, "-out", cert],
        stderr_to_stdout: true
      )

    {cert, key}
  end

  @doc """
  Starts the proxy in front of 127.0.0.1:`target` and answers its port. It exits when its
  standard input (the port) closes and is also killed when the test exits.
  """
  def start!(cert, key, target) do
    {proxy, port} =
      TestOsProcess.start_on_free_port!(
        fn port ->
          TestOsProcess.start!(
            @node,
            [@script, cert, key, Integer.to_string(port), Integer.to_string(target)],
            [:binary, :exit_status, :stderr_to_stdout]
          )
        end,
        "the TLS proxy did not start"
      )

    ExUnit.Callbacks.on_exit(fn -> TestOsProcess.kill(proxy) end)
    port
  end
end
