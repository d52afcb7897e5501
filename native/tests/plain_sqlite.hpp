// A plain SQLite connection for tests of engine parts that work on a `sqlite3*`, or that look at
// a file engine connections wrote.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vector/nested_sql.hpp"

namespace ecto_libsql::testing {

struct CloseSqlite {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using PlainDb = std::unique_ptr<sqlite3, CloseSqlite>;

inline PlainDb open_plain(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  PlainDb db(raw);
  if (rc != SQLITE_OK) throw std::runtime_error("cannot open " + path);
  return db;
}

// The values of column 0 of `sql`, as text.
inline std::vector<std::string> column(sqlite3* db, const std::string& sql) {
  vector::NestedSql nested(db);
  vector::Query q = nested(sql);
  std::vector<std::string> out;
  while (q.step())
    out.emplace_back(q.text(0));
  return out;
}

}  // namespace ecto_libsql::testing
