defmodule EctoLibSql.OfflineSCM do
  @moduledoc false
  # Used only when the Hex packages come from local checkouts (ECTO_LIBSQL_DEPS_PATH) and Hex
  # itself is not installed. The checked-out packages declare their own development tools
  # (ex_doc, stream_data, benchee, ...) as Hex dependencies; Mix must resolve them before it
  # can see that they are never built. This SCM resolves them and refuses to fetch anything:
  # every package that is really needed comes from the checkouts.
  @behaviour Mix.SCM

  @impl true
  def fetchable?, do: false

  @impl true
  def format(_opts), do: "not available offline"

  @impl true
  def format_lock(_opts), do: nil

  @impl true
  def accepts_options(_app, opts) do
    if Keyword.has_key?(opts, :git) or Keyword.has_key?(opts, :path),
      do: nil,
      else: Keyword.put(opts, :dest, "")
  end

  @impl true
  def checked_out?(_opts), do: false

  @impl true
  def lock_status(_opts), do: :ok

  @impl true
  def equal?(opts1, opts2), do: opts1[:dest] == opts2[:dest]

  @impl true
  def managers(_opts), do: []

  @impl true
  def checkout(opts), do: unavailable(opts)

  @impl true
  def update(opts), do: unavailable(opts)

  defp unavailable(opts) do
    Mix.raise(
      "#{opts[:dest]}: this package is not in ECTO_LIBSQL_DEPS_PATH and Hex is not available"
    )
  end
end
