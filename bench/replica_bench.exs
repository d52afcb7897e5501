# Embedded replica figures, in one run:
#
# Turso sync protocol, against a real tursodb --sync-server (npm `turso`, installed into
# _build/peers by scripts/setup):
#   (a) bootstrap: connect creating a fresh replica of a 50,000-row database (pages/s)
#   (b) incremental pull after the server updated every row (pages/s)
#   (c) point SELECT by primary key on the replica next to local mode on a copy of the same
#       file (µs/query; target: replica within 1.1x of local)
#
# libSQL's HTTP sync and gRPC replication log, against the libSQL sync test server
# (test/support/libsql_sync_server.js) holding the same 50,000 rows, ours next to an npm
# `libsql` replica (the libsql crate, what the original ecto_libsql was built on) pulling the
# same changes from the same server:
#   (d) bootstrap (frames or pages/s; npm libsql: its open, then its first sync)
#   (e) incremental pull after the server updated every row (frames/s; target: at least npm
#       libsql's)
#
# Each figure is the median of ROUNDS rounds (default 5); read rounds alternate the two sides,
# pull rounds alternate which client pulls first.
#
#   mix run bench/replica_bench.exs            (ECTO_LIBSQL_OFFLINE=1 without Hex)
#   ROUNDS=9 mix run bench/replica_bench.exs

alias EctoLibSql.Native

Code.require_file("../test/support/libsql_sync_server.exs", __DIR__)
Code.require_file("../test/support/tursodb_server.exs", __DIR__)

defmodule Bench.Replica do
  @rows 50_000
  @points 20_000
  alias EctoLibSql.TursodbServer

  def run do
    if reason = TursodbServer.missing() do
      IO.puts(reason)
      System.halt(1)
    end

    rounds = String.to_integer(System.get_env("ROUNDS", "5"))

    dir =
      Path.join(
        System.tmp_dir!(),
        "ecto_libsql_replica_bench_#{System.unique_integer([:positive])}"
      )

    File.mkdir_p!(dir)
    server = TursodbServer.start!(database: Path.join(dir, "server.db"))
    url = server.url

    if System.find_executable("node") == nil,
      do: raise("node not found: the npm libsql side needs it")

    try do
      fill(url)

      bootstrap =
        for round <- 1..rounds do
          path = Path.join(dir, "boot_#{round}.db")
          started = System.monotonic_time()
          {:ok, s} = Native.connect(database: path, uri: url, auth_token: "t", sync: true)
          elapsed = System.monotonic_time() - started
          Native.close(s)
          pages(path) / seconds(elapsed)
        end

      replica_path = Path.join(dir, "replica.db")

      {:ok, replica} =
        Native.connect(database: replica_path, uri: url, auth_token: "t", sync: true)

      incremental =
        for round <- 1..rounds do
          exec(url, ["UPDATE t SET s = 'round #{round} ' || id"])
          started = System.monotonic_time()
          {:ok, %{frames_synced: pulled}} = EctoLibSql.NIF.sync(replica.conn_id)
          elapsed = System.monotonic_time() - started
          pulled / seconds(elapsed)
        end

      local_path = Path.join(dir, "local.db")
      File.cp!(replica_path, local_path)
      {:ok, local} = Native.connect(database: local_path)

      reads =
        for _ <- 1..rounds do
          {points(replica), points(local)}
        end

      IO.puts("\nreplica file: #{pages(replica_path)} pages of 4096 bytes")
      report(bootstrap, incremental, reads, rounds)
      Native.close(replica)
      Native.close(local)
    after
      TursodbServer.kill(server)
    end

    libsql =
      for {mode, name} <- [{:both, "libSQL HTTP sync"}, {:grpc, "libSQL gRPC log"}] do
        {name, libsql_protocol(mode, dir, rounds)}
      end

    report_libsql(libsql, rounds)
    File.rm_rf!(dir)
  end

  # --- libSQL's protocols, ours next to npm libsql -----------------------------------------------

  @client Path.expand("../test/peers/libsql_replica_client.js", __DIR__)

  defp libsql_protocol(mode, dir, rounds) do
    alias EctoLibSql.LibsqlSyncServer
    server = LibsqlSyncServer.start!(mode: mode, token: "t")

    try do
      LibsqlSyncServer.exec!(
        server,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, s TEXT, f REAL)"
      )

      for batch <- 0..(div(@rows, 1000) - 1) do
        LibsqlSyncServer.exec!(
          server,
          "WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < 1000) " <>
            "INSERT INTO t(id, i, s, f) SELECT #{batch * 1000} + j, (#{batch * 1000} + j) * 3, " <>
            "'row ' || (#{batch * 1000} + j) || ' of the benchmark table', #{batch * 1000} + j + 0.5 FROM n"
        )
      end

      tag = Atom.to_string(mode)

      bootstrap =
        for round <- 1..rounds do
          ours_path = Path.join(dir, "#{tag}_boot_ours_#{round}.db")
          npm_path = Path.join(dir, "#{tag}_boot_npm_#{round}.db")
          frames = frames_of(server, mode)
          started = System.monotonic_time()

          {:ok, s} =
            Native.connect(database: ours_path, uri: server.url, auth_token: "t", sync: true)

          ours = seconds(System.monotonic_time() - started)
          Native.close(s)
          [sync, %{"open_ms" => open_ms}] = npm(server, npm_path, [%{"sync" => true}])
          {frames / ours, frames / ((open_ms + sync["ms"]) / 1000)}
        end

      ours_path = Path.join(dir, "#{tag}_ours.db")
      npm_path = Path.join(dir, "#{tag}_npm.db")

      {:ok, replica} =
        Native.connect(database: ours_path, uri: server.url, auth_token: "t", sync: true)

      npm(server, npm_path, [%{"sync" => true}])

      incremental =
        for round <- 1..rounds do
          before = frames_of(server, mode)
          LibsqlSyncServer.exec!(server, "UPDATE t SET s = 'round #{round} ' || id")
          frames = frames_of(server, mode) - before

          time_ours = fn ->
            started = System.monotonic_time()
            {:ok, _} = EctoLibSql.NIF.sync(replica.conn_id)
            seconds(System.monotonic_time() - started)
          end

          time_npm = fn ->
            [%{"ms" => ms}, _] = npm(server, npm_path, [%{"sync" => true}])
            ms / 1000
          end

          {ours, theirs} =
            if rem(round, 2) == 1 do
              ours = time_ours.()
              {ours, time_npm.()}
            else
              theirs = time_npm.()
              {time_ours.(), theirs}
            end

          {frames / ours, frames / theirs}
        end

      Native.close(replica)
      %{bootstrap: bootstrap, incremental: incremental}
    after
      LibsqlSyncServer.stop(server)
    end
  end

  # Frames the server has logged so far (the same count for both protocols' logs).
  defp frames_of(server, :both), do: EctoLibSql.LibsqlSyncServer.stats(server)["frames"]

  defp frames_of(server, :grpc),
    do: EctoLibSql.LibsqlSyncServer.stats(server)["v1_next_frame_no"]

  defp npm(server, db, steps) do
    spec =
      EctoLibSql.LibsqlSyncServer.json_encode(%{
        "db" => db,
        "url" => server.url,
        "token" => "t",
        "steps" => steps
      })

    env = [{"ECTO_LIBSQL_PEERS", TursodbServer.peers()}]

    case System.cmd(System.find_executable("node"), [@client, spec], env: env) do
      {out, 0} -> EctoLibSql.LibsqlSyncServer.json_decode(out)
      {out, status} -> raise "npm libsql exited with #{status}: #{out}"
    end
  end

  defp report_libsql(results, rounds) do
    IO.puts(
      "\nlibSQL protocols against the libSQL sync test server, #{@rows} rows, medians of " <>
        "#{rounds} rounds (frames/s; ours next to npm libsql pulling the same changes)\n"
    )

    for {name, %{bootstrap: boot, incremental: inc}} <- results do
      for {label, pairs} <- [{"(d) bootstrap", boot}, {"(e) incremental pull", inc}] do
        ours = median(Enum.map(pairs, &elem(&1, 0)))
        theirs = median(Enum.map(pairs, &elem(&1, 1)))

        IO.puts(
          String.pad_trailing("#{label}, #{name}", 44) <>
            "ours #{round(ours)}, npm libsql #{round(theirs)}: " <>
            "#{:erlang.float_to_binary(ours / theirs, decimals: 2)}x"
        )
      end
    end
  end

  defp fill(url) do
    exec(url, ["CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, s TEXT, f REAL)"])

    for batch <- 0..(div(@rows, 1000) - 1) do
      values =
        Enum.map_join(1..1000, ",", fn j ->
          id = batch * 1000 + j
          "(#{id}, #{id * 3}, 'row #{id} of the benchmark table', #{id}.5)"
        end)

      exec(url, ["INSERT INTO t(id, i, s, f) VALUES " <> values])
    end
  end

  defp exec(url, statements), do: TursodbServer.exec!(%{url: url}, statements)

  defp points(state) do
    {:ok, stmt} = Native.prepare(state, "SELECT id, i, s, f FROM t WHERE id = ?")
    point_loop(state, stmt, 1, 2000)
    :erlang.garbage_collect()
    started = System.monotonic_time()
    point_loop(state, stmt, 1, @points)
    elapsed = System.monotonic_time() - started
    Native.close_stmt(stmt)
    System.convert_time_unit(elapsed, :native, :nanosecond) / 1000 / @points
  end

  defp point_loop(_state, _stmt, i, n) when i > n, do: :ok

  defp point_loop(state, stmt, i, n) do
    {:ok, %{num_rows: 1}} = Native.query_stmt(state, stmt, [rem(i * 7919, @rows) + 1])
    point_loop(state, stmt, i + 1, n)
  end

  defp pages(path), do: div(File.stat!(path).size, 4096)
  defp seconds(native), do: System.convert_time_unit(native, :native, :microsecond) / 1_000_000

  defp median(xs) do
    sorted = Enum.sort(xs)
    n = length(sorted)

    if rem(n, 2) == 1,
      do: Enum.at(sorted, div(n, 2)),
      else: (Enum.at(sorted, div(n, 2) - 1) + Enum.at(sorted, div(n, 2))) / 2
  end

  defp report(bootstrap, incremental, reads, rounds) do
    replica = median(Enum.map(reads, &elem(&1, 0)))
    local = median(Enum.map(reads, &elem(&1, 1)))
    ratio = replica / local

    IO.puts(
      "\nEmbedded replica against tursodb --sync-server, #{@rows} rows, medians of #{rounds} rounds\n"
    )

    IO.puts("(a) bootstrap pull        #{round(median(bootstrap))} pages/s")

    IO.puts(
      "(b) incremental pull      #{round(median(incremental))} pages/s (pages pulled / sync time)"
    )

    IO.puts(
      "(c) point SELECT          replica #{fmt(replica)} µs, local #{fmt(local)} µs, ratio " <>
        "#{:erlang.float_to_binary(ratio, decimals: 2)}x  (<= 1.1x#{if ratio <= 1.1, do: ", met", else: ", NOT met"})"
    )
  end

  defp fmt(v), do: :erlang.float_to_binary(v, decimals: 3)
end

Bench.Replica.run()
