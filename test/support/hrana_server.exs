unless Code.ensure_loaded?(EctoLibSql.TestOsProcess),
  do: Code.require_file("test_os_process.exs", __DIR__)

defmodule EctoLibSql.HranaServer do
  @moduledoc false
  # Starts test/support/hrana_server.js (Node with npm libsql from _build/peers) on a temporary
  # database; stops it by its OS pid. It dies with the VM (EctoLibSql.TestOsProcess).

  alias EctoLibSql.TestOsProcess

  @peers "_build/peers/node_modules"

  @doc "Answers nil when Node and npm libsql are installed, or the reason tests are skipped."
  def missing do
    cond do
      System.find_executable("node") == nil ->
        "node not found on PATH"

      not File.dir?(Path.join(@peers, "libsql")) ->
        "npm libsql not found in #{@peers} (run scripts/setup --no-apt)"

      not File.dir?(Path.join(@peers, "ws")) ->
        "npm ws not found in #{@peers} (run scripts/setup --no-apt)"

      true ->
        nil
    end
  end

  @doc "Starts a server; options: :token, :expire_ms, :base_url_prefix, :v2_only, :port."
  def start!(opts \\ []) do
    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_hrana_#{System.pid()}_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)

    args =
      ["--db", Path.join(dir, "db.sqlite")] ++
        if(t = opts[:token], do: ["--token", t], else: []) ++
        if(e = opts[:expire_ms], do: ["--expire-ms", Integer.to_string(e)], else: []) ++
        if(p = opts[:base_url_prefix], do: ["--base-url-prefix", p], else: []) ++
        if(opts[:v2_only], do: ["--v2-only"], else: []) ++
        port_args(opts[:port])

    start_node!("test/support/hrana_server.js", args, dir)
  end

  @doc """
  The arguments that start a Node test server on `port` (nil: a free one). A port given is a
  killed server's: this waits until its socket has gone.
  """
  def port_args(nil), do: []

  def port_args(port) do
    TestOsProcess.wait_port_free!(port)
    ["--port", Integer.to_string(port)]
  end

  @doc """
  Runs a Node test server script of test/support (NODE_PATH: the npm peers) that prints
  "listening PORT" once ready; answers %{url:, port:, os_pid:, port_ref:, dir:}.
  """
  def start_node!(script, args, dir) do
    %{port_ref: ref} =
      process =
      TestOsProcess.start!(System.find_executable("node"), [script | args], [
        :binary,
        :exit_status,
        {:line, 1024},
        env: [{~c"NODE_PATH", String.to_charlist(Path.expand(@peers))}]
      ])

    name = Path.basename(script)

    port =
      receive do
        {^ref, {:data, {:eol, "listening " <> port}}} -> String.to_integer(port)
        {^ref, {:exit_status, status}} -> raise "#{name} exited with #{status}"
      after
        30_000 -> raise "#{name} did not start"
      end

    Map.merge(process, %{url: "http://127.0.0.1:#{port}", port: port, dir: dir})
  end

  @doc "Kills the server's process (kill -9); its files stay. Idempotent."
  def kill(server), do: TestOsProcess.kill(server)

  def stop(%{dir: dir} = server) do
    kill(server)
    File.rm_rf(dir)
    :ok
  end
end
