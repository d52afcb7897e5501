// What a constraint violation broke, carried by the engine's Error as data: Ecto's changeset
// constraints (unique_constraint/3, foreign_key_constraint/3, check_constraint/3) match on it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ecto_libsql {

// From the extended result code: SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY, _FOREIGNKEY, _CHECK and
// _NOTNULL (a RESTRICT action, reported by SQLite as _TRIGGER, counts as a foreign key).
enum class ConstraintKind { Unique, PrimaryKey, ForeignKey, Check, NotNull };

struct Constraint {
  ConstraintKind kind = ConstraintKind::Unique;
  // The unique index, the foreign key or the CHECK constraint by name where the engine knows
  // it; otherwise the name Ecto derives from SQLite's message (see constraint_from_message).
  std::string name;

  bool operator==(const Constraint&) const = default;
};

// The constraint a constraint error broke, read from its extended result code and SQLite's
// message, for errors whose constraint the engine could not name itself. The name is the one
// `Ecto.Adapters.LibSql.Connection.to_constraints/2` has always read from such a message:
//   "UNIQUE constraint failed: users.email"            -> "users_email_index"
//   "UNIQUE constraint failed: t.a, t.b"               -> "t_a_b_index"
//   "NOT NULL constraint failed: users.name"           -> "users_name_index"
//   "CHECK constraint failed: price_positive"          -> "price_positive"
//   "PRIMARY KEY constraint failed" (some servers)     -> "primary_key"
// A trailing " (19)" (the code tursodb appends) is ignored; a message naming nothing gives
// "unknown". Answers nullopt for other errors, and for a foreign key failure (SQLite's message
// never names the key: the engine finds it, see core/foreign_keys.hpp).
[[nodiscard]] std::optional<Constraint> constraint_from_message(int code, std::string_view message);

// "unique", "primary_key", "foreign_key", "check" or "not_null".
[[nodiscard]] std::string_view constraint_kind_name(ConstraintKind kind) noexcept;

}  // namespace ecto_libsql
