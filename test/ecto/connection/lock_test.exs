defmodule Ecto.Adapters.LibSql.Connection.LockTest do
  # SQLite locks the whole database, never rows: lock clauses raise.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "expressions SQLite cannot run raise errors that name them" do
    assert_raise Ecto.QueryError, ~r/DISTINCT ON is not supported by SQLite/, fn ->
      all(from(p in Post, distinct: p.title, select: p.id))
    end

    assert_raise Ecto.QueryError, ~r/SQLite has no row locks/, fn ->
      all(from(p in Post, lock: "FOR UPDATE", select: p.id))
    end
  end

  test "every lock clause raises" do
    for query <- [
          from(p in Post, lock: "FOR SHARE NOWAIT", select: p.id),
          from(p in Post, lock: "FOR UPDATE SKIP LOCKED", select: p.id),
          Post |> lock("LOCK IN SHARE MODE") |> select([p], p.id)
        ] do
      assert_raise Ecto.QueryError,
                   ~r/SQLite has no row locks \(FOR UPDATE and the like\): remove the lock/,
                   fn -> all(query) end
    end
  end

  test "a lock fragment raises" do
    assert_raise Ecto.QueryError, ~r/SQLite has no row locks/, fn ->
      all(from(p in Post, lock: fragment("FOR UPDATE OF ?", p), select: p.id))
    end
  end

  test "a lock in a subquery raises" do
    sub = from(c in Comment, lock: "FOR UPDATE", select: c.post_id)

    assert_raise Ecto.QueryError, ~r/SQLite has no row locks/, fn ->
      all(from(p in Post, where: p.id in subquery(sub), select: p.id))
    end
  end
end
