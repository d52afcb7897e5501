# A tour of the native driver on a local database file.
#
#   mix run examples/local_demo.exs        (ECTO_LIBSQL_OFFLINE=1 mix run ... without Hex)

alias EctoLibSql.Native

path = Path.join(System.tmp_dir!(), "ecto_libsql_demo.db")
File.rm(path)
{:ok, conn} = Native.connect(database: path, journal_mode: :wal, foreign_keys: true)

{:ok, _} =
  Native.execute(conn, """
  CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, body TEXT, stars REAL)
  """)

# Positional and named parameters.
{:ok, _} =
  Native.execute(conn, "INSERT INTO notes(title, body, stars) VALUES (?, ?, ?)", [
    "hello",
    "first note",
    4.5
  ])

{:ok, %{rows: [[id]]}} =
  Native.execute(conn, "INSERT INTO notes(title, body) VALUES (:title, :body) RETURNING id", %{
    title: "named",
    body: "héllo ✓"
  })

IO.puts("inserted row #{id}")

# A transaction with a savepoint.
{:ok, trx} = Native.begin(conn, behavior: :immediate)
{:ok, _} = Native.execute(trx, "INSERT INTO notes(title) VALUES ('kept')")
:ok = Native.create_savepoint(trx, "maybe")
{:ok, _} = Native.execute(trx, "INSERT INTO notes(title) VALUES ('undone')")
:ok = Native.rollback_to_savepoint_by_name(trx, "maybe")
{:ok, _} = Native.commit(trx)

# Constraint errors name the index.
{:error, error} = Native.execute(conn, "INSERT INTO notes(title) VALUES ('hello')")
IO.puts("constraint: #{error.message} (#{error.sqlite.extended})")

# A prepared statement, reused.
{:ok, stmt} = Native.prepare(conn, "SELECT title FROM notes WHERE id = ?")

for i <- 1..3,
    do:
      IO.inspect(Native.query_stmt(conn, stmt, [i]) |> elem(1) |> Map.get(:rows),
        label: "row #{i}"
      )

:ok = Native.close_stmt(stmt)

# Streaming with a cursor: rows are read from SQLite only as they are fetched.
{:ok, _} =
  Native.execute(conn, """
  INSERT INTO notes(title)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
  SELECT 'bulk ' || i FROM n
  """)

{:ok, cursor} = Native.declare_cursor(conn, "SELECT id, title FROM notes ORDER BY id", [])

count =
  Stream.resource(
    fn -> :cont end,
    fn
      :halt ->
        {:halt, :halt}

      :cont ->
        {status, result} = Native.fetch(conn, cursor, 250)
        {[length(result.rows)], status}
    end,
    fn _ -> Native.close_cursor(cursor) end
  )
  |> Enum.sum()

IO.puts("streamed #{count} rows")

# Row change notifications.
:ok = Native.add_update_hook(conn, self())
{:ok, _} = Native.execute(conn, "UPDATE notes SET stars = 5 WHERE id = ?", [id])

receive do
  {:update, op, db, table, rowid} -> IO.puts("update hook: #{op} #{db}.#{table} row #{rowid}")
after
  1000 -> IO.puts("no update notification")
end

:ok = Native.close(conn)
File.rm(path)
IO.puts("done")
