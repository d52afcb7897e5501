unless Code.ensure_loaded?(EctoLibSql.TestOsProcess),
  do: Code.require_file("test_os_process.exs", __DIR__)

defmodule EctoLibSql.TursodbServer do
  @moduledoc false
  # A real `tursodb FILE --sync-server 127.0.0.1:PORT` (npm turso, installed into _build/peers
  # by scripts/setup, or into $ECTO_LIBSQL_PEERS): the remote server of remote-mode tests and
  # the sync server of replica tests. The only launcher of tursodb in the tests and benchmarks;
  # it dies with the VM (EctoLibSql.TestOsProcess). SQL goes to it over /v2/pipeline (exec!/2).

  alias EctoLibSql.TestOsProcess

  @peers System.get_env("ECTO_LIBSQL_PEERS") || Path.expand("../../_build/peers", __DIR__)
  @binary Path.join([@peers, "node_modules", "@tursodatabase", "cli-linux-x64-gnu", "tursodb"])

  @doc "Where the npm peers are installed."
  def peers, do: @peers

  @doc "The tursodb binary, or nil when the npm peers are not installed."
  def binary, do: if(File.exists?(@binary), do: @binary)

  @doc "Answers nil when tursodb is installed, or the reason the tests that need it are skipped."
  def missing do
    if binary(),
      do: nil,
      else: "tursodb not found at #{@binary} (run scripts/setup --no-apt to install npm peers)"
  end

  @doc """
  Starts a server; answers %{url:, port:, os_pid:, port_ref:, dir:, database:}. Options:
  `:database` (a file; by default `remote.db` in a new temporary directory, which stop/1
  removes) and `:port` (by default a free one). The caller stops it (on_exit).
  """
  def start!(opts \\ []) do
    {database, dir} =
      case Keyword.fetch(opts, :database) do
        {:ok, database} ->
          {database, nil}

        :error ->
          dir =
            Path.join(
              System.tmp_dir!(),
              "ecto_libsql_tursodb_#{System.pid()}_#{System.unique_integer([:positive])}"
            )

          File.mkdir_p!(dir)
          {Path.join(dir, "remote.db"), dir}
      end

    start = fn port ->
      TestOsProcess.start!(binary(), [database, "--sync-server", "127.0.0.1:#{port}"], [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        cd: Path.dirname(database)
      ])
    end

    {process, port} =
      case Keyword.fetch(opts, :port) do
        # A port given is a killed server's: wait until its socket has gone.
        {:ok, port} ->
          TestOsProcess.wait_port_free!(port)
          process = start.(port)
          TestOsProcess.wait_listening!(process, port, "tursodb did not start on port #{port}")
          {process, port}

        :error ->
          TestOsProcess.start_on_free_port!(start, "tursodb did not start")
      end

    Map.merge(process, %{
      url: "http://127.0.0.1:#{port}",
      port: port,
      dir: dir,
      database: database
    })
  end

  @doc "Kills the server (kill -9); its files stay. Idempotent."
  def kill(server), do: TestOsProcess.kill(server)

  @doc "Kills the server and removes its directory if start!/1 made it. Idempotent."
  def stop(server) do
    kill(server)
    if server.dir, do: File.rm_rf(server.dir)
    :ok
  end

  defdelegate free_port, to: TestOsProcess

  @doc "Sends statements (no parameters) to the server's /v2/pipeline; answers the reply body."
  def pipeline!(%{url: url}, statements) when is_list(statements) do
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

    reply
  end

  @doc "Runs statements (no parameters) on the server; raises when one fails."
  def exec!(server, statements) when is_list(statements) do
    reply = pipeline!(server, statements)
    if String.contains?(reply, ~s("type":"error")), do: raise("server SQL failed: #{reply}")
    :ok
  end

  def exec!(server, sql) when is_binary(sql), do: exec!(server, [sql])

  # A JSON string's contents (SQL may hold quotes, backslashes and line breaks).
  defp escape(sql) do
    for <<c::utf8 <- sql>>, into: "" do
      case c do
        ?" -> "\\\""
        ?\\ -> "\\\\"
        c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
        c -> <<c::utf8>>
      end
    end
  end
end
