// Building result terms: values, rows, %EctoLibSql.Result{} and error tuples.
#pragma once

#include <erl_nif.h>

#include <string_view>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/error.hpp"

namespace ecto_libsql::nif {

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view bytes);
ERL_NIF_TERM make_binary(ErlNifEnv* env, std::span<const std::byte> bytes);

// The value of column `index` of the reader's current row.
inline ERL_NIF_TERM make_cell(ErlNifEnv* env, const RowReader& reader, int index);

// [name, ...] of the reader's columns.
ERL_NIF_TERM make_columns(ErlNifEnv* env, const RowReader& reader);

// One row as a list.
ERL_NIF_TERM make_row(ErlNifEnv* env, const RowReader& reader, int columns);

ERL_NIF_TERM command_atom(sql::Command command);

// %EctoLibSql.Result{command:, columns:, rows:, num_rows:}
ERL_NIF_TERM make_result(ErlNifEnv* env, ERL_NIF_TERM command, ERL_NIF_TERM columns,
                         ERL_NIF_TERM rows, ERL_NIF_TERM num_rows);

// {:error, {:ecto_libsql_error, code, primary_name, extended_name, message, remote_code | nil,
//           constraint}}: `constraint` is nil or {kind, name} (Error::constraint(), kind one of
// :unique, :primary_key, :foreign_key, :check, :not_null).
ERL_NIF_TERM make_error(ErlNifEnv* env, const Error& error);
ERL_NIF_TERM make_error(ErlNifEnv* env, int code, std::string_view message);
ERL_NIF_TERM make_ok(ErlNifEnv* env, ERL_NIF_TERM value);

}  // namespace ecto_libsql::nif

#include "terms_inline.hpp"
