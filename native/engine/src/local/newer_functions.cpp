#include "local/newer_functions.hpp"

#include <string>

namespace ecto_libsql::local {
namespace {

constexpr int kConcatSince = 3044000;

// Appends the text form of every non-NULL argument from `first`, with `separator` between them.
void join(sqlite3_context* ctx, int argc, sqlite3_value** argv, int first,
          const std::string* separator) noexcept {
  try {
    std::string out;
    bool any = false;
    for (int i = first; i < argc; ++i) {
      if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
      const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
      const int size = sqlite3_value_bytes(argv[i]);
      if (text == nullptr && size > 0) {
        sqlite3_result_error_nomem(ctx);
        return;
      }
      if (any && separator != nullptr) out += *separator;
      out.append(text != nullptr ? text : "", static_cast<std::size_t>(size));
      any = true;
    }
    sqlite3_result_text64(ctx, out.data(), out.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } catch (...) {
    sqlite3_result_error_nomem(ctx);
  }
}

// concat(X, ...): the arguments' text, NULLs skipped; '' when all are NULL.
void concat(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  if (argc < 1) {
    sqlite3_result_error(ctx, "wrong number of arguments to function concat()", -1);
    return;
  }
  join(ctx, argc, argv, 0, nullptr);
}

// concat_ws(SEP, X, ...): as concat() with SEP between the non-NULL arguments; NULL when SEP is.
void concat_ws(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  if (argc < 2) {
    sqlite3_result_error(ctx, "wrong number of arguments to function concat_ws()", -1);
    return;
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  try {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const std::string separator(text != nullptr ? text : "",
                                static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
    join(ctx, argc, argv, 1, &separator);
  } catch (...) {
    sqlite3_result_error_nomem(ctx);
  }
}

}  // namespace

int add_newer_functions(sqlite3* db) noexcept {
  if (sqlite3_libversion_number() >= kConcatSince) return SQLITE_OK;
  constexpr int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  // Any number of arguments; the functions check the minimum as SQLite's own do.
  int rc = sqlite3_create_function_v2(db, "concat", -1, flags, nullptr, &concat, nullptr, nullptr,
                                      nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "concat_ws", -1, flags, nullptr, &concat_ws, nullptr,
                                    nullptr, nullptr);
  }
  return rc;
}

}  // namespace ecto_libsql::local
