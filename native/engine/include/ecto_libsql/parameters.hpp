// Which value each parameter of a statement takes: the one resolver of named parameters for
// every mode (local statements, remote statements and batches, and
// EctoLibSql.Native.normalise_arguments/3).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/value.hpp"

namespace ecto_libsql {

// Throws Error(kCodeRange, "wrong number of parameters: ...") unless `given` positional values
// are as many as the `takes` parameters of the statement.
void require_parameter_count(std::size_t takes, std::size_t given);

// For each parameter of a statement, the index in `given` of the value it takes: `names[i]` is
// the name of parameter i + 1 with its prefix (":id", "@id", "$id"), as SQLite reports it (or
// as sql::parameter_names reads it), empty or "?NNN" for a positional one.
//
// A parameter ":id" takes the value given as "id" or ":id" (never "@id"); of several keys that
// match, a string key wins over an atom key and a key without the prefix over one with it.
// Keys no parameter takes are ignored. Throws Error(kCodeRange) for SQL with a positional
// parameter ("Cannot use named parameter map with SQL that has positional parameters (?). Use
// a list of arguments instead.") and for missing values ("Missing required parameters: :b, :c.
// SQL requires: :a, :b, :c").
std::vector<std::size_t> resolve_named(std::span<const std::string_view> names,
                                       std::span<const NamedParam> given);

// The names of `stmt`'s parameters as resolve_named takes them (Statement::parameter_name,
// empty for `?`).
std::vector<std::string> parameter_names_of(const Statement& stmt);

// The values of `params` in parameter order (`names` as for resolve_named): positional ones
// as given, named ones as resolve_named chooses them. Throws as require_parameter_count and
// resolve_named do.
std::vector<const ParamValue*> parameter_values(std::span<const std::string> names,
                                                const Params& params);

}  // namespace ecto_libsql
