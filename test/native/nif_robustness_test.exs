defmodule EctoLibSql.NIFRobustnessTest do
  # Throws random and malformed terms at every EctoLibSql.NIF function. Each call must answer
  # a value or raise an ordinary exception: no crash, no hang, handles still usable after.
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{NIF, Result}

  @calls 20_000

  @sql [
    "SELECT 1",
    "SELECT ?",
    "SELECT ?, ?",
    "SELECT :a, @b, $c",
    "SELECT ?1, ?2",
    "CREATE TABLE IF NOT EXISTS t(x)",
    "INSERT INTO t VALUES (?)",
    "INSERT INTO t VALUES (?) RETURNING x",
    "SELECT * FROM t",
    "UPDATE t SET x = ?",
    "DELETE FROM t",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT a",
    "RELEASE a",
    "PRAGMA user_version",
    "PRAGMA user_version = 3",
    "SELECT 1; SELECT 2",
    "SELEC 1",
    "",
    "   ",
    "-- only a comment",
    "'unterminated",
    "SELECT x'00ff'",
    "SELECT zeroblob(1000)",
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100) SELECT * FROM c",
    "CREATE TRIGGER IF NOT EXISTS tr AFTER INSERT ON t BEGIN SELECT 1; END",
    <<0xFF, 0xFE, 0x00>>,
    "SELECT '😀'"
  ]

  setup_all do
    # printed so that a failure can be replayed with ECTO_LIBSQL_ROBUSTNESS_SEED=<seed>
    seed =
      case System.get_env("ECTO_LIBSQL_ROBUSTNESS_SEED") do
        nil -> :rand.uniform(1_000_000)
        text -> String.to_integer(text)
      end

    IO.puts("NIF robustness seed: #{seed}")
    :rand.seed(:exsss, {seed, seed, seed})
    :ok
  end

  defp pick(list), do: Enum.at(list, :rand.uniform(length(list)) - 1)

  defp open_conn do
    {:ok, conn} = NIF.open(%{mode: :local, database: ":memory:"})
    _ = NIF.query(conn, nil, "CREATE TABLE t(x)", [])
    conn
  end

  # A pool of handles: valid ones, closed ones and handles of other connections.
  defp handles do
    conn = open_conn()
    other = open_conn()
    closed = open_conn()
    {:ok, stmt} = NIF.prepare(conn, "SELECT ?")
    {:ok, other_stmt} = NIF.prepare(other, "SELECT 1")
    {:ok, cursor} = NIF.cursor_open(conn, nil, "SELECT * FROM t", [])
    {:ok, other_cursor} = NIF.cursor_open(other, nil, "SELECT 1", [])
    {:ok, trx} = NIF.begin(other, :deferred)
    {:ok, closed_stmt} = NIF.prepare(closed, "SELECT 1")
    :ok = NIF.close(closed)
    dead = spawn(fn -> :ok end)

    %{
      conn: conn,
      values: [conn, other, closed, stmt, other_stmt, cursor, other_cursor, trx, closed_stmt],
      pids: [self(), dead]
    }
  end

  defp random_term(h, depth \\ 0) do
    case :rand.uniform(if depth > 2, do: 14, else: 19) do
      1 -> nil
      2 -> pick([true, false, :ok, :deferred, :immediate, :exclusive, :read_only, :inf, :"-inf"])
      3 -> pick([:blob, :column_count, :columns, :parameter_name, :last_insert_rowid, :bogus])
      4 -> :rand.uniform(2000) - 1000
      5 -> pick([0, -1, 1, 2 ** 31, 2 ** 63 - 1, -(2 ** 63), 2 ** 64, -(2 ** 100), 2 ** 1000])
      6 -> :rand.uniform() * pick([1.0, -1.0e300, 1.0e-300])
      7 -> pick(@sql)
      8 -> :crypto.strong_rand_bytes(:rand.uniform(40) - 1)
      9 -> pick(h.values)
      10 -> pick(h.values)
      11 -> pick(h.pids)
      12 -> make_ref()
      13 -> pick(["", "a", ":a", "@b", "$c", "é", String.duplicate("x", 5000)])
      14 -> {:blob, pick(["", <<1, 2>>, [1, 2, 3], [256], :x])}
      15 -> Enum.map(1..:rand.uniform(4), fn _ -> random_term(h, depth + 1) end)
      16 -> [random_term(h, depth + 1) | random_term(h, depth + 1)]
      17 -> List.to_tuple(Enum.map(1..:rand.uniform(3), fn _ -> random_term(h, depth + 1) end))
      18 -> Map.new(1..:rand.uniform(3), fn _ -> {random_key(), random_term(h, depth + 1)} end)
      19 -> open_options()
    end
  end

  defp random_key, do: pick([:a, "b", ":c", "@b", 1, :mode, :database, {:x}])

  # Options for open/1 that never create files outside the temporary folder nor reach a network.
  defp open_options do
    base =
      pick([
        %{mode: :local, database: ":memory:"},
        %{mode: :local, database: 1},
        %{mode: :local},
        %{mode: :bogus, database: ":memory:"},
        %{mode: :remote, uri: "not a uri", auth_token: "t", connect_timeout: 100},
        %{mode: :remote_replica, database: ":memory:", uri: 1, auth_token: nil},
        %{},
        %{database: ":memory:"}
      ])

    extra =
      pick([
        %{},
        %{busy_timeout: pick([0, -1, "x", 2 ** 70])},
        %{read_only: pick([true, "yes"])},
        %{encryption_key: pick([1, "short"])},
        %{sync_interval: :x}
      ])

    Map.merge(base, extra)
  end

  defp call(h, {name, arity}) do
    # handles first most of the time, so that calls get past argument checks into the engine
    args =
      for i <- 1..arity//1 do
        cond do
          i == 1 and :rand.uniform() < 0.8 -> pick(h.values)
          i == 2 and :rand.uniform() < 0.4 -> pick([nil | h.values])
          i == 3 and :rand.uniform() < 0.3 -> pick(@sql)
          true -> random_term(h)
        end
      end

    args = if name == :set_authorizer and arity == 3, do: safe_authorizer(h, args), else: args

    try do
      apply(NIF, name, args)
    rescue
      e in [ArgumentError, ErlangError] -> {:raised, e}
    end
  end

  # An authorizer must never wait on a process that does not answer: only pids that are denied
  # at once (the caller itself, or a dead process), with a short timeout.
  defp safe_authorizer(h, [conn, _pid, _timeout]) do
    [conn, pick([nil | h.pids]), pick([0, 10, -1, :x])]
  end

  test "random and malformed arguments to every NIF function" do
    functions =
      NIF.__info__(:functions)
      |> Enum.reject(fn {name, _} -> name in [:load_nif, :resource_counts] end)

    assert length(functions) >= 30
    h = handles()

    {results, answered} =
      for i <- 1..@calls, reduce: {%{}, 0} do
        {acc, answered} ->
          # fresh handles now and then: calls close connections and end transactions
          h = if rem(i, 500) == 0, do: handles(), else: h
          fun = pick(functions)
          result = call(h, fun)
          answered = if match?({:raised, _}, result), do: answered, else: answered + 1
          {Map.update(acc, fun, [result], &[result | Enum.take(&1, 5)]), answered}
      end

    # enough calls get past argument checking to reach the engine
    assert answered > div(@calls, 20), "only #{answered} of #{@calls} calls answered"

    # every function was exercised
    assert map_size(results) == length(functions)

    for {fun, outcomes} <- results, outcome <- outcomes do
      case outcome do
        {:raised, %ArgumentError{}} ->
          :ok

        {:raised, %ErlangError{original: :badarg}} ->
          :ok

        {:error, {:ecto_libsql_error, code, _, _, message, _, _}}
        when is_integer(code) and is_binary(message) ->
          :ok

        {:error, message} when is_binary(message) ->
          :ok

        other ->
          assert is_tuple(other) or is_atom(other) or is_map(other) or is_list(other) or
                   is_integer(other),
                 "#{inspect(fun)}: #{inspect(other)}"
      end
    end

    # the VM and a fresh connection are fine
    conn = open_conn()
    assert {:ok, %Result{rows: [[1]]}} = NIF.query(conn, nil, "SELECT 1", [])
    :ok = NIF.close(conn)
  end

  test "handles are not forgeable from other terms: they are refused as no handle" do
    h = handles()
    forged = [make_ref(), :erlang.term_to_binary(h.conn), {h.conn}, [h.conn], %{conn: h.conn}]

    for bad <- forged do
      assert {:error,
              {:ecto_libsql_error, 21, :misuse, :misuse, "Connection not found" <> _, nil, nil}} =
               NIF.query(bad, nil, "SELECT 1", [])

      assert {:error, {:ecto_libsql_error, 21, _, _, "Statement not found" <> _, nil, nil}} =
               NIF.stmt_close(bad)

      assert {:error, {:ecto_libsql_error, 21, _, _, "Cursor not found" <> _, nil, nil}} =
               NIF.cursor_close(bad)

      assert {:error, {:ecto_libsql_error, 21, _, _, "Transaction not found" <> _, nil, nil}} =
               NIF.transaction_status(bad)
    end

    assert {:ok, _} = NIF.query(h.conn, nil, "SELECT 1", [])
  end

  test "a term round-tripped through term_to_binary is still the same handle" do
    conn = open_conn()
    copy = conn |> :erlang.term_to_binary() |> :erlang.binary_to_term()
    assert {:ok, %Result{rows: [[1]]}} = NIF.query(copy, nil, "SELECT 1", [])
    :ok = NIF.close(conn)

    assert {:error, {:ecto_libsql_error, _, _, _, "Connection not found: it is closed", _, _}} =
             NIF.query(copy, nil, "SELECT 1", [])
  end

  test "the random calls left no handles behind" do
    before = resource_counts()

    in_process(fn ->
      h = handles()

      for _ <- 1..500,
          do: call(h, pick(NIF.__info__(:functions) -- [load_nif: 0, resource_counts: 0]))

      :ok
    end)

    assert eventually(fn ->
             c = resource_counts()

             c.connections <= before.connections and c.statements <= before.statements and
               c.cursors <= before.cursors and c.transactions <= before.transactions
           end)
  end
end
