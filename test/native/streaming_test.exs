defmodule EctoLibSql.Native.StreamingTest do
  # Measures memory while streaming: must not run beside other tests.
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, NIF, Result}

  @sql "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) " <>
         "SELECT i, 'row number ' || i, zeroblob(16) FROM c"

  defp memory do
    {:memory, process} = Process.info(self(), :memory)
    process + :erlang.memory(:binary)
  end

  # Resident memory of the whole OS process: catches rows buffered anywhere in native code.
  defp resident do
    case File.read("/proc/self/statm") do
      {:ok, statm} ->
        statm |> String.split() |> Enum.at(1) |> String.to_integer() |> Kernel.*(4096)

      {:error, _} ->
        0
    end
  end

  # Streams `total` rows in batches; answers {rows, sum of i, peak growth of process + binary
  # memory, peak growth of SQLite's memory}, both measured against the first batch.
  defp stream(total, batch) do
    s = connect!()
    {:ok, cursor} = Native.declare_cursor(s, @sql, [total])
    {:cont, %Result{rows: first}} = Native.fetch(s, cursor, batch)
    :erlang.garbage_collect()
    base = memory()
    base_sqlite = NIF.resource_counts().sqlite_memory_used
    acc = {length(first), Enum.reduce(first, 0, fn [i | _], sum -> sum + i end), 0, 0}
    fetch_all(s, cursor, batch, acc, {base, base_sqlite})
  end

  defp fetch_all(s, cursor, batch, {n, sum, peak, peak_sqlite}, {base, base_sqlite} = bases) do
    {status, %Result{rows: rows}} = Native.fetch(s, cursor, batch)

    sum =
      Enum.reduce(rows, sum, fn [i, text, blob], acc ->
        assert text == "row number #{i}"
        assert blob == <<0::128>>
        acc + i
      end)

    n = n + length(rows)
    :erlang.garbage_collect()
    peak = max(peak, memory() - base)
    peak_sqlite = max(peak_sqlite, NIF.resource_counts().sqlite_memory_used - base_sqlite)
    acc = {n, sum, peak, peak_sqlite}
    if status == :halt, do: acc, else: fetch_all(s, cursor, batch, acc, bases)
  end

  defp check(total, batch) do
    rss_before = resident()
    {n, sum, peak, peak_sqlite} = stream(total, batch)
    rss_growth = resident() - rss_before
    assert n == total
    assert sum == div(total * (total + 1), 2)
    # the whole result would take hundreds of megabytes; a stream stays within a few batches
    assert peak < 8 * 1024 * 1024, "process + binary memory grew by #{peak} bytes"
    assert peak_sqlite < 1024 * 1024, "SQLite memory grew by #{peak_sqlite} bytes"
    # 1,000,000 rows buffered natively would take well over 100 MB
    assert rss_growth < 48 * 1024 * 1024, "resident memory grew by #{rss_growth} bytes"
  end

  test "streams 1,000,000 rows in flat memory" do
    check(1_000_000, 1000)
  end

  test "batches of one row" do
    check(10_000, 1)
  end

  test "a batch larger than the result answers it all with :halt" do
    s = connect!()
    {:ok, cursor} = Native.declare_cursor(s, @sql, [10_000])
    assert {:halt, %Result{num_rows: 10_000}} = Native.fetch(s, cursor, 1_000_000)
  end
end
