// Atoms used by the NIF, created once at load time.
#pragma once

#include <erl_nif.h>

namespace ecto_libsql::nif::atoms {

// One atom per line: clang-format cannot keep this macro stable.
// clang-format off
#define ECTO_LIBSQL_ATOMS(X) \
  X(ok) \
  X(error) \
  X(nil) \
  X(true_, "true") \
  X(false_, "false") \
  X(blob) \
  X(cont) \
  X(halt) \
  X(struct_, "__struct__") \
  X(result_module, "Elixir.EctoLibSql.Result") \
  X(command) \
  X(columns) \
  X(rows) \
  X(num_rows) \
  X(ecto_libsql_error) \
  X(select) \
  X(insert) \
  X(update) \
  X(delete_, "delete") \
  X(begin) \
  X(commit) \
  X(rollback) \
  X(create) \
  X(pragma) \
  X(savepoint) \
  X(release) \
  X(unknown) \
  X(deferred) \
  X(immediate) \
  X(exclusive) \
  X(read_only) \
  X(local) \
  X(remote) \
  X(remote_replica) \
  X(authorize) \
  X(deny) \
  X(ignore) \
  X(unsupported) \
  X(frame_no) \
  X(frames_synced) \
  X(inf) \
  X(neg_inf, "-inf") \
  X(null) \
  X(ecto_libsql_encode) \
  X(argument_error) \
  X(date_time_module, "Elixir.DateTime") \
  X(naive_date_time_module, "Elixir.NaiveDateTime") \
  X(date_module, "Elixir.Date") \
  X(time_module, "Elixir.Time") \
  X(decimal_module, "Elixir.Decimal")
// clang-format on

#define ECTO_LIBSQL_DECLARE_ATOM(name, ...) extern ERL_NIF_TERM name;
ECTO_LIBSQL_ATOMS(ECTO_LIBSQL_DECLARE_ATOM)
#undef ECTO_LIBSQL_DECLARE_ATOM

void init(ErlNifEnv* env);

}  // namespace ecto_libsql::nif::atoms
