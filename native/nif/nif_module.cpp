// The EctoLibSql.NIF module: function table and load-time set-up.
#include <erl_nif.h>

#include "atoms.hpp"
#include "hooks.hpp"
#include "nif_functions.hpp"
#include "resources.hpp"

namespace ecto_libsql::nif {
namespace {

constexpr unsigned kDirtyIo = ERL_NIF_DIRTY_JOB_IO_BOUND;

// Functions without a flag start on a normal scheduler and move to a dirty one themselves
// when they would block or run long; the others always run on a dirty IO scheduler. Those that
// may wait for a database lock take one more argument than their EctoLibSql.NIF wrapper (see
// lock_wait_nif.hpp).
ErlNifFunc functions[] = {
    {"open", 1, open, kDirtyIo},
    {"close", 1, close, kDirtyIo},
    {"ping", 1, ping, 0},
    {"set_busy_timeout", 2, set_busy_timeout, 0},
    {"interrupt", 1, interrupt, 0},
    {"reset", 1, reset, kDirtyIo},
    {"enable_load_extension", 2, enable_load_extension, kDirtyIo},
    {"set_foreign_keys_enforced", 2, set_foreign_keys_enforced, kDirtyIo},
    {"load_extension", 3, load_extension, kDirtyIo},
    {"info", 2, info, 0},
    {"mode", 1, mode, 0},
    {"query", 5, query, 0},
    {"batch", 5, batch, kDirtyIo},
    {"execute_script", 5, execute_script, kDirtyIo},
    {"classify", 1, classify, 0},
    {"named_arguments", 4, named_arguments, 0},
    {"prepare", 3, prepare, kDirtyIo},
    {"stmt_query", 4, stmt_query, 0},
    {"stmt_reset", 2, stmt_reset, 0},
    {"stmt_close", 1, stmt_close, 0},
    {"stmt_info", 4, stmt_info, 0},
    {"cursor_open", 5, cursor_open, kDirtyIo},
    {"cursor_fetch", 4, cursor_fetch, kDirtyIo},
    {"cursor_close", 1, cursor_close, 0},
    {"begin", 3, begin, 0},
    {"commit", 3, commit, kDirtyIo},
    {"rollback", 2, rollback, kDirtyIo},
    {"transaction_status", 1, transaction_status, 0},
    {"set_update_hook", 2, set_update_hook, kDirtyIo},
    {"set_authorizer", 3, set_authorizer, kDirtyIo},
    {"authorizer_reply", 2, authorizer_reply, 0},
    {"sync", 1, sync, kDirtyIo},
    {"replication", 3, replication, kDirtyIo},
    {"resource_counts", 0, resource_counts, 0},
    {"encrypt_database", 3, encrypt_database, kDirtyIo},
    {"decrypt_database", 3, decrypt_database, kDirtyIo},
    {"rekey", 3, rekey, kDirtyIo},
    {"parse_create", 1, parse_create, 0},
};

int load(ErlNifEnv* env, void** /*priv*/, ERL_NIF_TERM /*info*/) {
  atoms::init(env);
  return open_resource_types(env) ? 0 : 1;
}

int upgrade(ErlNifEnv* env, void** /*priv*/, void** /*old_priv*/, ERL_NIF_TERM /*info*/) {
  atoms::init(env);
  return open_resource_types(env) ? 0 : 1;
}

}  // namespace
}  // namespace ecto_libsql::nif

ERL_NIF_INIT(Elixir.EctoLibSql.NIF, ecto_libsql::nif::functions, ecto_libsql::nif::load, nullptr,
             ecto_libsql::nif::upgrade, nullptr)
