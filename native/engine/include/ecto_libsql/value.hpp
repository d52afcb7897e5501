// Values crossing the engine boundary: parameters going in, column values coming out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ecto_libsql {

// Storage classes, numbered as SQLite numbers them (SQLITE_INTEGER ... SQLITE_NULL).
enum class ValueType : int { Integer = 1, Float = 2, Text = 3, Blob = 4, Null = 5 };

struct Null {};
struct BlobView {
  std::span<const std::byte> bytes;
};

// A parameter value that borrows its text or blob bytes from the caller. The bytes must
// outlive the call that binds it; the engine copies nothing it does not have to.
using ParamValue = std::variant<Null, std::int64_t, double, std::string_view, BlobView>;

// A named parameter: `name` is the key the caller used, without or with its prefix
// (":id", "@id", "$id" or just "id"); `atom_key` when that key was an atom (Elixir), which a
// string key of the same name wins over.
struct NamedParam {
  std::string_view name;
  ParamValue value;
  bool atom_key = false;
};

// Parameters of one statement: positional (1-based in SQL, 0-based here) or named.
struct Params {
  std::vector<ParamValue> positional;
  std::vector<NamedParam> named;
  bool is_named = false;
  // The borrowed bytes stay valid until the statement is reset, so binding need not copy them.
  bool borrowed = false;

  [[nodiscard]] bool empty() const noexcept { return positional.empty() && named.empty(); }
};

// An owning value, used where results must outlive the statement (remote rows, tests).
using Value = std::variant<Null, std::int64_t, double, std::string, std::vector<std::byte>>;

// An owning copy of a parameter value, and a parameter value borrowing from an owning one.
Value owned_value(const ParamValue& value);
ParamValue borrowed_value(const Value& value);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace ecto_libsql
