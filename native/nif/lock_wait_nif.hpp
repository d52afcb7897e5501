// NIF calls that may wait for a database lock never wait on their scheduler (a dirty one: the
// lock's holder may need it to release the lock; with as many waiters as dirty schedulers the
// holder would wait for the busy timeout). They take one more argument than their Elixir
// wrapper, `nil` or when the wait began, and answer {:ecto_libsql_busy, waiting_since} when the
// lock is busy: EctoLibSql.NIF sleeps in the calling process and calls again with it, until
// the busy timeout turns the wait into an ordinary SQLITE_BUSY error.
#pragma once

#include <erl_nif.h>

#include "ecto_libsql/lock_wait.hpp"
#include "nif_support.hpp"

namespace ecto_libsql::nif {

// The lock wait of a call whose `arity`-th argument (0-based) is `nil` or the wait's state,
// {start in native nanoseconds, the connection's interrupt count when it began}.
LockWait lock_wait_arg(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], int arity);

// {:ecto_libsql_busy, waiting_since}, `waiting_since` opaque to Elixir.
ERL_NIF_TERM busy_term(ErlNifEnv* env, const LockWait& wait);

// Runs `body(LockWait&)` with the call's lock wait installed.
template <class Body>
ERL_NIF_TERM with_lock_wait(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], int arity,
                            Body&& body) {
  LockWait wait = lock_wait_arg(env, argc, argv, arity);
  try {
    LockWaitScope scope(wait);
    return body(wait);
  } catch (const Error& e) {
    if (wait.interrupted) throw Error(kCodeInterrupt, "interrupted");
    if (wait.should_retry(e)) return busy_term(env, wait);
    throw;
  }
}

}  // namespace ecto_libsql::nif
