// Text to double conversion with the rules of SQLite 3.45's sqlite3AtoF(), which libSQL uses
// for vector text and index parameters: `[+-]digits[.digits][(e|E)[+-]digits]`, no `inf` or
// `nan`, surrounding spaces allowed.
#pragma once

#include <string_view>

namespace ecto_libsql::vector {

// Converts `text`. Answers true when the whole text is a number; `out` receives the value of
// the longest numeric prefix either way (0.0 when there is none).
bool parse_sqlite_float(std::string_view text, double& out) noexcept;

}  // namespace ecto_libsql::vector
