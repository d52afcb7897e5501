defmodule EctoLibSql.Encryption do
  @moduledoc """
  Key management for encrypted local databases (also reachable as `EctoLibSql.Native.rekey/3`,
  `EctoLibSql.Native.encrypt_database/3` and `EctoLibSql.Native.decrypt_database/3`).

  Files use libSQL's cipher (`aes256cbc` of SQLite3 Multiple Ciphers): libSQL opens them with
  the same key, and this library opens files libSQL wrote. Connect with the `:encryption_key`
  option; docs/encryption.md explains the format and its limits.

  Every function writes a complete new file next to the destination and renames it into place,
  so a crash leaves either the old file or the new one. The destination may be the source
  itself (converted in place: close every connection to it first, in every process), otherwise
  it must not exist. Keys that read an existing file may be any key libSQL accepts; new keys
  need at least 32 characters, like `:encryption_key`. Only the first 32 bytes of a key count
  (libSQL truncates longer keys).

  Next to each encrypted database the engine keeps `<database>-integrity`, with a tag per page,
  so that a damaged or altered page gives an error instead of wrong data; these functions write
  it along with the new file.
  """

  alias EctoLibSql.{Error, NIF}

  @doc """
  Writes an encrypted copy of the plain database `source` to `destination`, encrypted with
  `key` (at least 32 characters).
  """
  @spec encrypt_database(Path.t(), Path.t(), binary()) :: :ok | {:error, Error.t()}
  def encrypt_database(source, destination, key) do
    result(NIF.encrypt_database(path!(source), path!(destination), key!(key)))
  end

  @doc """
  Writes a plain (unencrypted) copy of the encrypted database `source` to `destination`.
  `key` may be any key libSQL accepts, also one shorter than 32 characters.
  """
  @spec decrypt_database(Path.t(), Path.t(), binary()) :: :ok | {:error, Error.t()}
  def decrypt_database(source, destination, key) do
    result(NIF.decrypt_database(path!(source), path!(destination), key!(key)))
  end

  @doc """
  Changes the key of the encrypted database `database` from `old_key` to `new_key` (at least
  32 characters), in place. A wrong `old_key` changes nothing.
  """
  @spec rekey(Path.t(), binary(), binary()) :: :ok | {:error, Error.t()}
  def rekey(database, old_key, new_key) do
    result(NIF.rekey(path!(database), key!(old_key), key!(new_key)))
  end

  defp result(:ok), do: :ok
  defp result({:error, native}), do: {:error, Error.from_native(native)}

  defp path!(path) when is_binary(path), do: path

  defp path!(path) when is_list(path) do
    IO.chardata_to_string(path)
  rescue
    _ -> raise ArgumentError, "expected a path, got: #{inspect(path)}"
  end

  defp path!(other), do: raise(ArgumentError, "expected a path, got: #{inspect(other)}")

  defp key!(key) when is_binary(key), do: key
  defp key!(_other), do: raise(ArgumentError, "keys must be binaries")
end
