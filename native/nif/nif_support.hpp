// Shared plumbing of the NIF functions: argument access, error handling, scheduling.
#pragma once

#include <erl_nif.h>

#include <new>
#include <string>
#include <string_view>

#include "ecto_libsql/error.hpp"
#include "hooks.hpp"
#include "param_decoder.hpp"
#include "resources.hpp"
#include "terms.hpp"

namespace ecto_libsql::nif {

// Thrown for arguments of the wrong type: becomes ArgumentError in Elixir.
struct BadArg {};

using NifFunction = ERL_NIF_TERM (*)(ErlNifEnv*, int, const ERL_NIF_TERM[]);

// Runs `body`, turning every C++ failure into an Elixir value: no exception leaves a NIF.
template <class F>
ERL_NIF_TERM guarded(ErlNifEnv* env, F&& body) noexcept {
  CallerScope scope(env);
  try {
    return body();
  } catch (const BadArg&) {
    return enif_make_badarg(env);
  } catch (const NeedsEncoding&) {
    return atoms::ecto_libsql_encode;
  } catch (const Error& e) {
    return make_error(env, e);
  } catch (const std::bad_alloc&) {
    return make_error(env, kCodeNoMem, "out of memory");
  } catch (const std::exception& e) {
    return make_error(env, kCodeError, e.what());
  } catch (...) {
    return make_error(env, kCodeError, "unknown internal error");
  }
}

// A handle argument that is no handle of its kind (nil, or the UUID string of an earlier
// release) is an error like a closed handle, not a bad argument: EctoLibSql.Native answers
// {:error, ...} for every handle that is not live. `kind` is "Connection", "Statement", ...
[[noreturn]] inline void not_a_handle(std::string_view kind) {
  std::string lower(kind);
  if (!lower.empty()) lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
  throw Error(kCodeMisuse, std::string(kind) + " not found: not a " + lower + " handle");
}

inline ConnectionResource& connection_arg(ErlNifEnv* env, ERL_NIF_TERM term) {
  auto* res = get_resource<ConnectionResource>(env, term);
  if (res == nullptr || !res->conn) not_a_handle("Connection");
  return *res;
}

inline std::string_view binary_arg(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifBinary bin;
  if (!enif_inspect_binary(env, term, &bin)) throw BadArg{};
  return {reinterpret_cast<const char*>(bin.data), bin.size};
}

inline std::int64_t int_arg(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifSInt64 v = 0;
  if (!enif_get_int64(env, term, &v)) throw BadArg{};
  return v;
}

inline bool bool_arg(ErlNifEnv* env, ERL_NIF_TERM term) {
  if (enif_is_identical(term, atoms::true_)) return true;
  if (enif_is_identical(term, atoms::false_)) return false;
  throw BadArg{};
}

inline bool is_nil(ERL_NIF_TERM term) {
  return enif_is_identical(term, atoms::nil) != 0;
}

// The transaction handle argument: nil, or a transaction of `conn` that is still open.
TransactionResource* transaction_arg(ErlNifEnv* env, ERL_NIF_TERM term, const Connection& conn);

// Whether the connection is inside a transaction that another process began with begin/2.
// Caller holds the connection's lock.
bool in_foreign_transaction(ErlNifEnv* env, const ConnectionResource& res);

// A statement outside a transaction another process began must not join it: it waits for the
// transaction to end, as for a database lock (yielding through the call's LockWait), and fails
// with SQLITE_BUSY once the busy timeout has passed; interrupt/1 ends the wait. Caller holds
// the connection's lock.
void wait_outside_foreign_transaction(ErlNifEnv* env, const ConnectionResource& res);

// transaction_arg(), and for nil wait_outside_foreign_transaction().
TransactionResource* transaction_arg(ErlNifEnv* env, ERL_NIF_TERM term,
                                     const ConnectionResource& res);

// Hands the call over to a dirty IO scheduler, where blocking is allowed.
inline ERL_NIF_TERM reschedule_dirty(ErlNifEnv* env, const char* name, NifFunction dirty, int argc,
                                     const ERL_NIF_TERM argv[]) {
  return enif_schedule_nif(env, name, ERL_NIF_DIRTY_JOB_IO_BOUND, dirty, argc, argv);
}

// Whether this call runs on a dirty scheduler.
inline bool on_dirty_scheduler() {
  return enif_thread_type() == ERL_NIF_THR_DIRTY_IO_SCHEDULER ||
         enif_thread_type() == ERL_NIF_THR_DIRTY_CPU_SCHEDULER;
}

}  // namespace ecto_libsql::nif
