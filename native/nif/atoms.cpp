#include "atoms.hpp"

namespace ecto_libsql::nif::atoms {

#define ECTO_LIBSQL_DEFINE_ATOM(name, ...) ERL_NIF_TERM name;
ECTO_LIBSQL_ATOMS(ECTO_LIBSQL_DEFINE_ATOM)
#undef ECTO_LIBSQL_DEFINE_ATOM

namespace {
ERL_NIF_TERM make(ErlNifEnv* env, const char* name) {
  return enif_make_atom(env, name);
}
ERL_NIF_TERM make(ErlNifEnv* env, const char* /*identifier*/, const char* name) {
  return enif_make_atom(env, name);
}
}  // namespace

void init(ErlNifEnv* env) {
#define ECTO_LIBSQL_INIT_ATOM(name, ...) name = make(env, #name __VA_OPT__(, ) __VA_ARGS__);
  ECTO_LIBSQL_ATOMS(ECTO_LIBSQL_INIT_ATOM)
#undef ECTO_LIBSQL_INIT_ATOM
}

}  // namespace ecto_libsql::nif::atoms
