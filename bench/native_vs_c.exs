# Per-operation cost through EctoLibSql.Native against plain SQLite C calls, on one database
# file, in one run:
#
#   (a) 100,000 single-row INSERTs with one prepared statement inside one transaction
#   (b) 20,000 point SELECTs by primary key (all columns read)
#   (c) reading 100,000 rows of 5 columns (integer, ~20-char text, float, 16-byte blob, NULL)
#       into Elixir lists
#
# The C side is native/bench/local_baseline.cpp, built here with CMake. Each figure is the
# median of ROUNDS rounds (default 5), rounds alternating between the two sides.
#
#   mix run bench/native_vs_c.exs            (ECTO_LIBSQL_OFFLINE=1 without Hex)
#   ROUNDS=9 mix run bench/native_vs_c.exs

alias EctoLibSql.Native

defmodule Bench.NativeVsC do
  @rows 100_000
  @points 20_000

  def run do
    rounds = String.to_integer(System.get_env("ROUNDS", "5"))
    baseline = build_baseline()
    dir = Path.join(System.tmp_dir!(), "ecto_libsql_bench_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    db = Path.join(dir, "bench.db")

    try do
      {:ok, state} = Native.connect(database: db)
      blob = :binary.list_to_bin(for j <- 0..15, do: rem(j * 17, 256))

      insert =
        for round <- 1..rounds do
          {elixir_insert(state, round, blob), c(baseline, ["insert", db, "#{@rows}"])}
        end

      {:ok, _} = Native.execute(state, "DROP TABLE IF EXISTS c_bench")
      {:ok, _} = Native.execute(state, "ALTER TABLE t_1 RENAME TO t")

      point =
        for _ <- 1..rounds, do: {elixir_points(state), c(baseline, ["point", db, "#{@points}"])}

      scan = for _ <- 1..rounds, do: {elixir_scan(state), c(baseline, ["scan", db])}
      Native.close(state)

      report([
        {"(a) INSERT, prepared, one transaction", "µs/row", insert, 2.0},
        {"(b) point SELECT by primary key", "µs/query", point, 1.3},
        {"(c) read 100,000 rows x 5 columns", "µs/row", scan, 3.0}
      ])
    after
      File.rm_rf!(dir)
    end
  end

  defp elixir_insert(state, round, blob) do
    table = "t_#{round}"

    {:ok, _} =
      Native.execute(
        state,
        "CREATE TABLE #{table}(id INTEGER PRIMARY KEY, i INTEGER, s TEXT, f REAL, b BLOB, n TEXT)"
      )

    {:ok, stmt} =
      Native.prepare(state, "INSERT INTO #{table}(i, s, f, b, n) VALUES (?, ?, ?, ?, NULL)")

    :erlang.garbage_collect()
    {:ok, trx} = Native.begin(state)
    started = System.monotonic_time()
    insert_loop(trx, stmt, blob, 1)
    {:ok, _} = Native.commit(trx)
    elapsed = System.monotonic_time() - started
    Native.close_stmt(stmt)
    if round > 1, do: {:ok, _} = Native.execute(state, "DROP TABLE #{table}")
    micros(elapsed) / @rows
  end

  defp insert_loop(_trx, _stmt, _blob, i) when i > @rows, do: :ok

  defp insert_loop(trx, stmt, blob, i) do
    {:ok, _} =
      Native.query_stmt(trx, stmt, [
        i,
        "text-value-#{rem(i, 1000)}-abcdefgh",
        i * 0.5,
        {:blob, blob}
      ])

    insert_loop(trx, stmt, blob, i + 1)
  end

  defp elixir_points(state) do
    {:ok, stmt} = Native.prepare(state, "SELECT id, i, s, f, b, n FROM t WHERE id = ?")
    point_loop(state, stmt, 1, 2000)
    :erlang.garbage_collect()
    started = System.monotonic_time()
    point_loop(state, stmt, 1, @points)
    elapsed = System.monotonic_time() - started
    Native.close_stmt(stmt)
    micros(elapsed) / @points
  end

  defp point_loop(_state, _stmt, i, n) when i > n, do: :ok

  defp point_loop(state, stmt, i, n) do
    {:ok, %{num_rows: 1}} = Native.query_stmt(state, stmt, [rem(i * 7919, @rows) + 1])
    point_loop(state, stmt, i + 1, n)
  end

  defp elixir_scan(state) do
    {:ok, stmt} = Native.prepare(state, "SELECT i, s, f, b, n FROM t")
    :erlang.garbage_collect()
    started = System.monotonic_time()
    {:ok, %{num_rows: @rows}} = Native.query_stmt(state, stmt, [])
    elapsed = System.monotonic_time() - started
    Native.close_stmt(stmt)
    micros(elapsed) / @rows
  end

  defp c(baseline, args) do
    {out, 0} = System.cmd(baseline, args)
    [_op, per_op | _] = String.split(out)
    String.to_float(per_op)
  end

  defp micros(native), do: System.convert_time_unit(native, :native, :nanosecond) / 1000

  defp median(values) do
    sorted = Enum.sort(values)
    Enum.at(sorted, div(length(sorted), 2))
  end

  defp report(rows) do
    IO.puts(
      "\necto_libsql (NIF) against plain SQLite C calls, medians of #{rows |> hd() |> elem(2) |> length()} rounds\n"
    )

    IO.puts(String.pad_trailing("operation", 40) <> "  NIF        C          ratio   target")

    for {name, unit, pairs, target} <- rows do
      ours = median(Enum.map(pairs, &elem(&1, 0)))
      theirs = median(Enum.map(pairs, &elem(&1, 1)))
      ratio = ours / theirs

      IO.puts(
        String.pad_trailing(name, 40) <>
          "  " <>
          String.pad_trailing(fmt(ours), 9) <>
          "  " <>
          String.pad_trailing(fmt(theirs), 9) <>
          "  " <>
          String.pad_trailing(:erlang.float_to_binary(ratio, decimals: 2) <> "x", 6) <>
          "  <= #{target}x  (#{unit}#{if ratio <= target, do: ", met", else: ", NOT met"})"
      )
    end
  end

  defp fmt(v), do: :erlang.float_to_binary(v, decimals: 3)

  defp build_baseline do
    dir = Path.join([Mix.Project.build_path(), "native", "bench"])

    {_, 0} =
      System.cmd(
        "cmake",
        [
          "-S",
          "native",
          "-B",
          dir,
          "-DCMAKE_BUILD_TYPE=Release",
          "-DECTO_LIBSQL_NIF=OFF",
          "-DECTO_LIBSQL_TESTS=OFF",
          "-DECTO_LIBSQL_BENCH=ON"
        ],
        stderr_to_stdout: true
      )

    {out, status} =
      System.cmd("cmake", ["--build", dir, "--target", "local_baseline", "--parallel", "2"],
        stderr_to_stdout: true
      )

    if status != 0, do: raise("building the C baseline failed:\n" <> out)
    Path.join(dir, "local_baseline")
  end
end

Bench.NativeVsC.run()
