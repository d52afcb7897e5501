// Update hook and authorizer callbacks that talk to Elixir processes.
#pragma once

#include <erl_nif.h>

#include "resources.hpp"

namespace ecto_libsql::nif {

// The environment of the NIF call running on this thread, for enif_send() from callbacks that
// SQLite runs inside that call. Null outside NIF calls.
class CallerScope {
 public:
  explicit CallerScope(ErlNifEnv* env) noexcept;
  ~CallerScope();
  CallerScope(const CallerScope&) = delete;
  CallerScope& operator=(const CallerScope&) = delete;
  static ErlNifEnv* current() noexcept;

 private:
  ErlNifEnv* previous_;
};

// set_update_hook(conn, pid | nil)
ERL_NIF_TERM set_update_hook(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// set_authorizer(conn, pid | nil, timeout_ms)
ERL_NIF_TERM set_authorizer(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// authorizer_reply(request_id, :ok | :deny | :ignore)
ERL_NIF_TERM authorizer_reply(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace ecto_libsql::nif
