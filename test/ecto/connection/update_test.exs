defmodule Ecto.Adapters.LibSql.Connection.UpdateTest do
  # UPDATE of one row (Repo.update): SET by parameter, WHERE by the filters.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "fields and a filter, numbered in order" do
    assert update(nil, "posts", [:title, :visits], [id: 1], []) ==
             ~s{UPDATE "posts" SET "title" = ?1, "visits" = ?2 WHERE "id" = ?3}
  end

  test "several filters" do
    assert update(nil, "posts", [:title], [id: 1, visits: 2], []) ==
             ~s{UPDATE "posts" SET "title" = ?1 WHERE "id" = ?2 AND "visits" = ?3}
  end

  test "a nil filter is IS NULL and takes no parameter" do
    assert update(nil, "posts", [:title], [id: 1, body: nil, visits: 2], []) ==
             ~s{UPDATE "posts" SET "title" = ?1 WHERE "id" = ?2 AND "body" IS NULL AND "visits" = ?3}
  end

  test "returning" do
    assert update(nil, "posts", [:title], [id: 1], [:title, :visits]) ==
             ~s{UPDATE "posts" SET "title" = ?1 WHERE "id" = ?2 RETURNING "title","visits"}
  end

  test "a prefix is the attached database" do
    assert update("other", "posts", [:title], [id: 1], []) ==
             ~s{UPDATE "other"."posts" SET "title" = ?1 WHERE "id" = ?2}
  end

  test "it runs" do
    run!("INSERT INTO posts (id, title) VALUES (1, 'a'), (2, 'b')")
    assert run!(update(nil, "posts", [:title], [id: 1], [:title]), ["z", 1]) == [["z"]]
    assert run!("SELECT title FROM posts ORDER BY id") == [["z"], ["b"]]
  end
end
