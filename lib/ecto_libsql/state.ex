defmodule EctoLibSql.State do
  @moduledoc """
  The state of a connection: its handle, the open transaction's handle, the mode, whether it
  syncs, and whether foreign key enforcement was switched off (`foreign_keys_enforced: false`
  in a query's options; a rollback switches it back on).

  `conn_id` and `trx_id` are opaque handles (NIF resources): pass them back, do not inspect
  them.
  """

  @enforce_keys [:conn_id]
  defstruct [:conn_id, :trx_id, :mode, :sync, foreign_keys_off: false, opts: []]

  @type mode :: :local | :remote | :remote_replica | :unknown
  @type t :: %__MODULE__{
          conn_id: reference(),
          trx_id: reference() | nil,
          mode: mode() | nil,
          sync: :enable_sync | :disable_sync | nil,
          foreign_keys_off: boolean(),
          opts: keyword()
        }

  @doc """
  The connection mode the options ask for:

    * `:remote_replica` - `:uri`, `:auth_token`, `:database` and a `:sync` key (any value) or
      `offline: true`
    * `:remote` - `:uri` and `:auth_token`
    * `:local` - `:database`
    * `:unknown` - none of these
  """
  @spec detect_mode(keyword()) :: mode()
  def detect_mode(opts) do
    uri = Keyword.get(opts, :uri)
    token = Keyword.get(opts, :auth_token)
    database = Keyword.get(opts, :database)

    cond do
      uri && token && database &&
          (Keyword.has_key?(opts, :sync) or Keyword.get(opts, :offline) == true) ->
        :remote_replica

      uri && token ->
        :remote

      database ->
        :local

      true ->
        :unknown
    end
  end

  @doc "`:enable_sync` when `sync: true`, otherwise `:disable_sync`."
  @spec detect_sync(keyword()) :: :enable_sync | :disable_sync
  def detect_sync(opts) do
    if Keyword.get(opts, :sync) == true, do: :enable_sync, else: :disable_sync
  end
end
