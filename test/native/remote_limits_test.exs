# Remote mode against hostile servers (test/support/hostile_server.exs, on loopback): replies
# that never end, trickle, exceed the size limit or stop midway; request_timeout bounds every
# request end to end and max_response_size bounds what is buffered, with the VM's memory bounded.
Code.require_file("../support/hostile_server.exs", __DIR__)

defmodule EctoLibSql.Native.RemoteLimitsTest do
  use ExUnit.Case, async: false

  alias EctoLibSql.{Error, HostileServer, Native}

  @moduletag :remote

  defp start!(behaviour, opts \\ []) do
    server = HostileServer.start!(behaviour, opts)
    on_exit(fn -> HostileServer.stop(server) end)
    server
  end

  defp rss_kb do
    "/proc/self/status"
    |> File.read!()
    |> then(&Regex.run(~r/VmRSS:\s+(\d+)/, &1))
    |> Enum.at(1)
    |> String.to_integer()
  end

  defp elapsed_ms(fun) do
    started = System.monotonic_time(:millisecond)
    result = fun.()
    {System.monotonic_time(:millisecond) - started, result}
  end

  defp connect!(server, opts) do
    {:ok, s} = Native.connect([uri: server.url, auth_token: "t"] ++ opts)
    on_exit(fn -> Native.close(s) end)
    s
  end

  describe "request_timeout bounds a request end to end" do
    test "a never-ending chunked reply to the connect probe" do
      server = start!({:endless_chunked, 16_384}, probe: :hostile, max_ms: 60_000)
      before = rss_kb()

      {ms, result} =
        elapsed_ms(fn ->
          Native.connect(uri: server.url, auth_token: "t", request_timeout: 1_000)
        end)

      assert {:error, %Error{message: message, sqlite: %{code: code}}} = result

      # Bounded by the timeout (or, at loopback speed, by the size limit first): never the server's 60 s.
      assert message =~ "request timed out" or message =~ "max_response_size"
      assert code in [:ioerr, :toobig]
      assert ms < 15_000, "took #{ms} ms"
      assert rss_kb() - before < 400_000
    end

    test "a never-ending chunked reply to a read: not retried past the timeout" do
      server = start!({:endless_chunked, 1024}, max_ms: 60_000)
      s = connect!(server, request_timeout: 1_000, max_response_size: 1_000_000_000)
      before = rss_kb()
      {ms, result} = elapsed_ms(fn -> Native.execute(s, "SELECT 1", []) end)
      assert {:error, %Error{message: message, sqlite: %{code: :ioerr}}} = result
      assert message =~ "request timed out"
      assert ms < 15_000, "took #{ms} ms"
      # Read once, not twice: a retry only fits in what is left of the timeout.
      assert HostileServer.requests(server) == 1
      assert rss_kb() - before < 400_000
    end

    test "a reply trickled one byte at a time" do
      server = start!({:trickle, 20}, max_ms: 60_000)
      s = connect!(server, request_timeout: 800)
      {ms, result} = elapsed_ms(fn -> Native.execute(s, "SELECT 1", []) end)
      assert {:error, %Error{message: message}} = result
      assert message =~ "request timed out"
      assert ms < 15_000, "took #{ms} ms"
    end

    test "a reply cut after some bytes: a read is sent once more, within the timeout" do
      server = start!({:stop_after, 100})
      s = connect!(server, request_timeout: 2_000)
      {ms, result} = elapsed_ms(fn -> Native.execute(s, "SELECT 1", []) end)

      assert {:error, %Error{message: message, sqlite: %{remote_code: "CONNECTION_LOST"}}} =
               result

      assert message =~ "connection lost"
      assert ms < 15_000, "took #{ms} ms"
      assert HostileServer.requests(server) == 2
    end

    test "a write whose reply was cut is not sent again" do
      server = start!({:stop_after, 100})
      s = connect!(server, request_timeout: 2_000)
      assert {:error, %Error{message: message}} = Native.execute(s, "INSERT INTO t VALUES (1)")
      assert message =~ "may or may not have been applied"
      assert HostileServer.requests(server) == 1
    end
  end

  describe "max_response_size" do
    test "a reply over the limit fails clearly and grows the VM by no more than the limit" do
      server = start!({:oversize, 50_000_000})
      s = connect!(server, max_response_size: 1_000_000)
      before = rss_kb()

      assert {:error, %Error{message: message, sqlite: %{code: :toobig}}} =
               Native.execute(s, "SELECT 1", [])

      assert message =~ "max_response_size"
      assert message =~ "1000000"
      assert rss_kb() - before < 30_000
    end

    test "the same reply under the limit is read" do
      server = start!({:oversize, 2_000_000})
      s = connect!(server, max_response_size: 3_000_000)
      assert {:ok, %{rows: [[1]]}} = Native.execute(s, "SELECT 1", [])
    end

    test "the default limit is 256 MiB and the option is checked" do
      server = start!({:oversize, 1_000})

      assert_raise ArgumentError, ~r/max_response_size/, fn ->
        Native.connect(uri: server.url, auth_token: "t", max_response_size: -1)
      end

      s = connect!(server, [])
      assert {:ok, %{rows: [[1]]}} = Native.execute(s, "SELECT 1", [])
    end

    test "a cursor entry that never ends is bounded by the limit and the timeout" do
      server = start!({:endless_line, 16_384}, max_ms: 60_000)
      s = connect!(server, max_response_size: 2_000_000, request_timeout: 5_000)
      before = rss_kb()

      {ms, result} =
        elapsed_ms(fn ->
          with {:ok, cursor} <- Native.declare_cursor(s, "SELECT 1", []),
               do: Native.fetch(s, cursor, 10)
        end)

      assert {:error, %Error{message: message}} = result
      assert message =~ "max_response_size" or message =~ "request timed out"
      assert ms < 15_000, "took #{ms} ms"
      assert rss_kb() - before < 100_000
    end
  end
end
