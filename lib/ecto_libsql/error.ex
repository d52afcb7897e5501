defmodule EctoLibSql.Error do
  @moduledoc """
  An error from the database or the driver.

    * `:message` - SQLite's (or the server's) message. UNIQUE violations name the index
      when one matches: `"UNIQUE constraint failed: users.email (index: users_email_index)"`.
      Foreign key violations name the key they broke (local mode): `"FOREIGN KEY constraint
      failed: posts.user_id (foreign key: posts_user_id_fkey)"`, the name written in
      `CONSTRAINT <name>` or else Ecto's default `<table>_<column>_fkey`. To find it the failed
      statement runs once more with foreign keys deferred, in a savepoint that is rolled back
      (so neither its changes nor update-hook notices remain).
    * `:sqlite` - `nil` for errors raised in Elixir, otherwise a map with
      * `:code` - SQLite's primary result code as an atom (`:constraint`, `:busy`, ...)
      * `:extended_code` - SQLite's extended result code (`2067` for a UNIQUE violation)
      * `:extended` - its name (`:constraint_unique`)
      * `:message` - the message again
      * `:remote_code` - the server's error code in remote mode (`"SQLITE_CONSTRAINT"`), or `nil`
    * `:constraint` - for a constraint violation, `{kind, name}`: what it broke, in every mode,
      `nil` otherwise (and for a foreign key failure whose key could not be found). `kind` is
      `:unique`, `:primary_key`, `:foreign_key`, `:check` or `:not_null`, from the extended
      code; `name` is the unique index or foreign key named in the message (as above), else the
      name Ecto's changeset constraints expect, read from SQLite's message:
      `"users_email_index"` for `"UNIQUE constraint failed: users.email"` (also for NOT NULL),
      the CHECK constraint's name for `"CHECK constraint failed: price_positive"`.
  """

  defexception [:message, :sqlite, constraint: nil]

  @type constraint_kind :: :unique | :primary_key | :foreign_key | :check | :not_null
  @type t :: %__MODULE__{
          message: String.t(),
          sqlite: map() | nil,
          constraint: {constraint_kind(), String.t()} | nil
        }

  @doc false
  @spec from_native(tuple()) :: t()
  def from_native({:ecto_libsql_error, code, primary, extended, message, remote, constraint}) do
    %__MODULE__{
      message: message,
      sqlite: %{
        code: primary,
        extended_code: code,
        extended: extended,
        message: message,
        remote_code: remote
      },
      constraint: constraint
    }
  end

  def from_native(message) when is_binary(message), do: %__MODULE__{message: message}
  def from_native(%__MODULE__{} = error), do: error
  def from_native(other), do: %__MODULE__{message: inspect(other)}

  @doc "True when the error is a constraint violation."
  @spec constraint_violation?(t() | term()) :: boolean()
  def constraint_violation?(%__MODULE__{sqlite: %{code: :constraint}}), do: true

  def constraint_violation?(%__MODULE__{message: message}) when is_binary(message),
    do: String.contains?(message, "constraint failed")

  def constraint_violation?(_), do: false

  @doc """
  The column a constraint message names (`"users.email"` gives `"email"`), or `nil`.
  """
  @spec constraint_name(t() | term()) :: String.t() | nil
  def constraint_name(%__MODULE__{message: message}) when is_binary(message) do
    case Regex.run(~r/constraint failed: (\w+)\.(\w+)/, message) do
      [_, _table, field] -> field
      _ -> nil
    end
  end

  def constraint_name(_), do: nil
end
