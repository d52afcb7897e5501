if Code.ensure_loaded?(Ecto.Adapters.SQL) do
  defmodule Ecto.Adapters.LibSql.MigrationLock do
    @moduledoc false
    # The migration lock of a database that lives on a server (remote mode and embedded
    # replicas): a lock file works on one machine only, and replicas on several machines migrate
    # the same database. The lock is a row of a table on the server,
    #
    #     CREATE TABLE <migration_source>_lock (
    #       id INTEGER PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)
    #
    # taken by one atomic upsert that succeeds only when no row exists or its lease ran out
    # (server time, `unixepoch()`), renewed by a process of its own while the migrations run,
    # and deleted when they end. A migrator that dies keeps the lock until its lease ends
    # (@lease seconds); the others wait, saying who holds it.

    import EctoLibSql.SQL, only: [quote_name: 1]

    require Logger

    alias EctoLibSql.Native

    # Seconds a lock lasts without renewal, and milliseconds between renewals and between
    # attempts to take a held lock.
    @lease 60
    @renew_every 10_000
    @poll_every 500

    @doc """
    Runs `fun` holding the lock `table` on the server `server` (remote connection options).
    """
    @spec run(keyword(), String.t(), (() -> result)) :: result when result: var
    def run(server, table, fun) do
      conn = connect!(server)
      holder = holder()

      try do
        query!(conn, create_sql(table), [])
        take(conn, table, holder, nil)
        renewer = start_renewer(server, table, holder, self())

        try do
          fun.()
        after
          stop_renewer(renewer)
          release(conn, table, holder)
        end
      after
        Native.close(conn)
      end
    end

    @doc "The lock's table for a migration source."
    @spec table(String.t()) :: String.t()
    def table(migration_source), do: "#{migration_source}_lock"

    defp connect!(server) do
      case Native.connect(server) do
        {:ok, conn} ->
          conn

        {:error, error} ->
          raise "cannot take the migration lock on #{server[:uri]}: " <>
                  Exception.message(error)
      end
    end

    defp create_sql(table) do
      "CREATE TABLE IF NOT EXISTS #{quote_name(table)} (id INTEGER PRIMARY KEY, " <>
        "holder TEXT NOT NULL, expires_at INTEGER NOT NULL)"
    end

    # Takes the lock, waiting while another migrator holds it.
    defp take(conn, table, holder, last_seen) do
      t = quote_name(table)

      query!(
        conn,
        "INSERT INTO #{t} (id, holder, expires_at) VALUES (1, ?1, unixepoch() + ?2) " <>
          "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, " <>
          "expires_at = excluded.expires_at WHERE #{t}.expires_at <= unixepoch()",
        [holder, @lease]
      )

      case query!(conn, "SELECT holder, expires_at - unixepoch() FROM #{t} WHERE id = 1", []) do
        [[^holder, _]] ->
          :ok

        [[other, left]] ->
          if other != last_seen do
            Logger.info(
              "waiting for the migration lock: #{other} holds it (row id 1 of table #{table}; " <>
                "its lease ends in #{max(left, 0)} s unless renewed)"
            )
          end

          Process.sleep(@poll_every)
          take(conn, table, holder, other)

        [] ->
          take(conn, table, holder, last_seen)
      end
    end

    defp release(conn, table, holder, tries \\ 20) do
      sql = "DELETE FROM #{quote_name(table)} WHERE id = 1 AND holder = ?1"

      case Native.execute(conn, sql, [holder]) do
        {:ok, _} ->
          :ok

        {:error, error} ->
          if busy?(error) and tries > 0 do
            Process.sleep(@poll_every)
            release(conn, table, holder, tries - 1)
          else
            Logger.warning(
              "could not release the migration lock (#{Exception.message(error)}); " <>
                "it ends with its lease, in at most #{@lease} s"
            )
          end
      end
    end

    # Renews the lease while `owner` runs the migrations. A lock taken over by another migrator
    # (possible only after the lease ran out without renewal, for example while one migration
    # kept the server's write lock longer than the lease) stops the owner.
    defp start_renewer(server, table, holder, owner) do
      spawn(fn ->
        ref = Process.monitor(owner)

        case Native.connect(server) do
          {:ok, conn} -> renew_loop(conn, table, holder, owner, ref)
          {:error, _} -> renew_loop(nil, table, holder, owner, ref)
        end
      end)
    end

    defp renew_loop(conn, table, holder, owner, ref) do
      receive do
        {:DOWN, ^ref, :process, ^owner, _} ->
          close(conn)

        {:stop, from} ->
          close(conn)
          send(from, {:stopped, self()})
      after
        @renew_every ->
          sql =
            "UPDATE #{quote_name(table)} SET expires_at = unixepoch() + ?2 " <>
              "WHERE id = 1 AND holder = ?1"

          case conn && Native.execute(conn, sql, [holder, @lease]) do
            {:ok, %{num_rows: 0}} ->
              Process.exit(
                owner,
                {:migration_lock_lost,
                 "the migration lock was taken over after its lease (#{@lease} s) ran out " <>
                   "without renewal; run the migrations again"}
              )

              close(conn)

            _renewed_or_busy ->
              # A failed renewal (the server busy with a migration, or away) is tried again.
              renew_loop(conn, table, holder, owner, ref)
          end
      end
    end

    defp close(nil), do: :ok
    defp close(conn), do: Native.close(conn)

    defp stop_renewer(pid) do
      ref = Process.monitor(pid)
      send(pid, {:stop, self()})

      receive do
        {:stopped, ^pid} -> Process.demonitor(ref, [:flush])
        {:DOWN, ^ref, :process, ^pid, _} -> :ok
      end
    end

    # A statement of the lock. The server is busy while another migrator's migration holds its
    # write lock: the statement is tried again (the lock is being waited for anyway).
    defp query!(conn, sql, args) do
      case Native.execute(conn, sql, args) do
        {:ok, %{rows: rows}} ->
          rows || []

        {:error, error} ->
          if busy?(error) do
            Process.sleep(@poll_every)
            query!(conn, sql, args)
          else
            raise "migration lock: #{Exception.message(error)}"
          end
      end
    end

    defp busy?(%EctoLibSql.Error{sqlite: %{code: code}}) when code in [:busy, :locked], do: true
    defp busy?(%EctoLibSql.Error{message: message}), do: message =~ ~r/database is locked|busy/i

    defp holder do
      {:ok, host} = :inet.gethostname()
      unique = Base.encode16(:crypto.strong_rand_bytes(4), case: :lower)
      "#{node()} on #{host} (OS pid #{System.pid()}, #{inspect(self())}, #{unique})"
    end
  end
end
