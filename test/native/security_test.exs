# Secrets, header injection, URL handling and configuration errors: no token or key in a
# printable state, a message or a log; control characters refused in tokens, URLs and header
# values; libSQL URLs with ?authToken= and ?tls=; clear errors for options that select no mode.
Code.require_file("../support/hostile_server.exs", __DIR__)

defmodule EctoLibSql.Native.SecurityTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Error, HostileServer, Native, State}

  @token "tok-SECRET-4f9a"
  @key "K3y-SECRET-0123456789abcdef0123456789"

  defp server!(opts \\ []) do
    server = HostileServer.start!(:ok, [notify: self()] ++ opts)
    on_exit(fn -> HostileServer.stop(server) end)
    server
  end

  defp next_request do
    assert_receive {:hostile_request, method, target, headers}, 5_000
    {method, target, Map.new(headers)}
  end

  describe "header injection" do
    test "CR/LF in auth_token is refused before anything is sent, without printing it" do
      server = server!()

      for token <- ["SECRET\r\nX-Evil: injected", "SECRET\nX", "SECRET\0x", "SECRET\x7f"] do
        assert {:error, %Error{message: message, sqlite: %{code: :misuse}}} =
                 Native.connect(uri: server.url, auth_token: token)

        assert message =~ "auth_token contains a control character"
        refute message =~ "SECRET"
        refute message =~ "Evil"
      end

      refute_receive {:hostile_request, _, _, _}, 200
    end

    test "CR/LF or spaces in the URL are refused" do
      server = server!()

      for uri <- [server.url <> "/a\r\nX-Evil: 1", server.url <> "/a b", server.url <> "\n"] do
        assert {:error, %Error{message: message}} = Native.connect(uri: uri, auth_token: "t")
        assert message =~ "control character"
        refute message =~ "Evil"
      end

      refute_receive {:hostile_request, _, _, _}, 200
    end

    test "a URL-encoded CR/LF in ?authToken= is refused too" do
      server = server!()

      assert {:error, %Error{message: message}} =
               Native.connect(uri: server.url <> "?authToken=a%0D%0AX-Evil:%201")

      assert message =~ "auth_token contains a control character"
      refute message =~ "Evil"
    end

    test "remote_encryption_key with CR/LF is refused" do
      server = server!()

      assert {:error, %Error{message: message}} =
               Native.connect(
                 uri: server.url,
                 auth_token: "t",
                 remote_encryption_key: "k\r\nX-Evil: 1"
               )

      assert message =~ "remote_encryption_key contains a control character"
    end
  end

  describe "tokens and URLs" do
    test "the token goes in one Authorization header; an empty token sends none" do
      server = server!()
      s = connect!(uri: server.url, auth_token: @token)
      assert {"GET", "/v3", %{"authorization" => "Bearer " <> @token}} = next_request()
      assert {:ok, %{rows: [[1]]}} = Native.execute(s, "SELECT 1")
      assert {"POST", "/v3/pipeline", %{"authorization" => "Bearer " <> @token}} = next_request()

      _ = connect!(uri: server.url, auth_token: "")
      assert {"GET", "/v3", headers} = next_request()
      refute Map.has_key?(headers, "authorization")
    end

    test "libsql://host?authToken=...&tls=0 is accepted as libSQL's clients accept it" do
      server = server!()
      uri = "libsql://127.0.0.1:#{server.port}?authToken=#{@token}&tls=0"
      s = connect!(uri: uri)
      assert s.mode == :remote
      assert {"GET", "/v3", %{"authorization" => "Bearer " <> @token}} = next_request()
      refute inspect(s) =~ @token
      # The URL's token stands for the option.
      _ = connect!(uri: server.url <> "/?authToken=from-url", auth_token: "option")
      assert {"GET", "/v3", %{"authorization" => "Bearer from-url"}} = next_request()
    end

    test "URL query parameters libSQL does not know, fragments and bad tls values are refused" do
      for {uri, expected} <- [
            {"libsql://h?foo=SECRET-VALUE", "unsupported query parameter"},
            {"libsql://h?tls=2", "tls parameter must be 0 or 1"},
            {"libsql://h?tls=0", "explicit port"},
            {"libsql://h#SECRET-VALUE", "fragments"},
            {"http://h:99999", "port"}
          ] do
        assert {:error, %Error{message: message}} = Native.connect(uri: uri, auth_token: "t")
        assert message =~ expected
        refute message =~ "SECRET-VALUE"
      end
    end

    test "messages redact user info and query strings" do
      uri = "ftp://admin:hunter2pass@example.com/db?authToken=SECRETQ"

      assert {:error, %Error{message: message}} = Native.connect(uri: uri, auth_token: "t")
      assert message =~ "unsupported URL scheme"
      assert message =~ "example.com/db"
      refute message =~ "hunter2pass"
      refute message =~ "SECRETQ"
    end
  end

  describe "secrets in printable state" do
    test "a remote state keeps no token; its URL is redacted" do
      server = server!()
      s = connect!(uri: server.url <> "?authToken=#{@token}", auth_token: @token)

      for text <- [inspect(s), inspect(s, structs: false), inspect(s.opts)] do
        refute text =~ @token
      end

      assert s.opts[:uri] =~ "?<redacted>"
    end

    test "a local state keeps no encryption key" do
      s = connect!(database: tmp_db(), encryption_key: @key)
      refute inspect(s) =~ @key
      refute inspect(s, structs: false) =~ "SECRET"
      refute Keyword.has_key?(s.opts, :encryption_key)
    end

    test "a FunctionClauseError on a state does not print its secrets" do
      server = server!()
      s = connect!(uri: server.url, auth_token: @token, remote_encryption_key: @key)

      error =
        try do
          Native.execute(s, 123)
        rescue
          e in FunctionClauseError -> {e, __STACKTRACE__}
        end

      {exception, stacktrace} = error
      {blamed, _} = Exception.blame(:error, exception, stacktrace)
      text = Exception.format(:error, blamed, stacktrace)
      assert text =~ "FunctionClauseError"
      refute text =~ "SECRET"
    end

    test "option type errors name the option, never its value" do
      for opts <- [
            [database: ":memory:", encryption_key: String.to_charlist(@key)],
            [database: ":memory:", encryption_key: {:key, @key}],
            [uri: "http://127.0.0.1:1", auth_token: String.to_charlist(@token)],
            [uri: "http://127.0.0.1:1", auth_token: "t", remote_encryption_key: [@key]],
            [database: ":memory:", busy_timeout: "SECRET-5"]
          ] do
        error = assert_raise ArgumentError, fn -> Native.connect(opts) end
        assert error.message =~ ~r/option :\w+ must be/
        refute error.message =~ "SECRET"
      end
    end
  end

  describe "configuration errors" do
    test "no mode: says what is missing and which modes exist" do
      assert {:error, %Error{message: message}} = Native.connect([])
      assert message =~ "Unknown mode: no :database or :uri option given"
      assert message =~ "Modes: local"
      assert message =~ "remote"
      assert message =~ "embedded replica"
    end

    test "a misspelt option is named with the option it resembles" do
      assert {:error, %Error{message: message}} = Native.connect(databse: "x.db")
      assert message =~ ":databse looks like a misspelling of :database"
    end

    test "uri without auth_token names the missing option" do
      assert {:error, %Error{message: message}} = Native.connect(uri: "libsql://h")
      assert message =~ "needs :auth_token"
      assert message =~ "?authToken="

      assert {:error, %Error{message: message}} =
               Native.connect(uri: "libsql://h", database: "r.db", sync: true)

      assert message =~ "an embedded replica needs :auth_token"
    end

    test "unknown options warn once, naming the nearest known option" do
      key = :"busy_timout_#{System.unique_integer([:positive])}"
      log = capture_log(fn -> connect!([database: ":memory:"] ++ [{key, 1}]) end)
      assert log =~ "unknown option #{inspect(key)} is ignored (did you mean :busy_timeout?)"
      assert capture_log(fn -> connect!([database: ":memory:"] ++ [{key, 1}]) end) == ""

      log = capture_log(fn -> connect!(database: ":memory:", bogus_option_xyz: 1) end)
      assert log =~ "unknown option :bogus_option_xyz is ignored"
    end

    test "options of another mode warn once; Ecto's and DBConnection's pass silently" do
      log = capture_log(fn -> connect!(database: ":memory:", transport: :websocket) end)
      assert log =~ "option :transport has no effect in local mode"

      log =
        capture_log(fn ->
          connect!(
            database: ":memory:",
            pool_size: 2,
            pool_index: 1,
            otp_app: :x,
            repo: X,
            timeout: 5,
            log: false,
            telemetry_prefix: [:x],
            backoff_type: :stop,
            migration_source: "m"
          )
        end)

      refute log =~ "unknown option"
    end
  end

  test "State.detect_mode/1 counts a token in the URL" do
    assert State.detect_mode(uri: "libsql://h?authToken=x") == :remote
    assert State.detect_mode(uri: "libsql://h") == :unknown
  end
end
