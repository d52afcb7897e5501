defmodule EctoLibSql.HostileServer do
  @moduledoc false
  # A small HTTP server on loopback that misbehaves on purpose, for the remote client's limits.
  # It answers the connect probe (`GET /v3`) like a Hrana 3 server, then answers every POST
  # with `behaviour`:
  #
  #   * `{:endless_chunked, chunk}` - a chunked body that never ends (chunks of `chunk` bytes)
  #   * `{:trickle, every_ms}` - a body announced as 1 MB, one byte every `every_ms`
  #   * `{:oversize, bytes}` - a valid Hrana reply padded with spaces to `bytes`
  #   * `{:stop_after, bytes}` - a body announced as 1 MB, the socket closed after `bytes`
  #   * `{:endless_line, chunk}` - a chunked v3/cursor answer whose first entry never ends
  #
  # `probe: :hostile` applies `behaviour` to the probe too; `notify: pid` sends pid
  # `{:hostile_request, method, target, headers}` for every request (headers as lower-case
  # names). Every answer stops by itself after `max_ms` (default 30 s) or when the client
  # closes the socket. `requests/1` counts the POSTs. `:ok` as the behaviour answers POSTs
  # with a Hrana reply of one row.

  @doc "Starts the server; answers %{url:, port:, pid:, counter:}."
  def start!(behaviour, opts \\ []) do
    {:ok, listener} =
      :gen_tcp.listen(0, [:binary, ip: {127, 0, 0, 1}, active: false, reuseaddr: true])

    {:ok, port} = :inet.port(listener)
    counter = :counters.new(1, [])
    config = %{behaviour: behaviour, counter: counter, opts: opts}
    pid = spawn(fn -> accept_loop(listener, config) end)
    :ok = :gen_tcp.controlling_process(listener, pid)
    %{url: "http://127.0.0.1:#{port}", port: port, pid: pid, counter: counter}
  end

  def stop(%{pid: pid}) do
    Process.exit(pid, :kill)
    :ok
  end

  @doc "How many POST requests the server has received."
  def requests(%{counter: counter}), do: :counters.get(counter, 1)

  defp accept_loop(listener, config) do
    case :gen_tcp.accept(listener) do
      {:ok, socket} ->
        handler = spawn_link(fn -> receive(do: (:go -> serve(socket, config, ""))) end)
        :ok = :gen_tcp.controlling_process(socket, handler)
        send(handler, :go)
        accept_loop(listener, config)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, config, buffer) do
    case read_request(socket, buffer) do
      {:ok, method, path, headers, rest} ->
        hostile? = method == "POST" or Keyword.get(config.opts, :probe) == :hostile
        if method == "POST", do: :counters.add(config.counter, 1, 1)
        if pid = config.opts[:notify], do: send(pid, {:hostile_request, method, path, headers})

        if hostile? and config.behaviour == :ok do
          answer(socket, {:oversize, 0}, path, 0)
          serve(socket, config, rest)
        else
          serve_hostile(socket, config, hostile?, path, rest)
        end

      :closed ->
        :ok
    end
  end

  defp serve_hostile(socket, config, hostile?, path, rest) do
    if hostile? do
      answer(socket, config.behaviour, path, Keyword.get(config.opts, :max_ms, 30_000))
      :gen_tcp.close(socket)
    else
      body = "{}"

      :gen_tcp.send(
        socket,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " <>
          "#{byte_size(body)}\r\n\r\n" <> body
      )

      serve(socket, config, rest)
    end
  end

  defp read_request(socket, buffer) do
    case :binary.split(buffer, "\r\n\r\n") do
      [head, rest] ->
        [request_line | headers] = String.split(head, "\r\n")
        [method, path | _] = String.split(request_line, " ")

        headers =
          for line <- headers,
              [name, value] <- [String.split(line, ":", parts: 2)],
              do: {String.downcase(name), String.trim(value)}

        length =
          case List.keyfind(headers, "content-length", 0) do
            {_, value} -> String.to_integer(value)
            nil -> 0
          end

        with {:ok, rest} <- read_body(socket, rest, length),
             do: {:ok, method, path, headers, rest}

      [_] ->
        case :gen_tcp.recv(socket, 0, 30_000) do
          {:ok, data} -> read_request(socket, buffer <> data)
          {:error, _} -> :closed
        end
    end
  end

  defp read_body(_socket, rest, length) when byte_size(rest) >= length do
    <<_body::binary-size(length), after_body::binary>> = rest
    {:ok, after_body}
  end

  defp read_body(socket, rest, length) do
    case :gen_tcp.recv(socket, 0, 30_000) do
      {:ok, data} -> read_body(socket, rest <> data, length)
      {:error, _} -> :closed
    end
  end

  defp deadline(max_ms), do: System.monotonic_time(:millisecond) + max_ms
  defp before?(deadline), do: System.monotonic_time(:millisecond) < deadline

  defp answer(socket, {:endless_chunked, chunk}, _path, max_ms) do
    :gen_tcp.send(
      socket,
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    )

    data = String.duplicate(" ", chunk)
    frame = [Integer.to_string(chunk, 16), "\r\n", data, "\r\n"]
    until = deadline(max_ms)

    Stream.repeatedly(fn -> before?(until) and :gen_tcp.send(socket, frame) == :ok end)
    |> Enum.find(&(&1 == false))
  end

  defp answer(socket, {:endless_line, chunk}, _path, max_ms) do
    :gen_tcp.send(
      socket,
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    )

    head =
      ~s({"baton":null,"base_url":null}\n{"type":"step_begin","cols":[{"name":"x"}]}\n) <>
        ~s({"type":"row","row":[{"type":"text","value":")

    send_chunk(socket, head)
    data = String.duplicate("x", chunk)
    until = deadline(max_ms)

    Stream.repeatedly(fn -> before?(until) and send_chunk(socket, data) == :ok end)
    |> Enum.find(&(&1 == false))
  end

  defp answer(socket, {:trickle, every_ms}, _path, max_ms) do
    :gen_tcp.send(
      socket,
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n"
    )

    until = deadline(max_ms)

    Stream.repeatedly(fn ->
      Process.sleep(every_ms)
      before?(until) and :gen_tcp.send(socket, " ") == :ok
    end)
    |> Enum.find(&(&1 == false))
  end

  defp answer(socket, {:oversize, bytes}, _path, _max_ms) do
    reply =
      ~s({"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute",) <>
        ~s("result":{"cols":[{"name":"1"}],"rows":[[{"type":"integer","value":"1"}]],) <>
        ~s("affected_row_count":0,"last_insert_rowid":null}}},{"type":"ok","response":) <>
        ~s({"type":"close"}}]})

    padding = max(bytes - byte_size(reply), 0)

    :gen_tcp.send(
      socket,
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " <>
        "#{byte_size(reply) + padding}\r\n\r\n"
    )

    :gen_tcp.send(socket, reply)
    send_padding(socket, padding)
  end

  defp answer(socket, {:stop_after, bytes}, _path, _max_ms) do
    :gen_tcp.send(
      socket,
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n"
    )

    :gen_tcp.send(socket, String.duplicate(" ", bytes))
  end

  defp send_chunk(socket, data),
    do: :gen_tcp.send(socket, [Integer.to_string(byte_size(data), 16), "\r\n", data, "\r\n"])

  defp send_padding(_socket, 0), do: :ok

  defp send_padding(socket, left) do
    n = min(left, 65_536)

    case :gen_tcp.send(socket, :binary.copy(" ", n)) do
      :ok -> send_padding(socket, left - n)
      error -> error
    end
  end
end
