// resource_counts/0: how many handles of each kind are alive and how much memory SQLite holds,
// so that tests can prove handles are freed (closed, or dropped by a dead process).
#include <sqlite3.h>

#include "nif_functions.hpp"
#include "nif_support.hpp"

namespace ecto_libsql::nif {

ERL_NIF_TERM resource_counts(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM /*argv*/[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ERL_NIF_TERM keys[] = {enif_make_atom(env, "connections"), enif_make_atom(env, "statements"),
                           enif_make_atom(env, "cursors"), enif_make_atom(env, "transactions"),
                           enif_make_atom(env, "sqlite_memory_used")};
    ERL_NIF_TERM values[] = {enif_make_int64(env, ResourceType<ConnectionResource>::live.load()),
                             enif_make_int64(env, ResourceType<StatementResource>::live.load()),
                             enif_make_int64(env, ResourceType<CursorResource>::live.load()),
                             enif_make_int64(env, ResourceType<TransactionResource>::live.load()),
                             enif_make_int64(env, sqlite3_memory_used())};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 5, &map);
    return map;
  });
}

}  // namespace ecto_libsql::nif
