# Ecto adapter throughput on one local database file, in one run:
#
#   (a) Repo.insert_all of 100,000 rows in chunks of 1,000 (rows/s)
#   (b) 5,000 Repo.get by primary key (median per call)
#   (c) Repo.all of 100,000 rows into structs (rows/s)
#
# Each figure is the median of ROUNDS rounds (default 5). Needs the Hex packages (or
# ECTO_LIBSQL_DEPS_PATH):
#
#   MIX_ENV=test mix run bench/ecto_bench.exs
#   ROUNDS=9 MIX_ENV=test mix run bench/ecto_bench.exs

defmodule Bench.Repo do
  use Ecto.Repo, otp_app: :ecto_libsql, adapter: Ecto.Adapters.LibSql
end

defmodule Bench.Row do
  use Ecto.Schema

  schema "rows" do
    field(:name, :string)
    field(:score, :float)
    field(:count, :integer)
    field(:active, :boolean)
    field(:data, :binary)
  end
end

defmodule Bench.Ecto do
  @rows 100_000
  @gets 5_000

  def run do
    rounds = String.to_integer(System.get_env("ROUNDS", "5"))

    dir =
      Path.join(System.tmp_dir!(), "ecto_libsql_ecto_bench_#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)

    Application.put_env(:ecto_libsql, Bench.Repo,
      database: Path.join(dir, "bench.db"),
      pool_size: 1,
      log: false
    )

    {:ok, _} = Bench.Repo.start_link()

    Bench.Repo.query!(
      "CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT, score REAL, count INTEGER, active INTEGER, data BLOB)"
    )

    results =
      for _ <- 1..rounds do
        Bench.Repo.query!("DELETE FROM rows")
        {insert_us, _} = :timer.tc(&insert_all/0)
        get_us = get_median()
        {all_us, rows} = :timer.tc(fn -> Bench.Repo.all(Bench.Row) end)
        @rows = length(rows)
        {@rows / (insert_us / 1.0e6), get_us, @rows / (all_us / 1.0e6)}
      end

    {inserts, gets, alls} = unzip3(results)

    IO.puts("""
    ecto_libsql Ecto benchmark (#{rounds} rounds, medians)
      (a) Repo.insert_all, 100,000 rows in chunks of 1,000: #{round(median(inserts))} rows/s
      (b) Repo.get by primary key:                          #{Float.round(median(gets), 1)} µs per call
      (c) Repo.all, 100,000 rows into structs:              #{round(median(alls))} rows/s
    """)

    File.rm_rf!(dir)
  end

  defp insert_all do
    blob = :binary.copy(<<7>>, 16)

    1..@rows
    |> Stream.map(fn i ->
      %{
        name: "row number #{i} text",
        score: i * 0.5,
        count: i,
        active: rem(i, 2) == 0,
        data: blob
      }
    end)
    |> Stream.chunk_every(1000)
    |> Enum.each(&Bench.Repo.insert_all(Bench.Row, &1))
  end

  defp get_median do
    ids = for i <- 1..@gets, do: rem(i * 7919, @rows) + 1

    ids
    |> Enum.map(fn id ->
      {us, %Bench.Row{}} = :timer.tc(fn -> Bench.Repo.get(Bench.Row, id) end)
      us
    end)
    |> median()
  end

  defp unzip3(list),
    do: {Enum.map(list, &elem(&1, 0)), Enum.map(list, &elem(&1, 1)), Enum.map(list, &elem(&1, 2))}

  defp median(list) do
    sorted = Enum.sort(list)
    n = length(sorted)

    if rem(n, 2) == 1,
      do: Enum.at(sorted, div(n, 2)),
      else: (Enum.at(sorted, div(n, 2) - 1) + Enum.at(sorted, div(n, 2))) / 2
  end
end

Bench.Ecto.run()
