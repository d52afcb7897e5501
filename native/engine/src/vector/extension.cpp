// The vector module of a connection: attaching it, and the statements it intercepts.
#include "vector/extension.hpp"

#include <random>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "vector/ddl_statement.hpp"
#include "vector/sql_functions.hpp"
#include "vector/top_k.hpp"

namespace ecto_libsql::vector {
namespace {

void marker_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  static_cast<Extension*>(sqlite3_user_data(ctx))->marker(ctx, argc > 0 ? argv[0] : nullptr);
}

void maintain_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  static_cast<Extension*>(sqlite3_user_data(ctx))->maintain(ctx, argc, argv);
}

}  // namespace

Extension::Extension(sqlite3* db) : db_(db), sql_(db), store_(sql_) {
  std::random_device rd;
  secret_ = static_cast<std::int64_t>((static_cast<std::uint64_t>(rd()) << 31) ^ rd()) | 1;
}

Extension::~Extension() {
  detach();
}

void Extension::detach() noexcept {
  store_.clear();
  sql_.clear();
}

std::unique_ptr<Extension> Extension::attach(sqlite3* db) {
  auto ext = std::make_unique<Extension>(db);
  int rc = register_sql_functions(db);
  constexpr int kPure = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "libsql_vector_idx", -1, kPure, ext.get(), &marker_function,
                                    nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    // Its first argument is a per-connection secret, so only this module's triggers can use it;
    // INNOCUOUS keeps it usable from TEMP triggers when trusted_schema is off.
    rc = sqlite3_create_function_v2(db, std::string(kMaintainFunction).c_str(), 9,
                                    SQLITE_UTF8 | SQLITE_INNOCUOUS, ext.get(), &maintain_function,
                                    nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) rc = register_top_k(db, ext.get());
  if (rc != SQLITE_OK) {
    throw Error(rc, std::string("Failed to register the vector functions: ") + sqlite3_errstr(rc));
  }
  return ext;
}

bool Extension::wants(const Statement& stmt) const {
  if (stmt.classification().command != sql::Command::Create) return false;
  return is_drop_statement(stmt.sql()) || parse_vector_index(stmt.sql()).has_value();
}

std::unique_ptr<Statement> Extension::wrap(std::shared_ptr<Statement> stmt) {
  auto def = parse_vector_index(stmt->sql());
  return std::make_unique<DdlStatement>(*this, std::move(stmt), std::move(def));
}

bool Extension::may_write_indexed_table(std::string_view sql) {
  return store_.may_write_indexed_table(sql);
}

}  // namespace ecto_libsql::vector
