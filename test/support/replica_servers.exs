unless Code.ensure_loaded?(EctoLibSql.LibsqlSyncServer),
  do: Code.require_file("libsql_sync_server.exs", __DIR__)

unless Code.ensure_loaded?(EctoLibSql.TursodbServer),
  do: Code.require_file("tursodb_server.exs", __DIR__)

defmodule EctoLibSql.ReplicaServers do
  @moduledoc false
  # The servers an embedded replica syncs with, one per protocol, for tests that run the same
  # cases against each: tursodb --sync-server (the Turso sync protocol), and the libSQL sync test
  # server (test/support/libsql_sync_server.js) serving libSQL's HTTP sync or, with /info
  # answering 404 as sqld does, the gRPC-web replication log. Needs no Hex package.
  #
  #     for {kind, name} <- ReplicaServers.kinds() do
  #       describe name do
  #         setup do: %{server: ReplicaServers.start!(unquote(kind))}
  #         ...

  alias EctoLibSql.{LibsqlSyncServer, TursodbServer}

  @token "replica-test-token"

  @doc "The server kinds and their names: {kind, name}."
  def kinds do
    [
      {:tursodb, "tursodb (Turso sync protocol)"},
      {:libsql_http, "libSQL HTTP sync"},
      {:libsql_grpc, "libSQL gRPC replication log"}
    ]
  end

  @doc "nil when the kind's server can run here, or the reason its tests are skipped."
  def missing(:tursodb) do
    if TursodbServer.binary(),
      do: nil,
      else: "tursodb is not installed in #{TursodbServer.peers()} (run scripts/setup --no-apt)"
  end

  def missing(_libsql), do: LibsqlSyncServer.missing()

  @doc """
  Starts a server of `kind` on a fresh database; it is stopped when the test ends. Answers a map
  with :kind, :url and :token (and the server's own keys).
  """
  def start!(:tursodb) do
    server = TursodbServer.start!()
    ExUnit.Callbacks.on_exit(fn -> TursodbServer.stop(server) end)
    Map.merge(server, %{kind: :tursodb, token: @token})
  end

  def start!(kind) when kind in [:libsql_http, :libsql_grpc] do
    mode = if kind == :libsql_http, do: :both, else: :grpc
    server = LibsqlSyncServer.start!(token: @token, mode: mode)
    ExUnit.Callbacks.on_exit(fn -> LibsqlSyncServer.stop(server) end)
    Map.merge(server, %{kind: kind, token: @token})
  end

  @doc "Kills the server (it is down from now on)."
  def kill(%{kind: :tursodb} = server), do: TursodbServer.kill(server)
  def kill(server), do: LibsqlSyncServer.kill(server)

  @doc "Starts a killed libSQL sync server again on its database and port (not tursodb)."
  def start_again!(%{kind: kind} = server) when kind in [:libsql_http, :libsql_grpc] do
    again = LibsqlSyncServer.start_again!(server)
    ExUnit.Callbacks.on_exit(fn -> LibsqlSyncServer.stop(again) end)
    Map.merge(again, %{kind: kind, token: server.token})
  end

  @doc "Options of a replica of `server` in `database` (`sync: true`), with `extra` merged in."
  def replica_options(server, database, extra \\ []) do
    Keyword.merge(
      [database: database, uri: server.url, auth_token: server.token, sync: true],
      extra
    )
  end

  @doc "Options of a remote connection to `server`."
  def remote_options(server), do: [uri: server.url, auth_token: server.token]

  @doc "Runs statements on the server as another client would (no parameters)."
  def exec!(server, statements) when is_list(statements),
    do: Enum.each(statements, &exec!(server, &1))

  def exec!(%{kind: :tursodb} = server, sql), do: TursodbServer.exec!(server, sql)

  def exec!(server, sql) do
    LibsqlSyncServer.exec!(server, sql)
    :ok
  end

  @doc "The rows of a query run on the server, read over its own HTTP API (not our client)."
  def rows!(%{kind: :tursodb} = server, sql) do
    reply = TursodbServer.pipeline!(server, [sql])

    case LibsqlSyncServer.json_decode(reply)["results"] do
      [%{"type" => "ok", "response" => %{"result" => %{"rows" => rows}}}] ->
        Enum.map(rows, fn row -> Enum.map(row, &hrana_value/1) end)

      other ->
        raise "server query failed: #{inspect(other)}"
    end
  end

  def rows!(server, sql) do
    LibsqlSyncServer.exec!(server, sql)["rows"]
    |> Enum.map(fn row -> Enum.map(row, &debug_value/1) end)
  end

  defp hrana_value(%{"type" => "null"}), do: nil
  defp hrana_value(%{"type" => "integer", "value" => v}), do: String.to_integer(v)
  defp hrana_value(%{"type" => "float", "value" => v}), do: v
  defp hrana_value(%{"type" => "text", "value" => v}), do: v
  defp hrana_value(%{"type" => "blob", "base64" => v}), do: Base.decode64!(v, padding: false)

  defp debug_value(%{"base64" => v}), do: Base.decode64!(v)
  defp debug_value(v), do: v
end
