defmodule EctoLibSql.TursoServer do
  @moduledoc false
  # A real `tursodb --sync-server` (npm `turso`, installed into _build/peers by scripts/setup)
  # on a free loopback port, stopped after the test; SQL goes to it over /v2/pipeline.

  @peers System.get_env("ECTO_LIBSQL_PEERS") || Path.expand("../../../_build/peers", __DIR__)
  @binary Path.join([@peers, "node_modules", "@tursodatabase", "cli-linux-x64-gnu", "tursodb"])

  def peers, do: @peers

  @doc "The tursodb binary, or nil when the npm peers are not installed."
  def binary, do: if(File.exists?(@binary), do: @binary)

  @doc "Starts a server on a fresh database file; it is stopped when the test ends."
  def start!(db_path) do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)

    erl_port =
      Port.open({:spawn_executable, binary()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: [db_path, "--sync-server", "127.0.0.1:#{port}"]
      ])

    {:os_pid, os_pid} = Port.info(erl_port, :os_pid)
    server = %{port: port, os_pid: os_pid, url: "http://127.0.0.1:#{port}"}
    ExUnit.Callbacks.on_exit(fn -> stop(server) end)
    wait_until_listening(port, 200)
    server
  end

  def stop(%{os_pid: os_pid}) do
    System.cmd("kill", ["-9", Integer.to_string(os_pid)], stderr_to_stdout: true)
    :ok
  end

  defp wait_until_listening(port, 0), do: raise("tursodb did not start on port #{port}")

  defp wait_until_listening(port, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, s} ->
        :gen_tcp.close(s)

      _ ->
        Process.sleep(25)
        wait_until_listening(port, tries - 1)
    end
  end

  @doc "Runs statements (no parameters) on the server; raises when one fails."
  def exec!(%{url: url}, statements) when is_list(statements) do
    {:ok, _} = Application.ensure_all_started(:inets)

    requests =
      Enum.map_join(statements, ",", fn sql ->
        ~s({"type":"execute","stmt":{"sql":"#{escape(sql)}"}})
      end)

    body = ~s({"baton":null,"requests":[#{requests}]})

    {:ok, {{_, 200, _}, _, reply}} =
      :httpc.request(
        :post,
        {String.to_charlist(url <> "/v2/pipeline"), [], ~c"application/json", body},
        [timeout: 30_000],
        body_format: :binary
      )

    if String.contains?(reply, ~s("type":"error")), do: raise("server SQL failed: #{reply}")
    :ok
  end

  def exec!(server, sql) when is_binary(sql), do: exec!(server, [sql])

  defp escape(sql), do: sql |> String.replace("\\", "\\\\") |> String.replace("\"", "\\\"")
end
