# Remote mode against the Hrana test server (test/support/hrana_server.js) for what tursodb does
# not serve: authentication, stream expiry, base_url, v2-only servers, describe.
Code.require_file("../support/hrana_server.exs", __DIR__)

defmodule EctoLibSql.Native.RemoteHranaTest do
  use ExUnit.Case, async: false

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, HranaServer, Native}

  if reason = HranaServer.missing(), do: @moduletag(skip: reason)
  @moduletag :remote

  # n rows of about 300 bytes each.
  @rows_sql "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) " <>
              "SELECT i, printf('%300d', i) AS pad FROM c"

  defp start!(opts \\ []) do
    server = HranaServer.start!(opts)
    on_exit(fn -> HranaServer.stop(server) end)
    server
  end

  test "a wrong token is refused with the server's message" do
    server = start!(token: "right")

    assert {:error, %Error{message: message, sqlite: %{code: :auth, remote_code: "UNAUTHORIZED"}}} =
             Native.connect(uri: server.url, auth_token: "wrong")

    assert message =~ "Authentication failed"
    s = connect!(uri: server.url, auth_token: "right")
    assert rows!(s, "SELECT 1") == [[1]]
  end

  test "an expired stream fails its transaction; the connection goes on" do
    # long enough that a slow run does not expire the stream between BEGIN and the INSERT
    server = start!(expire_ms: 1_000)
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    Process.sleep(2_000)

    assert {:error, %Error{message: message, sqlite: %{remote_code: "STREAM_EXPIRED"}}} =
             Native.execute(t, "INSERT INTO t VALUES (2)", [])

    assert message =~ "transaction was abandoned"
    assert Native.get_is_autocommit(s)
    assert rows!(s, "SELECT count(*) FROM t") == [[0]]
  end

  test "requests of a stream follow its base_url" do
    server = start!(base_url_prefix: "/moved", token: "t")
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)

    for i <- 1..3 do
      assert {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (?)", [i])
    end

    assert {:ok, _} = Native.commit(t)
    assert rows!(s, "SELECT sum(x) FROM t") == [[6]]
  end

  test "a v2-only server runs transactions through batons" do
    server = start!(v2_only: true)
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    # Another connection does not see the uncommitted row: the transaction has its own stream.
    other = connect!(uri: server.url, auth_token: "t")
    assert rows!(other, "SELECT count(*) FROM t") == [[0]]
    {:ok, _} = Native.commit(t)
    assert rows!(other, "SELECT count(*) FROM t") == [[1]]
  end

  test "prepared statements describe their columns before running" do
    server = start!()
    s = connect!(uri: server.url, auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(id INTEGER, name TEXT)", [])
    {:ok, stmt} = Native.prepare(s, "SELECT id, name FROM t WHERE id = ?")
    assert {:ok, columns} = Native.get_stmt_columns(s, stmt)
    assert Enum.map(columns, &elem(&1, 0)) == ["id", "name"]
  end

  test "a kept-alive connection closed by a restarted server is replaced for reads" do
    server = start!()
    s = connect!(uri: server.url, auth_token: "t")
    assert rows!(s, "SELECT 1") == [[1]]
    HranaServer.stop(server)
    restarted = HranaServer.start!(port: server.port)
    on_exit(fn -> HranaServer.stop(restarted) end)
    assert rows!(s, "SELECT 2") == [[2]]
  end

  test "WebSocket: hello with a wrong token is refused; streams are per connection" do
    server = start!(token: "right")
    url = "ws://127.0.0.1:#{server.port}"

    assert {:error, %Error{message: message, sqlite: %{code: :auth}}} =
             Native.connect(uri: url, auth_token: "wrong")

    assert message =~ "Authentication failed"
    s = connect!(uri: url, auth_token: "right")
    other = connect!(uri: server.url, auth_token: "right", transport: :websocket)
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    assert rows!(other, "SELECT count(*) FROM t") == [[0]]
    {:ok, _} = Native.commit(t)
    assert rows!(other, "SELECT count(*) FROM t") == [[1]]
  end

  test "WebSocket: the server killed inside a transaction fails it; reads reconnect" do
    server = start!()
    s = connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t")
    {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
    {:ok, t} = Native.begin(s)
    {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
    HranaServer.stop(server)

    assert {:error, %Error{sqlite: %{remote_code: "CONNECTION_LOST"}}} =
             Native.execute(t, "INSERT INTO t VALUES (2)", [])

    assert Native.get_is_autocommit(s)
    restarted = HranaServer.start!(port: server.port)
    on_exit(fn -> HranaServer.stop(restarted) end)
    assert rows!(s, "SELECT 3") == [[3]]
  end

  describe "interrupt/1" do
    # The server (one Node thread) runs the query to its end (about 2 s); the client stops
    # waiting.
    @slow "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) " <>
            "SELECT count(*) FROM c"

    test "aborts the request in flight from another process; the connection stays usable" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      task = Task.async(fn -> Native.execute(s, @slow, []) end)
      # once the request is in flight; an interrupt before it is sent is a no-op
      Process.sleep(200)
      started = System.monotonic_time(:millisecond)

      assert {:error, %Error{message: "interrupted", sqlite: %{code: :interrupt}}} =
               interrupt_until_done(task, fn -> Native.interrupt(s) end)

      # the client stops waiting at once, while the server still runs the query for a second
      # or more
      assert System.monotonic_time(:millisecond) - started < 1_000
      assert rows!(s, "SELECT 1") == [[1]]
      assert :ok = Native.interrupt(s)
      assert rows!(s, "SELECT 2") == [[2]]
    end

    test "inside a transaction abandons the transaction; the connection goes on" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
      task = Task.async(fn -> Native.execute(t, @slow, []) end)
      Process.sleep(200)

      assert {:error, %Error{message: "interrupted; the transaction was abandoned" <> _} = e} =
               interrupt_until_done(task, fn -> Native.interrupt(s) end)

      assert e.sqlite.code == :interrupt
      assert Native.get_is_autocommit(s)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
      assert rows!(s, "SELECT 1") == [[1]]
    end

    test "over WebSocket aborts the request in flight; the socket is reopened" do
      server = start!()
      s = connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t")
      assert rows!(s, "SELECT 1") == [[1]]
      task = Task.async(fn -> Native.execute(s, @slow, []) end)
      # once the request is in flight; an interrupt before it is sent is a no-op
      Process.sleep(200)
      started = System.monotonic_time(:millisecond)

      assert {:error, %Error{message: "interrupted", sqlite: %{code: :interrupt}}} =
               interrupt_until_done(task, fn -> Native.interrupt(s) end)

      # the client stops waiting at once, while the server still runs the query for a second
      # or more
      assert System.monotonic_time(:millisecond) - started < 1_000
      assert rows!(s, "SELECT 2") == [[2]]
    end

    test "over WebSocket inside a transaction abandons the transaction" do
      server = start!()
      s = connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t")
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
      task = Task.async(fn -> Native.execute(t, @slow, []) end)
      Process.sleep(200)

      assert {:error,
              %Error{
                message: "interrupted; the transaction was abandoned",
                sqlite: %{code: :interrupt}
              }} = interrupt_until_done(task, fn -> Native.interrupt(s) end)

      assert Native.get_is_autocommit(s)
      assert rows!(s, "SELECT count(*) FROM t") == [[0]]
    end

    test "an interrupt between two fetches stops the cursor, as for an active local statement" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, cursor} = Native.declare_cursor(s, @rows_sql, [200_000])
      assert {:cont, %{num_rows: 10}} = Native.fetch(s, cursor, 10)
      :ok = Native.interrupt(s)
      assert {:error, %Error{sqlite: %{code: :interrupt}}} = Native.fetch(s, cursor, 100_000)
      # The rows are not silently cut short: every later fetch answers the error.
      assert {:error, %Error{sqlite: %{code: :interrupt}}} = Native.fetch(s, cursor, 10)
      :ok = Native.close_cursor(cursor)
      # An interrupt with nothing running and no cursor open changes nothing.
      :ok = Native.interrupt(s)
      {:ok, later} = Native.declare_cursor(s, @rows_sql, [3000])
      assert {:ok, 3000} = fetch_all(s, later, 1000)
    end

    test "stops a cursor reading a v3/cursor answer" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, cursor} = Native.declare_cursor(s, @rows_sql, [200_000])
      assert {:cont, %{num_rows: 10}} = Native.fetch(s, cursor, 10)
      task = Task.async(fn -> Native.fetch(s, cursor, 1_000_000) end)
      Process.sleep(50)
      :ok = Native.interrupt(s)
      assert {:error, %Error{sqlite: %{code: :interrupt}}} = Task.await(task, 30_000)
      assert rows!(s, "SELECT 3") == [[3]]
    end
  end

  describe "cursors through v3/cursor" do
    defp rss_kb do
      "/proc/self/status"
      |> File.read!()
      |> then(&Regex.run(~r/VmRSS:\s+(\d+)/, &1))
      |> Enum.at(1)
      |> String.to_integer()
    end

    defp fetch_all(s, cursor, max_rows, fun \\ fn _ -> :ok end, acc \\ 0) do
      case Native.fetch(s, cursor, max_rows) do
        {:cont, result} ->
          fun.(result)
          fetch_all(s, cursor, max_rows, fun, acc + result.num_rows)

        {:halt, result} ->
          fun.(result)
          {:ok, acc + result.num_rows}

        {:error, _} = error ->
          error
      end
    end

    test "a large result is read as it is fetched: memory stays bounded" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      # About 80 MB of JSON: read whole, the answer alone would grow the VM by more than that.
      {:ok, cursor} = Native.declare_cursor(s, @rows_sql, [200_000])
      :erlang.garbage_collect()
      before = rss_kb()
      peak = :counters.new(1, [])

      check = fn result ->
        assert Enum.all?(result.rows, fn [i, _pad] -> is_integer(i) end)
        grown = rss_kb() - before
        if grown > :counters.get(peak, 1), do: :counters.put(peak, 1, grown)
      end

      assert {:ok, 200_000} = fetch_all(s, cursor, 500, check)
      assert :counters.get(peak, 1) < 40_000, "RSS grew by #{:counters.get(peak, 1)} kB"
      :ok = Native.close_cursor(cursor)
      assert rows!(s, "SELECT 1") == [[1]]
    end

    test "rows come in order with their columns; parameters are bound" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")

      {:ok, cursor} =
        Native.declare_cursor(s, "SELECT i, 'r' || i AS r FROM (" <> @rows_sql <> ")", [1200])

      assert {:cont, %{columns: ["i", "r"], rows: rows}} = Native.fetch(s, cursor, 1000)
      assert Enum.map(rows, &hd/1) == Enum.to_list(1..1000)
      assert {:halt, %{rows: rest}} = Native.fetch(s, cursor, 1000)
      assert List.last(rest) == [1200, "r1200"]
    end

    test "an error after some rows fails the fetch that meets it; the connection goes on" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")

      sql =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) " <>
          "SELECT CASE WHEN i < 2000 THEN i ELSE abs(-9223372036854775807 - 1) END FROM c"

      {:ok, cursor} = Native.declare_cursor(s, sql, [])
      assert {:cont, %{num_rows: 1000}} = Native.fetch(s, cursor, 1000)
      assert {:error, %Error{message: message}} = Native.fetch(s, cursor, 1000)
      assert message =~ "integer overflow"
      assert rows!(s, "SELECT 1") == [[1]]
      # A statement that fails before its first row fails the first fetch.
      {:ok, bad} = Native.declare_cursor(s, "SELECT * FROM missing_table", [])
      assert {:error, %Error{message: missing}} = Native.fetch(s, bad, 10)
      assert missing =~ "no such table"
    end

    test "inside a transaction: other statements of the transaction run between fetches" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
      {:ok, t} = Native.begin(s)
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (0)", [])
      {:ok, cursor} = Native.declare_cursor(t, @rows_sql, [20_000])
      assert {:cont, %{num_rows: 100}} = Native.fetch(t, cursor, 100)
      # The transaction's stream is busy with the answer: the rest is read ahead first.
      {:ok, _} = Native.execute(t, "INSERT INTO t VALUES (1)", [])
      assert {:ok, 19_900} = fetch_all(t, cursor, 1000)
      # A cursor closed early: the transaction goes on.
      {:ok, early} = Native.declare_cursor(t, "SELECT x FROM t ORDER BY x", [])
      assert {:cont, %{rows: [[0]]}} = Native.fetch(t, early, 1)
      :ok = Native.close_cursor(early)
      {:ok, cursor2} = Native.declare_cursor(t, @rows_sql, [50_000])
      assert {:cont, _} = Native.fetch(t, cursor2, 10)
      :ok = Native.close_cursor(cursor2)
      assert rows!(t, "SELECT count(*) FROM t") == [[2]]
      {:ok, _} = Native.commit(t)
      assert Native.get_is_autocommit(s)
      other = connect!(uri: server.url, auth_token: "t")
      assert rows!(other, "SELECT count(*) FROM t") == [[2]]
    end

    test "two cursors outside a transaction, read in turns" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, a} = Native.declare_cursor(s, @rows_sql, [3000])
      {:ok, b} = Native.declare_cursor(s, @rows_sql, [3000])
      assert {:cont, %{rows: [[1, _] | _]}} = Native.fetch(s, a, 100)
      assert {:cont, %{rows: [[1, _] | _]}} = Native.fetch(s, b, 100)
      assert {:cont, %{rows: [[101, _] | _]}} = Native.fetch(s, a, 100)
      assert {:ok, 2900} = fetch_all(s, b, 1000)
      assert {:ok, 2800} = fetch_all(s, a, 1000)
    end

    test "max_response_size holds per row: a stream larger than it is read whole" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t", max_response_size: 200_000)
      # About 6 MB of rows, 30 times the limit.
      {:ok, cursor} = Native.declare_cursor(s, @rows_sql, [20_000])
      assert {:ok, 20_000} = fetch_all(s, cursor, 500)
      # The same rows as one reply are over the limit; the connection goes on.
      assert {:error, %Error{message: message, sqlite: %{code: :toobig}}} =
               Native.execute(s, @rows_sql, [20_000])

      assert message =~ "max_response_size (200000 bytes)"
      assert rows!(s, "SELECT 1") == [[1]]
    end

    test "rows read ahead into memory (inside a transaction) are a reply: the limit holds" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t", max_response_size: 200_000)
      {:ok, t} = Native.begin(s)
      {:ok, cursor} = Native.declare_cursor(t, @rows_sql, [20_000])
      assert {:cont, %{num_rows: 10}} = Native.fetch(t, cursor, 10)
      # Reading the rest ahead, for the statement that needs the stream, exceeds the limit:
      # the stream (and the transaction) cannot go on.
      assert {:error, %Error{message: message, sqlite: %{code: :toobig}}} =
               Native.execute(t, "SELECT 1", [])

      assert message =~ "the transaction was abandoned"
      assert Native.get_is_autocommit(s)
      assert rows!(s, "SELECT 2") == [[2]]
      # The cursor must stay referenced until here: collected earlier, it would read the rest
      # of its answer and drop it (as a cursor that is let go does), and nothing would need the
      # read-ahead this test is about.
      send(self(), {:keep, cursor})
    end

    test "a v2-only server pages a whole result" do
      server = start!(v2_only: true)
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, cursor} = Native.declare_cursor(s, @rows_sql, [3000])
      assert {:ok, 3000} = fetch_all(s, cursor, 1000)
    end
  end

  test "over WebSocket a message over max_response_size fails clearly; the connection goes on" do
    server = start!()

    s =
      connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t", max_response_size: 100_000)

    assert {:error, %Error{message: message, sqlite: %{code: :toobig}}} =
             Native.execute(s, @rows_sql, [2_000])

    assert message =~ "max_response_size (100000 bytes)"
    assert rows!(s, "SELECT 1") == [[1]]
  end

  describe "store_sql" do
    @slow_sql "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) " <>
                "SELECT count(*) FROM c"

    # The test server's counters (GET /debug/stats): SQL stored, closed, and statements run by id.
    defp stats(server) do
      {:ok, sock} = :gen_tcp.connect({127, 0, 0, 1}, server.port, [:binary, active: false])

      :ok =
        :gen_tcp.send(
          sock,
          "GET /debug/stats HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n" <>
            "Connection: close\r\n\r\n"
        )

      body = read_all(sock, "")

      Regex.scan(~r/"(\w+)":(\d+)/, body)
      |> Map.new(fn [_, k, v] -> {k, String.to_integer(v)} end)
    end

    defp read_all(sock, acc) do
      case :gen_tcp.recv(sock, 0, 5_000) do
        {:ok, data} -> read_all(sock, acc <> data)
        {:error, :closed} -> acc
      end
    end

    test "over WebSocket a statement run again is stored once and sent by id" do
      server = start!()
      s = connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t")
      {:ok, _} = Native.execute(s, "CREATE TABLE t(x)", [])
      {:ok, insert} = Native.prepare(s, "INSERT INTO t VALUES (?)")

      for i <- 1..5,
          do: assert({:ok, 1} = Native.execute_stmt(s, insert, "INSERT INTO t VALUES (?)", [i]))

      # The first run sends the text (a statement run once costs no extra request).
      assert %{"store_sql" => 1, "by_sql_id" => 4} = stats(server)
      {:ok, query} = Native.prepare(s, "SELECT x FROM t WHERE x = ?")
      assert {:ok, %{rows: [[2]]}} = Native.query_stmt(s, query, [2])
      assert {:ok, %{rows: [[3]]}} = Native.query_stmt(s, query, [3])
      assert %{"store_sql" => 2, "by_sql_id" => 5} = stats(server)
      :ok = Native.close_stmt(query)
      assert %{"close_sql" => 1} = stats(server)
      # A cursor runs its statement once: nothing is stored for it.
      {:ok, cursor} = Native.declare_cursor(s, "SELECT x FROM t ORDER BY x", [])
      assert {:halt, %{rows: [[1], [2], [3], [4], [5]]}} = Native.fetch(s, cursor, 10)
      assert %{"store_sql" => 2} = stats(server)
      :ok = Native.close_stmt(insert)
      assert %{"close_sql" => 2} = stats(server)
    end

    test "over WebSocket stored SQL is stored again on a new socket" do
      server = start!()
      s = connect!(uri: "ws://127.0.0.1:#{server.port}", auth_token: "t")
      {:ok, stmt} = Native.prepare(s, "SELECT ? + 1")
      assert {:ok, %{rows: [[2]]}} = Native.query_stmt(s, stmt, [1])
      assert {:ok, %{rows: [[3]]}} = Native.query_stmt(s, stmt, [2])
      assert %{"store_sql" => 1} = stats(server)
      # interrupt/1 shuts the socket down; the next call opens a new one.
      task = Task.async(fn -> Native.execute(s, @slow_sql, []) end)
      Process.sleep(200)

      assert {:error, %Error{sqlite: %{code: :interrupt}}} =
               interrupt_until_done(task, fn -> Native.interrupt(s) end)

      assert {:ok, %{rows: [[4]]}} = Native.query_stmt(s, stmt, [3])
      assert %{"store_sql" => 2, "by_sql_id" => 2} = stats(server)
    end

    test "over HTTP statements are sent as text: stored SQL would last one stream only" do
      server = start!()
      s = connect!(uri: server.url, auth_token: "t")
      {:ok, stmt} = Native.prepare(s, "SELECT ? + 1")
      for i <- 1..3, do: assert({:ok, %{rows: [[_]]}} = Native.query_stmt(s, stmt, [i]))
      assert %{"store_sql" => 0, "by_sql_id" => 0} = stats(server)
    end
  end
end
