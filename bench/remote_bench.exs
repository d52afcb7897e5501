# Remote mode against @libsql/client on the same Hrana server (test/support/hrana_server.js,
# Node + npm libsql, keep-alive HTTP on loopback), in one run:
#
#   (a) sequential `SELECT 1` round trips: median and p99 per call
#   (b) one transactional batch of 2,000 single-row INSERTs: time and rows per second
#
# This driver runs over HTTP and over WebSocket; @libsql/client over HTTP.
#
# Each figure is the median over ROUNDS rounds (default 5); the two clients alternate.
#
#   mix run bench/remote_bench.exs          (ECTO_LIBSQL_OFFLINE=1 without Hex)
#   ROUNDS=9 CALLS=2000 mix run bench/remote_bench.exs

Code.require_file("../test/support/hrana_server.exs", __DIR__)
alias EctoLibSql.{HranaServer, Native}

defmodule Bench.Remote do
  def run do
    if reason = HranaServer.missing(), do: raise("cannot run: " <> reason)
    rounds = String.to_integer(System.get_env("ROUNDS", "5"))
    calls = String.to_integer(System.get_env("CALLS", "1000"))
    server = HranaServer.start!()

    try do
      {:ok, s} = Native.connect(uri: server.url, auth_token: "bench")
      {:ok, ws} = Native.connect(uri: "ws://127.0.0.1:#{server.port}", auth_token: "bench")

      results =
        for round <- 1..rounds do
          for t <- ["ours_#{round}", "ws_#{round}", "node_#{round}"],
              do: {:ok, _} = Native.execute(s, "CREATE TABLE #{t}(x INTEGER)", [])

          ours = ours(s, calls, "ours_#{round}")
          over_ws = ours(ws, calls, "ws_#{round}")
          node = node_client(server.url, calls, "node_#{round}")
          {ours, over_ws, node}
        end

      Native.close(s)
      Native.close(ws)
      report(results, calls, rounds)
    after
      HranaServer.stop(server)
    end
  end

  defp ours(s, calls, table) do
    for _ <- 1..50, do: {:ok, _} = Native.execute(s, "SELECT 1", [])

    times =
      for _ <- 1..calls do
        t0 = System.monotonic_time(:nanosecond)
        {:ok, _} = Native.execute(s, "SELECT 1", [])
        (System.monotonic_time(:nanosecond) - t0) / 1.0e6
      end
      |> Enum.sort()

    steps = for i <- 0..1999, do: {"INSERT INTO #{table}(x) VALUES (?)", [i]}
    t0 = System.monotonic_time(:nanosecond)
    {:ok, results} = Native.batch_transactional(s, steps)
    batch_ms = (System.monotonic_time(:nanosecond) - t0) / 1.0e6
    2000 = length(results)
    %{median_ms: pick(times, 0.5), p99_ms: pick(times, 0.99), batch_ms: batch_ms}
  end

  defp node_client(url, calls, table) do
    {out, 0} =
      System.cmd(
        "node",
        [Path.expand("remote_bench_client.js", __DIR__), url, Integer.to_string(calls), table],
        env: [{"NODE_PATH", Path.expand("_build/peers/node_modules")}]
      )

    out |> String.trim() |> String.split("\n") |> List.last() |> decode()
  end

  # The Node side prints a flat JSON object of numbers.
  defp decode(line) do
    Regex.scan(~r/"(\w+)":([0-9.eE+-]+)/, line)
    |> Map.new(fn [_, k, v] -> {String.to_atom(k), elem(Float.parse(v), 0)} end)
  end

  defp pick(sorted, q), do: Enum.at(sorted, min(length(sorted) - 1, floor(q * length(sorted))))

  defp median(values) do
    sorted = Enum.sort(values)
    Enum.at(sorted, div(length(sorted), 2))
  end

  defp report(results, calls, rounds) do
    row = fn name, key ->
      o = median(Enum.map(results, fn {ours, _, _} -> ours[key] end))
      w = median(Enum.map(results, fn {_, ws, _} -> ws[key] end))
      n = median(Enum.map(results, fn {_, _, node} -> node[key] end))
      {name, o, w, n}
    end

    lines = [
      row.("SELECT 1 round trip, median (ms)", :median_ms),
      row.("SELECT 1 round trip, p99 (ms)", :p99_ms),
      row.("batch of 2,000 INSERTs (ms)", :batch_ms)
    ]

    IO.puts("remote mode vs @libsql/client, Hrana test server on loopback")
    IO.puts("#{calls} sequential calls per round, median of #{rounds} rounds\n")

    IO.puts(
      "| measure | ecto_libsql HTTP | ecto_libsql WebSocket | @libsql/client HTTP | HTTP ratio |"
    )

    IO.puts("|---|---|---|---|---|")

    for {name, o, w, n} <- lines do
      IO.puts("| #{name} | #{fmt(o)} | #{fmt(w)} | #{fmt(n)} | #{fmt(n / o)}x |")
    end

    {_, ob, wb, nb} = List.last(lines)
    rate = fn ms -> round(2000 / ms * 1000) end
    IO.puts("| batch rows per second | #{rate.(ob)} | #{rate.(wb)} | #{rate.(nb)} | |")
  end

  defp fmt(x), do: :erlang.float_to_binary(x / 1, decimals: 3)
end

Bench.Remote.run()
