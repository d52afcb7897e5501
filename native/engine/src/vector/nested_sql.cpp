#include "vector/nested_sql.hpp"

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql::vector {
namespace {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc) {
  const char* message = sqlite3_errmsg(db);
  throw Error(rc, message != nullptr ? message : sqlite3_errstr(rc));
}

}  // namespace

Query& Query::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Query& Query::bind_text(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Query& Query::bind_blob(int i, std::span<const std::uint8_t> v) {
  if (v.empty()) {
    sqlite3_bind_zeroblob(stmt_, i, 0);
  } else {
    sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  }
  return *this;
}
Query& Query::bind_value(int i, sqlite3_value* v) {
  sqlite3_bind_value(stmt_, i, v);
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_errcode() may describe an outer statement; the step's code is the reliable one.
  const char* message = sqlite3_errmsg(db_);
  const int code =
      (sqlite3_extended_errcode(db_) & 0xff) == (rc & 0xff) ? sqlite3_extended_errcode(db_) : rc;
  throw Error(code, message != nullptr ? message : sqlite3_errstr(rc));
}

std::string_view Query::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

std::span<const std::uint8_t> Query::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::span<const std::uint8_t>()
                      : std::span<const std::uint8_t>(p, static_cast<std::size_t>(n));
}

sqlite3_stmt* NestedSql::find_or_prepare(const std::string& sql, bool throw_on_error) {
  if (auto it = cache_.find(sql); it != cache_.end()) return it->second.get();
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK || raw == nullptr) {
    sqlite3_finalize(raw);
    if (!throw_on_error) return nullptr;
    if (rc == SQLITE_OK) throw Error(kCodeMisuse, "vector: empty internal statement");
    throw_sqlite(db_, rc);
  }
  cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, Finalize>(raw));
  return raw;
}

Query NestedSql::operator()(const std::string& sql) {
  return {db_, find_or_prepare(sql, true)};
}

std::optional<Query> NestedSql::try_prepare(const std::string& sql) {
  sqlite3_stmt* stmt = find_or_prepare(sql, false);
  if (stmt == nullptr) return std::nullopt;
  return std::optional<Query>(std::in_place, db_, stmt);
}

void NestedSql::exec(const std::string& sql) {
  exec_sql(db_, sql);
}

void NestedSql::clear() noexcept {
  cache_.clear();
}

void exec_sql(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(sqlite3_extended_errcode(db), std::move(message));
  }
}

bool same_name(std::string_view a, std::string_view b) noexcept {
  return sql::keyword_equals(a, b);
}

const char* text_arg(sqlite3_value* v) noexcept {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return p != nullptr ? p : "";
}

}  // namespace ecto_libsql::vector
