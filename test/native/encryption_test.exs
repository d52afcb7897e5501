defmodule EctoLibSql.Native.EncryptionTest do
  use ExUnit.Case, async: true

  alias EctoLibSql.{Error, Native, Result}

  @moduletag :tmp_dir
  @data Path.expand("../../native/tests/data", __DIR__)
  @key "0123456789abcdef0123456789abcdef-elixir"
  @other_key "another-key-that-is-long-enough-for-us"
  @oracle_key "peer-test-key-0123456789"
  @multipage_key "a-32-character-encryption-key-000"

  defp copy_oracle(name, dir) do
    path = Path.join(dir, name)
    File.cp!(Path.join(@data, name), path)
    path
  end

  defp query!(state, sql, args \\ []) do
    {:ok, %Result{rows: rows}} = Native.execute(state, sql, args)
    rows
  end

  defp create(path, key \\ @key) do
    {:ok, state} = Native.connect(database: path, encryption_key: key)
    query!(state, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
    query!(state, "INSERT INTO t(v) VALUES ('hidden-value'), ('another')")
    Native.close(state)
  end

  test "reads the multipage file libSQL wrote, with the contents its README lists", %{
    tmp_dir: dir
  } do
    path = copy_oracle("encrypted_multipage_by_libsql.db", dir)
    {:ok, state} = Native.connect(database: path, encryption_key: @multipage_key)

    assert query!(state, "SELECT count(*), sum(score), sum(length(body)) FROM docs") ==
             [[500, 15656.25, 51742]]

    assert query!(state, "SELECT hex(payload) FROM docs WHERE id = 500") == [
             [
               "8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3" <>
                 "B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACB"
             ]
           ]

    assert query!(state, "PRAGMA integrity_check") == [["ok"]]
    refute Keyword.has_key?(state.opts, :encryption_key)
  end

  test "a key shorter than 32 characters is refused at connect", %{tmp_dir: dir} do
    path = copy_oracle("encrypted_by_libsql.db", dir)

    assert {:error, %Error{message: "encryption_key must be at least 32 characters long"} = e} =
             Native.connect(database: path, encryption_key: @oracle_key)

    assert e.sqlite.code == :misuse
    assert {:error, %Error{}} = Native.connect(database: path, encryption_key: "")
    assert_raise ArgumentError, fn -> Native.connect(database: path, encryption_key: 123) end
  end

  test "the 24-character oracle key reads the oracle through decrypt_database/3",
       %{tmp_dir: dir} do
    path = copy_oracle("encrypted_by_libsql.db", dir)
    plain = Path.join(dir, "plain.db")
    assert :ok = Native.decrypt_database(path, plain, @oracle_key)
    {:ok, state} = Native.connect(database: plain)

    assert query!(state, "SELECT id, name, val FROM secrets ORDER BY id") ==
             [[1, "alpha", 1.5], [2, "beta", 2.5], [3, "gamma", 3.5]]
  end

  test "rekey/3 moves the short-key oracle to a key connect accepts", %{tmp_dir: dir} do
    path = copy_oracle("encrypted_by_libsql.db", dir)
    assert :ok = Native.rekey(path, @oracle_key, @key)
    {:ok, state} = Native.connect(database: path, encryption_key: @key)
    assert query!(state, "SELECT group_concat(name) FROM secrets") == [["alpha,beta,gamma"]]
  end

  test "round trip: nothing readable on disk, the key opens it again", %{tmp_dir: dir} do
    path = Path.join(dir, "r.db")
    create(path)
    bytes = File.read!(path)
    refute bytes =~ "hidden-value"
    refute bytes =~ "SQLite format 3"
    {:ok, state} = Native.connect(database: path, encryption_key: @key)
    assert query!(state, "SELECT v FROM t ORDER BY id") == [["hidden-value"], ["another"]]
  end

  test "a wrong key says so and changes nothing", %{tmp_dir: dir} do
    path = Path.join(dir, "w.db")
    create(path)
    before = File.read!(path)

    assert {:error, %Error{message: message, sqlite: %{code: :notadb}}} =
             Native.connect(database: path, encryption_key: @other_key)

    assert message ==
             "Failed to connect to #{path}: file is not a database, or the encryption key is wrong"

    assert File.read!(path) == before

    assert {:error, %Error{message: no_key}} = Native.connect(database: path)
    assert no_key =~ "the database is encrypted; give its encryption_key"
  end

  test "WAL is refused with a clear error", %{tmp_dir: dir} do
    path = Path.join(dir, "wal.db")

    assert {:error, %Error{message: message}} =
             Native.connect(database: path, encryption_key: @key, journal_mode: :wal)

    assert message =~ "journal_mode=WAL is not supported for encrypted databases"
    {:ok, state} = Native.connect(database: path, encryption_key: @key, journal_mode: :truncate)
    assert query!(state, "PRAGMA journal_mode") == [["truncate"]]
  end

  test "encrypt_database/3 and decrypt_database/3 round trip, in place too", %{tmp_dir: dir} do
    plain = Path.join(dir, "plain.db")
    {:ok, state} = Native.connect(database: plain)
    query!(state, "CREATE TABLE t(x TEXT)")
    query!(state, "INSERT INTO t VALUES ('visible-text')")
    Native.close(state)

    encrypted = Path.join(dir, "enc.db")
    assert :ok = Native.encrypt_database(plain, encrypted, @key)
    refute File.read!(encrypted) =~ "visible-text"
    assert :ok = Native.encrypt_database(plain, plain, @other_key)
    refute File.read!(plain) =~ "visible-text"
    assert :ok = Native.decrypt_database(to_charlist(plain), plain, @other_key)
    assert File.read!(plain) =~ "visible-text"

    {:ok, state} = Native.connect(database: encrypted, encryption_key: @key)
    assert query!(state, "SELECT x FROM t") == [["visible-text"]]
  end

  test "key management errors", %{tmp_dir: dir} do
    path = Path.join(dir, "k.db")
    create(path)
    before = File.read!(path)

    assert {:error, %Error{sqlite: %{code: :notadb}}} = Native.rekey(path, @other_key, @key)

    assert {:error, %Error{message: "new key must be at least 32 characters long"}} =
             Native.rekey(path, @key, "short")

    File.write!(Path.join(dir, "other.db"), "keep")

    assert {:error, %Error{message: "destination already exists: " <> _}} =
             Native.decrypt_database(path, Path.join(dir, "other.db"), @key)

    assert {:error, %Error{message: "database not found: " <> _}} =
             Native.encrypt_database(Path.join(dir, "none.db"), Path.join(dir, "x.db"), @key)

    assert File.read!(path) == before
    assert Enum.sort(File.ls!(dir)) == ["k.db", "k.db-integrity", "other.db"]
    assert File.read!(Path.join(dir, "other.db")) == "keep"
    assert_raise ArgumentError, fn -> Native.rekey(path, @key, :not_a_key) end
    assert_raise ArgumentError, fn -> Native.encrypt_database(123, path, @key) end
  end
end
