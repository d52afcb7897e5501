unless Code.ensure_loaded?(EctoLibSql.ReplicaServers),
  do: Code.require_file("../support/replica_servers.exs", __DIR__)

defmodule EctoLibSql.Native.ReplicaTransactionTest do
  # Transactions and writes of embedded replicas, against each kind of server: a transaction
  # reads its local snapshot until its first write and from then on runs on the server (never
  # prepared against the local file, which does not have what it created); :immediate and
  # :exclusive transactions start there; reads in a transaction that wrote see its writes.
  use ExUnit.Case, async: true

  import EctoLibSql.TestHelpers
  alias EctoLibSql.{Native, ReplicaServers}

  defp replica!(server, extra \\ []) do
    path = tmp_db("replica")
    on_exit(fn -> for f <- Path.wildcard(path <> "*"), do: File.rm(f) end)
    connect!(ReplicaServers.replica_options(server, path, extra))
  end

  defp count(s, table \\ "t"), do: rows!(s, "SELECT count(*) FROM #{table}") |> hd() |> hd()

  defp server_count(server, table \\ "t"),
    do: ReplicaServers.rows!(server, "SELECT count(*) FROM #{table}") |> hd() |> hd()

  defp exec(s, sql, args \\ []) do
    case Native.execute(s, sql, args) do
      {:ok, result} -> result
      {:error, error} -> flunk("#{sql}: #{Exception.message(error)}")
    end
  end

  for {kind, name} <- ReplicaServers.kinds() do
    describe name do
      if reason = ReplicaServers.missing(kind), do: @describetag(skip: reason)

      setup do
        server = ReplicaServers.start!(unquote(kind))

        ReplicaServers.exec!(server, [
          "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
          "INSERT INTO t(v) VALUES ('one'), ('two'), ('thrée')"
        ])

        %{server: server}
      end

      test "a transaction that creates a table, its index and rows commits on the server", %{
        server: server
      } do
        s = replica!(server)
        other = replica!(server)
        {:ok, tx} = Native.begin(s)
        exec(tx, "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        exec(tx, "CREATE UNIQUE INDEX users_email ON users(email)")
        assert %{num_rows: 1} = exec(tx, "INSERT INTO users(email) VALUES (?)", ["a@x"])
        exec(tx, "INSERT INTO users(email) VALUES (?)", ["b@x"])

        # Reads see the transaction's writes: they run on the server too.
        assert rows!(tx, "SELECT email FROM users ORDER BY id") == [["a@x"], ["b@x"]]

        assert {:error, %EctoLibSql.Error{message: unique}} =
                 Native.execute(tx, "INSERT INTO users(email) VALUES ('a@x')", [])

        assert unique =~ "UNIQUE"
        # Other clients see nothing of it before it commits.
        assert {:ok, _} = Native.sync(other)
        assert {:error, _} = Native.execute(other, "SELECT count(*) FROM users", [])
        assert {:ok, _} = Native.commit(tx)
        assert {:ok, _} = Native.sync(other)
        assert count(other, "users") == 2

        assert rows!(s, "SELECT email FROM users ORDER BY id") == [["a@x"], ["b@x"]]

        assert ReplicaServers.rows!(server, "SELECT email FROM users ORDER BY id") == [
                 ["a@x"],
                 ["b@x"]
               ]

        assert rows!(
                 s,
                 "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'"
               ) ==
                 [["users_email"]]

        assert {:ok, written} = Native.get_max_write_frame(s)
        assert written > 0
      end

      test "BEGIN; CREATE TABLE; INSERT; COMMIT sent as SQL", %{server: server} do
        s = replica!(server)
        exec(s, "BEGIN")
        exec(s, "CREATE TABLE u(x)")
        exec(s, "INSERT INTO u VALUES (1)")
        assert rows!(s, "SELECT x FROM u") == [[1]]
        assert Native.get_is_autocommit(s) == false
        exec(s, "COMMIT")
        assert Native.get_is_autocommit(s) == true
        assert rows!(s, "SELECT x FROM u") == [[1]]
        assert server_count(server, "u") == 1

        # The same as one script.
        assert {:ok, _} =
                 Native.execute_batch_sql(
                   s,
                   "BEGIN; CREATE TABLE w(x); INSERT INTO w VALUES (1); INSERT INTO w SELECT x + 1 FROM w; COMMIT"
                 )

        assert rows!(s, "SELECT x FROM w ORDER BY x") == [[1], [2]]

        # ROLLBACK as SQL undoes it on the server.
        exec(s, "BEGIN")
        exec(s, "INSERT INTO u VALUES (2)")
        exec(s, "ROLLBACK")
        assert Native.get_is_autocommit(s) == true
        assert server_count(server, "u") == 1
        assert count(s, "u") == 1
      end

      test "a deferred transaction reads its local snapshot until its first write", %{
        server: server
      } do
        s = replica!(server, sync: false)
        {:ok, tx} = Native.begin(s)
        assert count(tx) == 3
        # Another client writes: the local snapshot does not see it.
        ReplicaServers.exec!(server, "INSERT INTO t(v) VALUES ('elsewhere')")
        assert count(tx) == 3
        # The first write moves the transaction to the server, whose state it sees from then on.
        exec(tx, "INSERT INTO t(v) VALUES ('mine')")
        assert count(tx) == 5
        assert {:ok, _} = Native.commit(tx)
        assert count(s) == 5
        assert server_count(server) == 5
      end

      test ":immediate and :exclusive transactions run on the server from BEGIN", %{
        server: server
      } do
        s = replica!(server, sync: false)
        ReplicaServers.exec!(server, "INSERT INTO t(v) VALUES ('elsewhere')")
        assert count(s) == 3

        for behavior <- [:immediate, :exclusive] do
          {:ok, tx} = Native.begin(s, behavior: behavior)
          # Reads the server's state, not the local file's.
          before = count(tx)
          assert before >= 4
          exec(tx, "INSERT INTO t(v) VALUES (?)", [Atom.to_string(behavior)])
          assert count(tx) == before + 1
          assert {:ok, _} = Native.commit(tx)
          assert count(s) == before + 1
        end

        # Rolled back on the server: nothing stays.
        {:ok, tx} = Native.begin(s, behavior: :immediate)
        exec(tx, "DELETE FROM t")
        assert count(tx) == 0
        assert {:ok, _} = Native.rollback(tx)
        assert server_count(server) == 6
        assert count(s) == 6
        assert Native.get_is_autocommit(s) == true
      end

      test "a moved transaction rolls back on the server", %{server: server} do
        s = replica!(server)
        {:ok, tx} = Native.begin(s)
        exec(tx, "CREATE TABLE gone(x)")
        exec(tx, "INSERT INTO t(v) VALUES ('gone')")
        assert {:ok, _} = Native.rollback(tx)
        assert server_count(server) == 3

        assert ReplicaServers.rows!(
                 server,
                 "SELECT count(*) FROM sqlite_master WHERE name = 'gone'"
               ) ==
                 [[0]]

        assert count(s) == 3
        assert {:error, "Transaction not found"} = Native.commit(%{tx | trx_id: nil})
        # The connection goes on.
        exec(s, "INSERT INTO t(v) VALUES ('after')")
        assert count(s) == 4
      end

      test "a read-only transaction refuses writes", %{server: server} do
        s = replica!(server)
        {:ok, tx} = Native.begin(s, behavior: :read_only)
        assert count(tx) == 3

        assert {:error, %EctoLibSql.Error{message: message}} =
                 Native.execute(tx, "INSERT INTO t(v) VALUES ('no')", [])

        assert message =~ "readonly"
        assert {:ok, _} = Native.commit(tx)
        assert server_count(server) == 3
        exec(s, "INSERT INTO t(v) VALUES ('yes')")
        assert server_count(server) == 4
      end

      test "savepoints opened before the first write are opened on the server too", %{
        server: server
      } do
        s = replica!(server)
        {:ok, tx} = Native.begin(s)
        assert :ok = Native.create_savepoint(tx, "outer")
        assert :ok = Native.create_savepoint(tx, "Inner")
        assert count(tx) == 3
        exec(tx, "INSERT INTO t(v) VALUES ('undone')")
        assert :ok = Native.rollback_to_savepoint_by_name(tx, "inner")
        assert count(tx) == 3
        assert :ok = Native.release_savepoint_by_name(tx, "INNER")
        exec(tx, "INSERT INTO t(v) VALUES ('kept')")
        assert :ok = Native.release_savepoint_by_name(tx, "outer")
        assert {:ok, _} = Native.commit(tx)
        assert rows!(s, "SELECT v FROM t WHERE id > 3") == [["kept"]]
        assert ReplicaServers.rows!(server, "SELECT v FROM t WHERE id > 3") == [["kept"]]

        # A savepoint that opens the transaction (no BEGIN): its RELEASE commits on the server.
        exec(s, "SAVEPOINT solo")
        exec(s, "INSERT INTO t(v) VALUES ('solo')")
        exec(s, "RELEASE solo")
        assert Native.get_is_autocommit(s) == true
        assert count(s) == 5
        assert server_count(server) == 5
      end

      test "a prepared statement follows its transaction", %{server: server} do
        s = replica!(server)
        {:ok, read} = Native.prepare(s, "SELECT count(*) FROM t")
        {:ok, write} = Native.prepare(s, "INSERT INTO t(v) VALUES (?)")
        assert {:ok, %{rows: [[3]]}} = Native.query_stmt(s, read, [])

        {:ok, tx} = Native.begin(s)
        assert {:ok, %{num_rows: 1}} = Native.query_stmt(tx, write, ["in tx"])
        # Runs on the server now, seeing the write.
        assert {:ok, %{rows: [[4]]}} = Native.query_stmt(tx, read, [])
        assert {:ok, _} = Native.rollback(tx)
        assert {:ok, %{rows: [[3]]}} = Native.query_stmt(s, read, [])

        # A statement prepared inside such a transaction, on a table the transaction created,
        # runs locally once the table was pulled.
        {:ok, tx} = Native.begin(s, behavior: :immediate)
        exec(tx, "CREATE TABLE fresh(x)")
        {:ok, fresh} = Native.prepare(tx, "SELECT count(*) FROM fresh")
        assert {:ok, %{rows: [[0]]}} = Native.query_stmt(tx, fresh, [])
        assert {:ok, _} = Native.commit(tx)
        assert {:ok, %{rows: [[0]]}} = Native.query_stmt(s, fresh, [])
        Native.close_stmt(fresh)
        Native.close_stmt(read)
        Native.close_stmt(write)
      end

      test "a write on a table the replica has not pulled yet runs on the server", %{
        server: server
      } do
        s = replica!(server, sync: false)
        ReplicaServers.exec!(server, "CREATE TABLE later(x)")

        assert {:error, %EctoLibSql.Error{message: local}} =
                 Native.execute(s, "SELECT count(*) FROM later", [])

        assert local =~ "no such table"
        # The write runs on the server, then the replica pulls.
        exec(s, "INSERT INTO later VALUES (1)")
        assert count(s, "later") == 1

        # A write the server refuses too answers the server's error.
        assert {:error, %EctoLibSql.Error{message: missing}} =
                 Native.execute(s, "INSERT INTO nowhere VALUES (1)", [])

        assert missing =~ "nowhere"
      end

      if kind == :tursodb do
        @tag skip:
               "the test restarts the server on its database, which the tursodb starter cannot"
      end

      test "a transaction on a server that goes away ends without committing", %{
        server: server
      } do
        s = replica!(server)
        {:ok, tx} = Native.begin(s)
        exec(tx, "INSERT INTO t(v) VALUES ('lost')")
        ReplicaServers.kill(server)

        assert {:error, %EctoLibSql.Error{message: message}} =
                 Native.execute(tx, "INSERT INTO t(v) VALUES ('more')", [])

        assert message =~ "connection lost inside a transaction"
        assert {:error, "Transaction not found" <> _} = Native.commit(tx)
        assert Native.get_is_autocommit(s) == true
        assert count(s) == 3

        server = ReplicaServers.start_again!(server)
        assert server_count(server) == 3
        exec(s, "INSERT INTO t(v) VALUES ('after')")
        assert server_count(server) == 4
      end

      test "batches with writes run on the server as one request", %{server: server} do
        s = replica!(server)

        assert {:ok, _} =
                 Native.execute_transactional_batch_sql(
                   s,
                   "CREATE TABLE b(x); CREATE INDEX b_x ON b(x); INSERT INTO b VALUES (1); INSERT INTO b VALUES (2)"
                 )

        assert count(s, "b") == 2

        # All or nothing.
        assert {:error, _} =
                 Native.execute_transactional_batch_sql(
                   s,
                   "INSERT INTO b VALUES (3); INSERT INTO nowhere VALUES (4)"
                 )

        assert count(s, "b") == 2
        assert server_count(server, "b") == 2

        assert {:ok, [_, _]} =
                 Native.batch(s, [
                   {"INSERT INTO b VALUES (?)", [5]},
                   {"SELECT count(*) FROM b", []}
                 ])

        assert count(s, "b") == 3
      end
    end
  end
end
