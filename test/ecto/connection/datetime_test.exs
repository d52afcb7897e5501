defmodule Ecto.Adapters.LibSql.Connection.DatetimeTest do
  # datetime_add, date_add, ago and from_now. Their values are checked to the microsecond in
  # test/ecto/repo_test.exs; here, the SQL each form becomes.
  use Ecto.Adapters.LibSql.SqlCase, async: true

  test "datetime_add and date_add become SQLite date modifiers" do
    assert all(
             from(p in Post,
               where: p.inserted_at > datetime_add(^~N[2020-01-01 00:00:00], -2, "week"),
               select: p.id
             )
           ) =~
             ~s{(SELECT unixepoch(substr(ecto_dt, 1, 19)) * 1000000 + (CASE WHEN substr(ecto_dt, 20, 1) = '.' THEN CAST(substr(replace(substr(ecto_dt, 21, 6), 'Z', '') || '000000', 1, 6) AS INTEGER) ELSE 0 END) + CAST(round((CAST(-2 AS NUMERIC) + 0) * 604800000000) AS INTEGER) AS ecto_us FROM (SELECT ?1 AS ecto_dt))}

    assert all(from(p in Post, select: datetime_add(p.inserted_at, 3, "month"))) =~
             ~s{date(substr(ecto_dt, 1, 10), 'start of month', '3 months') AS ecto_month FROM (SELECT p0."inserted_at" AS ecto_dt)}

    assert all(from(p in Post, select: date_add(p.inserted_at, 3, "day"))) ==
             ~s{SELECT date(p0."inserted_at", '3 days') FROM "posts" AS p0}
  end

  for {unit, micros} <- [
        {"week", 604_800_000_000},
        {"day", 86_400_000_000},
        {"hour", 3_600_000_000},
        {"minute", 60_000_000},
        {"second", 1_000_000},
        {"millisecond", 1000},
        {"microsecond", 1}
      ] do
    test "datetime_add of #{unit}s adds microseconds" do
      sql = all(from(p in Post, select: datetime_add(p.inserted_at, 2, unquote(unit))))

      assert sql =~
               ~s{CAST(round(2 * #{unquote(micros)}) AS INTEGER) AS ecto_us FROM (SELECT p0."inserted_at" AS ecto_dt)}

      assert sql =~ ~s{printf('%06d', ecto_frac)}
    end
  end

  test "datetime_add of years is a month modifier on the first of the month" do
    assert all(from(p in Post, select: datetime_add(p.inserted_at, 1, "year"))) =~
             ~s{date(substr(ecto_dt, 1, 10), 'start of month', '1 years') AS ecto_month}
  end

  test "datetime_add with a parameter count" do
    sql = all(from(p in Post, select: datetime_add(p.inserted_at, ^3, "hour")))
    assert sql =~ ~s{CAST(round((?1 + 0) * 3600000000) AS INTEGER)}

    sql = all(from(p in Post, select: datetime_add(p.inserted_at, ^3, "month")))
    assert sql =~ ~s{'start of month', CAST(?1 AS TEXT) || ' months') AS ecto_month}
  end

  test "an interval Ecto does not know raises, naming it" do
    assert_raise Ecto.Query.CompileError, ~r/invalid interval: `"fortnight"`/, fn ->
      all(from(p in Post, select: datetime_add(p.inserted_at, 1, ^"fortnight")))
    end

    # Past Ecto's checks (a query built by hand), the generator names it too.
    query = plan(from(p in Post, select: date_add(p.published_on, 1, "month")))
    [{:date_add, meta, [date, count, _]}] = query.select.fields
    query = put_in(query.select.fields, [{:date_add, meta, [date, count, "fortnight"]}])

    assert_raise Ecto.QueryError, ~r/unsupported interval for SQLite: "fortnight"/, fn ->
      SQL.all(query)
    end
  end

  test "date_add of weeks is days" do
    assert all(from(p in Post, select: date_add(p.published_on, 2, "week"))) ==
             ~s{SELECT date(p0."published_on", '14 days') FROM "posts" AS p0}
  end

  test "date_add of months clamps to the last day of the month" do
    query = from(p in Post, select: date_add(p.published_on, ^1, "month"))

    assert all(query) ==
             ~s{SELECT (SELECT min(date(ecto_month, '+' || (CAST(substr(ecto_dt, 9, 2) AS INTEGER) - 1) || ' days'), } <>
               ~s{date(ecto_month, '+1 month', '-1 day')) FROM (SELECT ecto_dt, date(substr(ecto_dt, 1, 10), 'start of month', } <>
               ~s{CAST(?1 AS TEXT) || ' months') AS ecto_month FROM (SELECT p0."published_on" AS ecto_dt))) FROM "posts" AS p0}

    run!("INSERT INTO posts (id, published_on) VALUES (1, '2024-01-31')")
    assert run!(all(query), [1]) == [["2024-02-29"]]
  end

  test "date_add with a parameter count of days" do
    assert all(from(p in Post, select: date_add(p.published_on, ^2, "day"))) ==
             ~s{SELECT date(p0."published_on", CAST(?1 AS TEXT) || ' days') FROM "posts" AS p0}
  end

  test "ago and from_now count from a parameter (now)" do
    sql = all(from(p in Post, where: p.inserted_at > ago(3, "day"), select: p.id))

    assert sql =~
             ~s{CAST(round((CAST(-3 AS NUMERIC) + 0) * 86400000000) AS INTEGER) AS ecto_us FROM (SELECT ?1 AS ecto_dt)}

    sql = all(from(p in Post, where: p.inserted_at < from_now(3, "month"), select: p.id))
    assert sql =~ ~s{'start of month', '3 months') AS ecto_month FROM (SELECT ?1 AS ecto_dt)}
  end
end
