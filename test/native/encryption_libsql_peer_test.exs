unless Code.ensure_loaded?(EctoLibSql.TestOsProcess),
  do: Code.require_file("../support/test_os_process.exs", __DIR__)

defmodule EctoLibSql.Native.EncryptionLibsqlPeerTest do
  # Round trips with the real libSQL engine (npm `libsql`, installed into _build/peers by
  # `scripts/setup`): files written here open in libSQL with the key, and the other way round,
  # hot journals included.
  use ExUnit.Case, async: true

  alias EctoLibSql.{JSONText, Native, Result, TestOsProcess}

  @peers System.get_env("ECTO_LIBSQL_PEERS") || Path.expand("../../_build/peers", __DIR__)
  @script Path.expand("../peers/libsql_encryption.js", __DIR__)
  @node System.find_executable("node")
  @key "key-shared-with-libsql-0123456789abcdef"

  if @node && File.dir?(Path.join([@peers, "node_modules", "libsql"])) do
    @moduletag :tmp_dir
  else
    IO.puts(
      "ecto_libsql: NOT RUN: libSQL encryption round trips (node or npm libsql missing in " <>
        "#{@peers}; run scripts/setup --no-apt)"
    )

    @moduletag skip: "npm libsql is not installed in #{@peers}"
  end

  # Runs statements in libSQL; answers one {:rows, rows} or {:error, code, message} each.
  defp libsql(path, key, statements) do
    {:ok, json} = JSONText.encode(statements)
    env = [{"ECTO_LIBSQL_PEERS", @peers}]
    {out, 0} = System.cmd(@node, [@script, "run", path, key, json], env: env)
    {results, _} = Code.eval_string(out)
    results
  end

  defp query!(state, sql) do
    {:ok, %Result{rows: rows}} = Native.execute(state, sql, [])
    rows
  end

  @fill """
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
  INSERT INTO t(id, name, score, data, empty)
  SELECT i, 'name-' || i || '-' || hex(zeroblob(i % 50)), i / 4.0, randomblob(100), NULL FROM n
  """
  @check [
    "SELECT count(*), sum(length(name)), sum(score), sum(length(data)), count(empty) FROM t",
    "SELECT name FROM t WHERE id = 777",
    "PRAGMA integrity_check"
  ]
  @expected [
    {:rows, [[1500, 87_393, 281_437.5, 150_000, 0]]},
    {:rows, [["name-777-" <> String.duplicate("00", 27)]]},
    {:rows, [["ok"]]}
  ]

  defp fill_here(path) do
    {:ok, state} = Native.connect(database: path, encryption_key: @key)

    query!(
      state,
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, empty)"
    )

    query!(state, "CREATE INDEX t_name ON t(name)")
    query!(state, @fill)
    Native.close(state)
  end

  defp results_here(state), do: Enum.map(@check, &{:rows, query!(state, &1)})

  test "libSQL reads a database written here, with the key only", %{tmp_dir: dir} do
    path = Path.join(dir, "ours.db")
    fill_here(path)
    assert libsql(path, @key, @check) == @expected

    assert [{:error, "SQLITE_NOTADB", "file is not a database"}] =
             libsql(path, "x" <> @key, ["SELECT count(*) FROM t"])

    # libSQL uses the first 32 bytes of a key only, and so do we.
    assert libsql(path, binary_part(@key, 0, 32) <> "ignored", ["SELECT count(*) FROM t"]) ==
             [{:rows, [[1500]]}]

    assert [{:error, "SQLITE_NOTADB", _}] = libsql(path, "", ["SELECT count(*) FROM t"])
  end

  test "a database libSQL writes at test time is read here", %{tmp_dir: dir} do
    path = Path.join(dir, "theirs.db")

    assert Enum.all?(
             libsql(path, @key, [
               "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, empty)",
               "CREATE INDEX t_name ON t(name)",
               @fill
             ]),
             &match?({:rows, _}, &1)
           )

    {:ok, state} = Native.connect(database: path, encryption_key: @key)
    assert results_here(state) == @expected
    assert query!(state, "PRAGMA journal_mode") == [["delete"]]
    # ...and writes here go back to libSQL.
    query!(state, "DELETE FROM t WHERE id > 1000")
    Native.close(state)

    assert [{:rows, [[1000]]}, {:rows, [["ok"]]}] =
             libsql(path, @key, ["SELECT count(*) FROM t", "PRAGMA integrity_check"])

    # libSQL does not keep the page tags: its writes are no corruption here.
    tags = File.read!(path <> "-integrity")
    libsql(path, @key, ["UPDATE t SET data = randomblob(80) WHERE id % 3 = 0"])
    {:ok, state} = Native.connect(database: path, encryption_key: @key)
    assert query!(state, "SELECT count(*), sum(length(data)) FROM t") == [[1000, 93_340]]
    assert query!(state, "PRAGMA integrity_check") == [["ok"]]
    assert File.read!(path <> "-integrity") != tags
  end

  test "a short key libSQL accepts: connect refuses it, rekey/3 and decrypt_database/3 take it",
       %{tmp_dir: dir} do
    path = Path.join(dir, "short.db")
    short = "only-24-characters-long!"
    libsql(path, short, ["CREATE TABLE t(x)", "INSERT INTO t VALUES ('short-key-row')"])

    assert {:error,
            %EctoLibSql.Error{message: "encryption_key must be at least 32 characters long"}} =
             Native.connect(database: path, encryption_key: short)

    plain = Path.join(dir, "plain.db")
    assert :ok = Native.decrypt_database(path, plain, short)
    assert libsql(plain, "", ["SELECT x FROM t"]) == [{:rows, [["short-key-row"]]}]

    assert :ok = Native.rekey(path, short, @key)
    assert libsql(path, @key, ["SELECT x FROM t"]) == [{:rows, [["short-key-row"]]}]
    assert [{:error, "SQLITE_NOTADB", _}] = libsql(path, short, ["SELECT x FROM t"])
  end

  test "libSQL killed inside a transaction: its hot journal is rolled back here",
       %{tmp_dir: dir} do
    path = Path.join(dir, "killed.db")

    libsql(path, @key, [
      "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, v BLOB)",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) " <>
        "INSERT INTO t(batch, v) SELECT 0, randomblob(300) FROM n"
    ])

    %{port_ref: port} =
      peer =
      TestOsProcess.start!(@node, [@script, "hang", path, @key], [
        :binary,
        {:line, 100},
        env: [{~c"ECTO_LIBSQL_PEERS", String.to_charlist(@peers)}]
      ])

    assert_receive {^port, {:data, {:eol, "ready"}}}, 30_000
    # kill -9, and wait until the process has gone (its locks released)
    TestOsProcess.kill(peer)
    # A hot journal: its header was written when the transaction spilled pages into the file.
    assert <<first, _::binary>> = File.read!(path <> "-journal")
    assert first != 0

    {:ok, state} = Native.connect(database: path, encryption_key: @key)
    assert query!(state, "SELECT count(*), max(batch) FROM t") == [[3000, 0]]
    assert query!(state, "PRAGMA integrity_check") == [["ok"]]
    refute File.exists?(path <> "-journal")
  end

  test "a crash here inside a transaction: libSQL rolls our hot journal back", %{tmp_dir: dir} do
    path = Path.join(dir, "ours.db")
    fill_here(path)
    {:ok, state} = Native.connect(database: path, encryption_key: @key)
    query!(state, "PRAGMA cache_size = 10")
    {:ok, state} = Native.begin(state)
    query!(state, "UPDATE t SET data = randomblob(100), score = -1")
    query!(state, "DELETE FROM t WHERE id % 2 = 0")
    # What the disk holds at this moment is what a crash would leave behind.
    crashed = Path.join(dir, "crashed.db")
    File.cp!(path, crashed)
    File.cp!(path <> "-journal", crashed <> "-journal")
    {:ok, _} = Native.rollback(state)

    assert libsql(crashed, @key, @check) == @expected
    refute File.exists?(crashed <> "-journal")
  end
end
