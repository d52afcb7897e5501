#include "lock_wait_nif.hpp"

namespace ecto_libsql::nif {

LockWait lock_wait_arg(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], int arity) {
  LockWait wait;
  if (argc <= arity || is_nil(argv[arity])) return wait;
  int arity2 = 0;
  const ERL_NIF_TERM* parts = nullptr;
  ErlNifSInt64 since = 0;
  ErlNifUInt64 interrupts = 0;
  if (!enif_get_tuple(env, argv[arity], &arity2, &parts) || arity2 != 2 ||
      !enif_get_int64(env, parts[0], &since)) {
    throw BadArg{};
  }
  wait.waiting_since = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(since));
  if (!is_nil(parts[1])) {
    if (!enif_get_uint64(env, parts[1], &interrupts)) throw BadArg{};
    wait.interrupts = interrupts;
  }
  return wait;
}

ERL_NIF_TERM busy_term(ErlNifEnv* env, const LockWait& wait) {
  const auto since = wait.waiting_since.value_or(std::chrono::steady_clock::now());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since.time_since_epoch());
  return enif_make_tuple2(
      env, enif_make_atom(env, "ecto_libsql_busy"),
      enif_make_tuple2(env, enif_make_int64(env, ns.count()),
                       wait.interrupts ? enif_make_uint64(env, *wait.interrupts) : atoms::nil));
}

}  // namespace ecto_libsql::nif
