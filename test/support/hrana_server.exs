defmodule EctoLibSql.HranaServer do
  @moduledoc false
  # Starts test/support/hrana_server.js (Node with npm libsql from _build/peers) on a temporary
  # database; stops it by its OS pid.

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
    dir = Path.join(System.tmp_dir!(), "ecto_libsql_hrana_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)

    args =
      ["test/support/hrana_server.js", "--db", Path.join(dir, "db.sqlite")] ++
        if(t = opts[:token], do: ["--token", t], else: []) ++
        if(e = opts[:expire_ms], do: ["--expire-ms", Integer.to_string(e)], else: []) ++
        if(p = opts[:base_url_prefix], do: ["--base-url-prefix", p], else: []) ++
        if(opts[:v2_only], do: ["--v2-only"], else: []) ++
        if(p = opts[:port], do: ["--port", Integer.to_string(p)], else: [])

    ref =
      Port.open({:spawn_executable, System.find_executable("node")}, [
        :binary,
        :exit_status,
        {:line, 1024},
        args: args,
        env: [{~c"NODE_PATH", String.to_charlist(Path.expand(@peers))}]
      ])

    {:os_pid, os_pid} = Port.info(ref, :os_pid)

    port =
      receive do
        {^ref, {:data, {:eol, "listening " <> port}}} -> String.to_integer(port)
        {^ref, {:exit_status, status}} -> raise "hrana_server.js exited with #{status}"
      after
        10_000 -> raise "hrana_server.js did not start"
      end

    %{url: "http://127.0.0.1:#{port}", port: port, os_pid: os_pid, port_ref: ref, dir: dir}
  end

  def stop(%{os_pid: os_pid, port_ref: ref, dir: dir}) do
    System.cmd("kill", ["-9", Integer.to_string(os_pid)], stderr_to_stdout: true)

    try do
      Port.close(ref)
    rescue
      ArgumentError -> :ok
    end

    File.rm_rf(dir)
    :ok
  end
end
