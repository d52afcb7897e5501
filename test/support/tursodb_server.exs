defmodule EctoLibSql.TursodbServer do
  @moduledoc false
  # Starts `tursodb FILE --sync-server 127.0.0.1:PORT` (npm turso, installed into _build/peers by
  # scripts/setup) on a temporary database and stops it by its OS pid.

  @binary "_build/peers/node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb"

  def binary, do: Path.expand(@binary, File.cwd!())

  @doc "Answers nil when tursodb is installed, or the reason the remote tests are skipped."
  def missing do
    if File.exists?(binary()),
      do: nil,
      else: "tursodb not found at #{@binary} (run scripts/setup --no-apt to install npm peers)"
  end

  @doc "Starts a server; answers %{url:, port:, os_pid:, port_ref:, dir:}."
  def start!(opts \\ []) do
    dir =
      Path.join(System.tmp_dir!(), "ecto_libsql_tursodb_#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)
    db = Path.join(dir, "remote.db")
    port = Keyword.get_lazy(opts, :port, &free_port/0)

    ref =
      Port.open({:spawn_executable, binary()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: [db, "--sync-server", "127.0.0.1:#{port}"],
        cd: dir
      ])

    {:os_pid, os_pid} = Port.info(ref, :os_pid)

    server = %{
      url: "http://127.0.0.1:#{port}",
      port: port,
      os_pid: os_pid,
      port_ref: ref,
      dir: dir
    }

    wait_ready!(port, 100)
    server
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

  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp wait_ready!(_port, 0), do: raise("tursodb did not start")

  defp wait_ready!(port, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, socket} ->
        :gen_tcp.close(socket)

      {:error, _} ->
        Process.sleep(50)
        wait_ready!(port, tries - 1)
    end
  end
end
