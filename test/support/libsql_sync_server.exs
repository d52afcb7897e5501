Code.require_file("hrana_server.exs", __DIR__)

defmodule EctoLibSql.LibsqlSyncServer do
  @moduledoc false
  # Starts test/support/libsql_sync_server.js (libSQL's HTTP sync and gRPC-web replication
  # protocols over a real SQLite database, with Hrana on the same URL; see the top of that file)
  # on a temporary database, and drives its debug routes. Needs no Hex package (JSON is read and
  # written here), so that test/native can use it in the suite without Hex.
  #
  #     server = LibsqlSyncServer.start!(token: "t", mode: :grpc)
  #     LibsqlSyncServer.exec!(server, "INSERT INTO t VALUES (?)", [1])
  #     LibsqlSyncServer.requests(server)  #=> ["GET /info 404", "POST /wal_log.ReplicationLog/Hello 200", ...]
  #     LibsqlSyncServer.fault(server, %{method: "POST", path: "/sync/", at: "response", action: "exit"})
  #     server = LibsqlSyncServer.restart!(server)
  #     LibsqlSyncServer.stop(server)

  alias EctoLibSql.HranaServer

  @script "test/support/libsql_sync_server.js"

  @doc "Answers nil when Node and the npm peers are installed, or the reason tests are skipped."
  def missing, do: HranaServer.missing()

  @doc """
  Starts a server. Options: :token, :mode (:both (default), :grpc, :http), :namespace,
  :v1_batch_frames, :port, :dir (the directory of a stopped server, whose database and state it
  carries on with). Answers %{url:, port:, os_pid:, port_ref:, dir:, args:}.
  """
  def start!(opts \\ []) do
    dir =
      opts[:dir] ||
        Path.join(
          System.tmp_dir!(),
          "ecto_libsql_sync_#{System.pid()}_#{System.unique_integer([:positive])}"
        )

    File.mkdir_p!(dir)

    args =
      ["--db", Path.join(dir, "server.db")] ++
        if(t = opts[:token], do: ["--token", t], else: []) ++
        if(m = opts[:mode], do: ["--mode", Atom.to_string(m)], else: []) ++
        if(n = opts[:namespace], do: ["--namespace", n], else: []) ++
        if(b = opts[:v1_batch_frames], do: ["--v1-batch-frames", Integer.to_string(b)], else: []) ++
        if(k = opts[:encryption_key], do: ["--encryption-key", k], else: [])

    server = HranaServer.start_node!(@script, args ++ HranaServer.port_args(opts[:port]), dir)
    Map.put(server, :args, args)
  end

  @doc "Kills the server and starts it again on the same database, state and port."
  def restart!(server) do
    kill(server)
    start_again!(server)
  end

  @doc "Starts a killed server (or one that died of an \"exit\" fault) again, as restart!/1."
  def start_again!(%{args: args, port: port, dir: dir}) do
    server = HranaServer.start_node!(@script, args ++ HranaServer.port_args(port), dir)
    Map.put(server, :args, args)
  end

  @doc "Kills the server's process (the server is down); its files stay for start_again!/1."
  def kill(server), do: HranaServer.kill(server)

  @doc "Kills the server and removes its files."
  def stop(server), do: HranaServer.stop(server)

  @doc "GET /debug/stats: generation, frames, v1_next_frame_no, pushed_frames, conflicts, requests..."
  def stats(server), do: debug!(server, :get, "/debug/stats")

  @doc "The requests since the last call, as \"METHOD path status\" strings; clears the log."
  def requests(server) do
    Enum.map(request_log(server), fn e ->
      grpc = if s = e["grpc_status"], do: " grpc-status #{s}", else: ""
      cut = if e["cut"], do: " (cut)", else: ""
      "#{e["method"]} #{e["path"]} #{e["status"]}#{grpc}#{cut}"
    end)
  end

  @doc "The requests since the last call as the server logged them (maps); clears the log."
  def request_log(server) do
    log = debug!(server, :get, "/debug/requests")
    debug!(server, :delete, "/debug/requests")
    log
  end

  @doc "Starts the next generation (HTTP sync); answers its number."
  def new_generation(server),
    do: debug!(server, :post, "/debug/new-generation")["generation"]

  @doc "Compacts the gRPC log (older offsets need a snapshot); answers the first frame_no served."
  def compact(server), do: debug!(server, :post, "/debug/compact")["snapshot_frame_no"]

  @doc """
  Runs one statement on the server (arguments: nil, integers, floats, strings, {:blob, binary});
  answers %{"columns" => [...], "rows" => [[...]], "affected" => n, "last_insert_rowid" => n}
  (blobs come back as %{"base64" => ...}).
  """
  def exec!(server, sql, args \\ []) do
    args =
      Enum.map(args, fn
        {:blob, b} -> %{"base64" => Base.encode64(b)}
        v -> v
      end)

    debug!(server, :post, "/debug/exec", %{"sql" => sql, "args" => args})
  end

  @doc "Arms a fault (see the top of libsql_sync_server.js), e.g. %{path: \"/sync/\", at: \"response\"}."
  def fault(server, spec) when is_map(spec) do
    debug!(server, :post, "/debug/fault", spec)
    :ok
  end

  @doc "Disarms every fault."
  def clear_faults(server) do
    debug!(server, :delete, "/debug/fault")
    :ok
  end

  defp debug!(%{url: url}, method, route, body \\ nil) do
    {:ok, _} = Application.ensure_all_started(:inets)
    target = String.to_charlist(url <> route)

    request =
      if method == :post,
        do: {target, [], ~c"application/json", encode(body || %{})},
        else: {target, []}

    case :httpc.request(method, request, [timeout: 30_000], body_format: :binary) do
      {:ok, {{_, 200, _}, _, reply}} -> decode(reply)
      other -> raise "#{method} #{route}: #{inspect(other)}"
    end
  end

  # JSON, enough for the debug routes (and the npm libsql replica driver of the replica tests).

  @doc "JSON text of nil, booleans, numbers, strings, lists and maps."
  def json_encode(value), do: encode(value)

  @doc "The value of a JSON text (objects as maps with string keys)."
  def json_decode(text), do: decode(text)

  defp encode(nil), do: "null"
  defp encode(true), do: "true"
  defp encode(false), do: "false"
  defp encode(v) when is_integer(v) or is_float(v), do: to_string(v)
  defp encode(v) when is_atom(v), do: encode(Atom.to_string(v))

  defp encode(v) when is_binary(v) do
    escaped =
      for <<c::utf8 <- v>>, into: "" do
        case c do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
          c -> <<c::utf8>>
        end
      end

    "\"" <> escaped <> "\""
  end

  defp encode(v) when is_list(v), do: "[" <> Enum.map_join(v, ",", &encode/1) <> "]"

  defp encode(v) when is_map(v),
    do:
      "{" <>
        Enum.map_join(v, ",", fn {k, x} -> encode(to_string(k)) <> ":" <> encode(x) end) <> "}"

  defp decode(text) do
    {value, rest} = value(skip(text))
    "" = skip(rest)
    value
  end

  defp skip(<<c, rest::binary>>) when c in [?\s, ?\n, ?\r, ?\t], do: skip(rest)
  defp skip(text), do: text

  defp value("null" <> rest), do: {nil, rest}
  defp value("true" <> rest), do: {true, rest}
  defp value("false" <> rest), do: {false, rest}
  defp value("\"" <> rest), do: string(rest, "")
  defp value("[" <> rest), do: list(skip(rest), [])
  defp value("{" <> rest), do: object(skip(rest), %{})

  defp value(text) do
    [number] = Regex.run(~r/^-?\d+(\.\d+)?([eE][-+]?\d+)?/, text, capture: :first)
    rest = binary_part(text, byte_size(number), byte_size(text) - byte_size(number))

    if String.contains?(number, [".", "e", "E"]) do
      {elem(Float.parse(number), 0), rest}
    else
      {String.to_integer(number), rest}
    end
  end

  defp list("]" <> rest, acc), do: {Enum.reverse(acc), rest}

  defp list(text, acc) do
    {v, rest} = value(skip(text))

    case skip(rest) do
      "," <> rest -> list(skip(rest), [v | acc])
      "]" <> rest -> {Enum.reverse([v | acc]), rest}
    end
  end

  defp object("}" <> rest, acc), do: {acc, rest}

  defp object("\"" <> text, acc) do
    {k, rest} = string(text, "")
    ":" <> rest = skip(rest)
    {v, rest} = value(skip(rest))
    acc = Map.put(acc, k, v)

    case skip(rest) do
      "," <> rest -> object(skip(rest), acc)
      "}" <> rest -> {acc, rest}
    end
  end

  defp string("\"" <> rest, acc), do: {acc, rest}

  defp string("\\u" <> <<hex::binary-size(4), rest::binary>>, acc) do
    case {String.to_integer(hex, 16), rest} do
      {hi, "\\u" <> <<lo::binary-size(4), rest::binary>>} when hi in 0xD800..0xDBFF ->
        code = 0x10000 + (hi - 0xD800) * 0x400 + String.to_integer(lo, 16) - 0xDC00
        string(rest, acc <> <<code::utf8>>)

      {code, rest} ->
        string(rest, acc <> <<code::utf8>>)
    end
  end

  defp string("\\" <> <<c, rest::binary>>, acc) do
    char = %{?n => "\n", ?t => "\t", ?r => "\r", ?b => "\b", ?f => "\f"}[c] || <<c>>
    string(rest, acc <> char)
  end

  defp string(<<c::utf8, rest::binary>>, acc), do: string(rest, acc <> <<c::utf8>>)
end
