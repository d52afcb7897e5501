defmodule EctoLibSql.Options do
  @moduledoc false
  # Checking connection options before a connection opens: the mode they select, a clear
  # message when they select none (what is missing or misspelt, which modes exist), a warning
  # once per unknown option naming the nearest known one, type errors that name the option
  # but never its value, and URLs redacted for messages. They become the options of
  # EctoLibSql.NIF.open/1 and the ATTACH and PRAGMA statements run after it. No Hex package is
  # referenced at compile time (DBConnection's option names are read at run time when it is
  # loaded).

  require Logger

  alias EctoLibSql.SQL

  # Options of this driver, by the modes that read them.
  @driver [
    database: [:local, :remote_replica],
    uri: [:remote, :remote_replica],
    auth_token: [:remote, :remote_replica],
    sync: [:remote_replica],
    sync_interval: [:remote_replica],
    read_your_writes: [:remote_replica],
    encryption_key: [:local, :remote_replica],
    remote_encryption_key: [:remote, :remote_replica],
    busy_timeout: [:local, :remote, :remote_replica],
    read_only: [:local, :remote_replica],
    connect_timeout: [:remote, :remote_replica],
    request_timeout: [:remote, :remote_replica],
    max_response_size: [:remote, :remote_replica],
    transport: [:remote],
    tls_ca_file: [:remote, :remote_replica],
    foreign_keys: [:local, :remote, :remote_replica],
    journal_mode: [:local, :remote_replica],
    synchronous: [:local, :remote_replica],
    attach: [:local, :remote_replica],
    default_transaction_mode: [:local, :remote, :remote_replica],
    max_rows: [:local, :remote, :remote_replica]
  ]

  # Options Ecto, Ecto SQL and DBConnection pass through with the driver's (DBConnection's own
  # list is added at run time).
  @pass_through ~w(otp_app repo timeout log pool pool_size pool_index pool_count name url
    telemetry_prefix telemetry_options stacktrace priv migration_lock migration_repo
    migration_source migration_primary_key migration_foreign_key migration_timestamps
    migration_default_prefix migration_advisory_lock_retry_interval_ms
    migration_advisory_lock_max_tries start_apps_before_migration prepare queue_target
    queue_interval idle_interval ownership_timeout ownership_log ownership_mode
    show_sensitive_data_on_connection_error after_connect after_connect_timeout backoff_min
    backoff_max backoff_type max_restarts max_seconds configure connection_listeners
    checkout_retries idle_limit ssl cache_write_statements dump_path log_level
    adapter driver deadline queue shutdown shared_memory_keeper)a

  @modes """
  Modes: local (database: "path.db" or ":memory:"), remote (uri: "libsql://...", \
  auth_token: "..."), embedded replica (database:, uri:, auth_token: and sync: true or false)\
  """

  @doc "The option names this driver reads."
  @spec driver_options() :: [atom()]
  def driver_options, do: Keyword.keys(@driver)

  @doc """
  The mode the options select, or a message saying what is missing or misspelt and which
  modes exist.
  """
  @spec mode(keyword()) :: {:ok, atom()} | {:error, String.t()}
  def mode(opts) do
    uri = Keyword.get(opts, :uri)
    token? = Keyword.has_key?(opts, :auth_token) and opts[:auth_token] != nil
    token? = token? or uri_token?(uri)
    database = Keyword.get(opts, :database)

    replica? = replica?(opts)

    cond do
      uri && token? && database && replica? -> {:ok, :remote_replica}
      uri && token? -> {:ok, :remote}
      uri && database && replica? -> {:error, missing_token(:replica)}
      database -> {:ok, :local}
      uri -> {:error, missing_token(:remote)}
      true -> {:error, no_mode(opts)}
    end
  end

  @doc """
  True when the options ask for an embedded replica (with `uri:` and `database:`): the `sync:`
  key, whatever its value, or `offline: true`.
  """
  @spec replica?(keyword()) :: boolean()
  def replica?(opts), do: Keyword.has_key?(opts, :sync) or Keyword.get(opts, :offline) == true

  defp missing_token(mode) do
    what = if mode == :replica, do: "an embedded replica", else: "remote mode"

    "#{what} needs :auth_token with :uri (an empty string for a server without " <>
      "authentication, or ?authToken=... in the URL). " <> @modes
  end

  defp no_mode(opts) do
    hints =
      for key <- [:database, :uri],
          {given, _} <- opts,
          is_atom(given),
          given not in Keyword.keys(@driver),
          nearest(given, [key]) == key,
          do: "#{inspect(given)} looks like a misspelling of #{inspect(key)}"

    hint = if hints == [], do: "", else: " (" <> Enum.join(Enum.uniq(hints), "; ") <> ")"
    "no :database or :uri option given#{hint}. " <> @modes
  end

  @doc """
  Logs a warning, once per option name in this VM, for options no layer reads, naming the
  nearest known one, and for driver options that the selected mode does not read.
  """
  @spec warn_unknown(keyword(), atom()) :: :ok
  def warn_unknown(opts, mode) do
    known = known_options()

    for {key, _} <- opts, is_atom(key) do
      cond do
        modes = @driver[key] ->
          unless mode in modes do
            once({:mode, key, mode}, fn ->
              "EctoLibSql: option #{inspect(key)} has no effect in #{mode} mode and is ignored"
            end)
          end

        key in known ->
          :ok

        true ->
          once({:unknown, key}, fn ->
            near = nearest(key, known)

            "EctoLibSql: unknown option #{inspect(key)} is ignored" <>
              if(near, do: " (did you mean #{inspect(near)}?)", else: "")
          end)
      end
    end

    :ok
  end

  defp known_options do
    extra =
      for module <- [DBConnection],
          Code.ensure_loaded?(module),
          fun <- [:available_start_options, :available_connection_options],
          function_exported?(module, fun, 0),
          key <- apply(module, fun, []),
          do: key

    Keyword.keys(@driver) ++ @pass_through ++ extra
  end

  defp once(key, message, level \\ :warning) do
    key = {__MODULE__, :logged, key}

    # The pool's connections start together: the lock makes the check and the mark one step.
    unless :persistent_term.get(key, false) do
      :global.trans(
        {key, self()},
        fn ->
          unless :persistent_term.get(key, false) do
            :persistent_term.put(key, true)
            Logger.log(level, message.())
          end
        end,
        [node()]
      )
    end
  end

  @doc """
  Checks the options before a pool starts (the Ecto adapter's child_spec): raises
  ArgumentError for options that select no mode, warns about unknown ones.
  """
  @spec validate!(keyword()) :: atom()
  def validate!(opts) do
    case mode(opts) do
      {:ok, mode} ->
        warn_unknown(opts, mode)
        mode

      {:error, message} ->
        raise ArgumentError, "EctoLibSql: " <> message
    end
  end

  @doc """
  Answers a configuration error of `connect/1`. In a DBConnection pool (`:pool_index` in the
  options) it is logged once and the connection process stops with `{:shutdown, error}`:
  DBConnection would otherwise try again with back-off, and log it again, for ever, from every
  connection of the pool, although no attempt can succeed.
  """
  @spec configuration_error(String.t(), keyword()) :: {:error, Exception.t()} | no_return()
  def configuration_error(message, opts) do
    error = %EctoLibSql.Error{message: message}

    if Keyword.has_key?(opts, :pool_index) do
      once({:configuration, message}, fn -> "EctoLibSql cannot connect: " <> message end, :error)
      exit({:shutdown, error})
    else
      {:error, error}
    end
  end

  # The known name most like `key`, when it is like enough to be a misspelling.
  defp nearest(key, candidates) do
    name = Atom.to_string(key)

    {best, score} =
      candidates
      |> Enum.map(&{&1, String.jaro_distance(name, Atom.to_string(&1))})
      |> Enum.max_by(fn {_, score} -> score end, fn -> {nil, 0.0} end)

    if score >= 0.8, do: best
  end

  @doc """
  The options of `EctoLibSql.NIF.open/1` for `mode`: a map of the required options of the mode
  and the optional ones given. Raises ArgumentError, naming the option but never its value,
  when one is missing, empty or of the wrong type.
  """
  @spec open_options(keyword(), atom()) :: map()
  def open_options(opts, mode) do
    require_option = fn key ->
      case Keyword.get(opts, key) do
        value when is_binary(value) and value != "" ->
          value

        # An empty token sends no Authorization header; a token in the URL stands for it.
        "" when key == :auth_token ->
          ""

        nil when key == :auth_token ->
          if uri_token?(opts[:uri]),
            do: "",
            else: raise(ArgumentError, "missing required option :auth_token for #{mode} mode")

        nil ->
          raise ArgumentError, "missing required option #{inspect(key)} for #{mode} mode"

        "" ->
          raise ArgumentError, "option #{inspect(key)} must not be empty"

        other ->
          raise ArgumentError,
                "option #{inspect(key)} must be a string, got #{kind(other)}"
      end
    end

    base =
      case mode do
        :local ->
          %{mode: :local, database: require_option.(:database)}

        :remote ->
          %{mode: :remote, uri: require_option.(:uri), auth_token: require_option.(:auth_token)}

        :remote_replica ->
          %{
            mode: :remote_replica,
            database: require_option.(:database),
            uri: require_option.(:uri),
            auth_token: require_option.(:auth_token)
          }

        _ ->
          %{mode: :unknown}
      end

    optional = [
      encryption_key: &string_option/2,
      remote_encryption_key: &string_option/2,
      busy_timeout: &integer_option/2,
      sync_interval: &integer_option/2,
      connect_timeout: &integer_option/2,
      request_timeout: &integer_option/2,
      max_response_size: &integer_option/2,
      read_your_writes: &boolean_option/2,
      read_only: &boolean_option/2,
      transport: &transport_option/2,
      tls_ca_file: &string_option/2,
      sync_protocol: &sync_protocol_option/2,
      offline: &boolean_option/2
    ]

    map =
      Enum.reduce(optional, base, fn {key, check}, acc ->
        case Keyword.get(opts, key) do
          nil -> acc
          value -> Map.put(acc, key, check.(key, value))
        end
      end)

    case Keyword.get(opts, :sync) do
      true -> Map.put(map, :sync, true)
      _ -> map
    end
  end

  defp string_option(_key, value) when is_binary(value), do: value

  defp string_option(key, value),
    do: raise(ArgumentError, "option #{inspect(key)} must be a string, got #{kind(value)}")

  defp integer_option(_key, value) when is_integer(value) and value >= 0, do: value

  defp integer_option(key, value),
    do:
      raise(
        ArgumentError,
        "option #{inspect(key)} must be a non-negative integer, got #{kind(value)}"
      )

  defp boolean_option(_key, value) when is_boolean(value), do: value

  defp boolean_option(key, value),
    do: raise(ArgumentError, "option #{inspect(key)} must be a boolean, got #{kind(value)}")

  defp transport_option(_key, value) when value in [:http, :websocket], do: Atom.to_string(value)
  defp transport_option(_key, value) when value in ["http", "websocket"], do: value

  defp transport_option(key, value),
    do:
      raise(
        ArgumentError,
        "option #{inspect(key)} must be :http or :websocket, got #{kind(value)}"
      )

  @sync_protocols [:auto, :libsql_http, :libsql_grpc, :turso]

  defp sync_protocol_option(_key, value) when value in @sync_protocols, do: Atom.to_string(value)

  defp sync_protocol_option(key, value),
    do:
      raise(
        ArgumentError,
        "option #{inspect(key)} must be one of #{inspect(@sync_protocols)}, got: #{inspect(value)}"
      )

  @doc """
  The `ATTACH DATABASE` statements of the `:attach` option (`[name: path]`). ATTACH holds for
  one connection: every connection of a pool runs them. Raises ArgumentError for malformed
  pairs and for modes without a local database file.
  """
  @spec attach_statements(atom(), keyword() | nil) :: [String.t()]
  def attach_statements(_mode, attach) when attach in [nil, []], do: []

  def attach_statements(mode, attach) when mode in [:local, :remote_replica] do
    for {name, path} <- attach do
      unless (is_atom(name) or is_binary(name)) and is_binary(path) do
        raise ArgumentError,
              ":attach takes [name: path] pairs, got: #{inspect({name, path})}"
      end

      "ATTACH DATABASE #{SQL.quote_string(path)} AS #{SQL.quote_name(to_string(name))}"
    end
  end

  def attach_statements(mode, _attach) do
    raise ArgumentError,
          ":attach needs a local database file (#{mode} mode cannot attach files)"
  end

  @doc """
  The PRAGMA statements of the `:foreign_keys`, `:journal_mode` and `:synchronous` options, run
  after the connection opens. Raises ArgumentError for a value the PRAGMA does not take.
  """
  @spec pragma_statements(keyword()) :: [String.t()]
  def pragma_statements(opts) do
    [
      foreign_keys: fn v -> "PRAGMA foreign_keys = #{if v, do: "ON", else: "OFF"}" end,
      journal_mode: fn v -> "PRAGMA journal_mode = #{pragma_word(:journal_mode, v)}" end,
      synchronous: fn v -> "PRAGMA synchronous = #{pragma_word(:synchronous, v)}" end
    ]
    |> Enum.flat_map(fn {key, sql} ->
      case Keyword.fetch(opts, key) do
        {:ok, value} when value != nil -> [sql.(value)]
        _ -> []
      end
    end)
  end

  @journal_modes ~w(delete truncate persist memory wal off)a
  @synchronous ~w(off normal full extra)a
  defp pragma_word(:journal_mode, v) when v in @journal_modes,
    do: String.upcase(Atom.to_string(v))

  defp pragma_word(:synchronous, v) when v in @synchronous, do: String.upcase(Atom.to_string(v))
  defp pragma_word(:synchronous, v) when v in 0..3, do: Integer.to_string(v)

  defp pragma_word(key, v),
    do: raise(ArgumentError, "invalid value for #{inspect(key)}: #{inspect(v)}")

  @doc "True when the URL carries a token (`?authToken=`)."
  @spec uri_token?(term()) :: boolean()
  def uri_token?(uri) when is_binary(uri) do
    case String.split(uri, "?", parts: 2) do
      [_, query] ->
        query
        |> String.split("#", parts: 2)
        |> hd()
        |> String.split("&")
        |> Enum.any?(&String.starts_with?(&1, "authToken="))

      _ ->
        false
    end
  end

  def uri_token?(_), do: false

  @doc "`uri` for messages and inspection: user info and query replaced by `<redacted>`."
  @spec redact_uri(term()) :: term()
  def redact_uri(uri) when is_binary(uri) do
    {scheme, rest} =
      case String.split(uri, "://", parts: 2) do
        [scheme, rest] -> {scheme <> "://", rest}
        [rest] -> {"", rest}
      end

    {before, query?} =
      case :binary.match(rest, ["?", "#"]) do
        {at, _} -> {binary_part(rest, 0, at), binary_part(rest, at, 1)}
        :nomatch -> {rest, nil}
      end

    {authority, path} =
      case String.split(before, "/", parts: 2) do
        [authority, path] -> {authority, "/" <> path}
        [authority] -> {authority, ""}
      end

    authority =
      case String.split(authority, "@") do
        [_ | _] = parts when length(parts) > 1 -> "<redacted>@" <> List.last(parts)
        _ -> authority
      end

    scheme <> authority <> path <> if(query?, do: query? <> "<redacted>", else: "")
  end

  def redact_uri(other), do: other

  @doc "The options with secrets removed and the URL redacted: safe to keep and print."
  @spec printable(keyword()) :: keyword()
  def printable(opts) do
    opts
    |> Keyword.drop([:auth_token, :encryption_key, :remote_encryption_key, :password])
    |> Enum.map(fn
      {:uri, uri} -> {:uri, redact_uri(uri)}
      {:url, url} -> {:url, redact_uri(url)}
      other -> other
    end)
  end

  @doc "What kind of value `value` is, for type errors that must not print it."
  @spec kind(term()) :: String.t()
  def kind(value) when is_binary(value), do: "a string"
  def kind(value) when is_integer(value), do: "an integer"
  def kind(value) when is_float(value), do: "a float"
  def kind(value) when is_boolean(value), do: "a boolean"
  def kind(nil), do: "nil"
  def kind(value) when is_atom(value), do: "an atom"
  def kind(value) when is_list(value), do: "a list (a charlist? pass a string)"
  def kind(value) when is_map(value), do: "a map"
  def kind(value) when is_tuple(value), do: "a tuple"
  def kind(_), do: "another kind of value"
end
