# Configuration through DBConnection: errors that no retry can mend are logged once; logs show
# no secret.
defmodule EctoLibSql.Driver.ConfigTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import EctoLibSql.TestHelpers, only: [forward_logs: 1, assert_log: 1]

  @token "tok-SECRET-4f9a"
  @key "K3y-SECRET-0123456789abcdef0123456789"

  test "a connection error logged by DBConnection shows no secret" do
    {:ok, listener} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(listener)
    :gen_tcp.close(listener)
    Process.flag(:trap_exit, true)

    log =
      capture_log(fn ->
        forward_logs(fn ->
          {:ok, pool} =
            DBConnection.start_link(EctoLibSql,
              uri: "http://user:#{@token}@127.0.0.1:#{port}?authToken=#{@token}",
              auth_token: @token,
              remote_encryption_key: @key,
              backoff_min: 50,
              backoff_max: 100
            )

          assert_log("Failed to connect to 127.0.0.1:#{port}")
          GenServer.stop(pool)
        end)
      end)

    assert log =~ "Failed to connect to 127.0.0.1:#{port}"
    refute log =~ "SECRET"
  end

  test "a pool with options that select no mode logs it once and stops" do
    Process.flag(:trap_exit, true)

    log =
      capture_log(fn ->
        {:ok, pool} =
          DBConnection.start_link(EctoLibSql,
            databse: "never.db",
            pool_size: 3,
            backoff_min: 10,
            backoff_max: 20
          )

        # No connection can ever open: the pool stops instead of retrying for ever.
        assert_receive {:EXIT, ^pool, _reason}, 10_000
      end)

    occurrences = length(String.split(log, "looks like a misspelling")) - 1
    assert occurrences == 1, log
    refute log =~ "The exception details are hidden"
  end

  test "a connect call outside a pool answers the error" do
    assert {:error, %EctoLibSql.Error{message: "Unknown mode: " <> _}} = EctoLibSql.connect([])

    assert {:error, %EctoLibSql.Error{message: message}} =
             EctoLibSql.connect(database: ":memory:", busy_timeout: "x")

    assert message =~ "option :busy_timeout must be a non-negative integer"
  end
end
