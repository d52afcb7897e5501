# Open/query/close cycles through every kind of native handle, for scripts/leak-check, which
# runs this under valgrind. Usage: mix run --no-start test/leak/cycles.exs [cycles] [dir]
# Handles are closed explicitly in three cycles of four and left to the garbage collector in the
# fourth.
alias EctoLibSql.{Native, NIF, Query}

{cycles, dir} =
  case System.argv() do
    [n, dir] -> {String.to_integer(n), dir}
    [n] -> {String.to_integer(n), System.tmp_dir!()}
    [] -> {10_000, System.tmp_dir!()}
  end

path = Path.join(dir, "leak_cycles_#{System.os_time()}.db")
File.rm(path)
{:ok, setup} = Native.connect(database: path)

{:ok, _, _, _} =
  Native.query(
    setup,
    %Query{statement: "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)"},
    []
  )

Native.close(setup)

query! = fn state, sql, args ->
  case Native.query(state, %Query{statement: sql}, args) do
    {:ok, _, result, state} -> {result, state}
    other -> raise "#{sql}: #{inspect(other)}"
  end
end

# Each cycle runs in its own process: what it leaves open is freed when that process exits.
cycle = fn i ->
  {:ok, state} = Native.connect(database: path)

  {_, state} =
    query!.(state, "INSERT INTO t(v, b) VALUES (?, ?)", ["row #{i}", {:blob, <<i::64>>}])

  {%{num_rows: 1}, state} = query!.(state, "SELECT v, b FROM t WHERE id = ?", [rem(i - 1, i) + 1])
  {_, _} = query!.(state, "SELECT :v || 'x'", %{v: "named"})

  {:ok, stmt} = Native.prepare(state, "SELECT id FROM t WHERE id > ? LIMIT 3")
  {:ok, _} = Native.query_stmt(state, stmt, [0])

  {:ok, state} = Native.begin(state)
  {_, state} = query!.(state, "UPDATE t SET v = v WHERE id = 1", [])
  {:ok, cursor} = Native.declare_cursor(state, "SELECT id, v FROM t LIMIT 5", [])
  {fetched, _, _} = NIF.cursor_fetch(state.conn_id, cursor, 2)
  true = fetched in [:cont, :halt]
  {:ok, "commit success"} = Native.commit(state)
  state = %{state | trx_id: nil}

  # An error path allocates an error term and message.
  {:error, _, _} = Native.query(state, %Query{statement: "SELECT * FROM missing"}, [])

  if rem(i, 4) != 0 do
    Native.close_stmt(stmt)
    Native.close_cursor(cursor)
    Native.close(state)
  end
end

for i <- 1..cycles do
  i |> then(&Task.async(fn -> cycle.(&1) end)) |> Task.await(:infinity)
end

:erlang.garbage_collect()
Process.sleep(100)
File.rm(path)
File.rm(path <> "-journal")
IO.puts("cycles: #{cycles}, live handles: #{inspect(NIF.resource_counts())}")
