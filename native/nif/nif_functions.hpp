// Every function of the EctoLibSql.NIF module.
#pragma once

#include <erl_nif.h>

namespace ecto_libsql::nif {

#define ECTO_LIBSQL_NIF(name) \
  ERL_NIF_TERM name(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// connection
ECTO_LIBSQL_NIF(open)
ECTO_LIBSQL_NIF(close)
ECTO_LIBSQL_NIF(ping)
ECTO_LIBSQL_NIF(set_busy_timeout)
ECTO_LIBSQL_NIF(interrupt)
ECTO_LIBSQL_NIF(reset)
ECTO_LIBSQL_NIF(enable_load_extension)
ECTO_LIBSQL_NIF(set_foreign_keys_enforced)
ECTO_LIBSQL_NIF(load_extension)
ECTO_LIBSQL_NIF(info)
ECTO_LIBSQL_NIF(mode)
// queries
ECTO_LIBSQL_NIF(query)
ECTO_LIBSQL_NIF(batch)
ECTO_LIBSQL_NIF(execute_script)
ECTO_LIBSQL_NIF(classify)
ECTO_LIBSQL_NIF(named_arguments)
// prepared statements
ECTO_LIBSQL_NIF(prepare)
ECTO_LIBSQL_NIF(stmt_query)
ECTO_LIBSQL_NIF(stmt_reset)
ECTO_LIBSQL_NIF(stmt_close)
ECTO_LIBSQL_NIF(stmt_info)
// cursors
ECTO_LIBSQL_NIF(cursor_open)
ECTO_LIBSQL_NIF(cursor_fetch)
ECTO_LIBSQL_NIF(cursor_close)
// transactions
ECTO_LIBSQL_NIF(begin)
ECTO_LIBSQL_NIF(commit)
ECTO_LIBSQL_NIF(rollback)
ECTO_LIBSQL_NIF(transaction_status)
// replication
ECTO_LIBSQL_NIF(sync)
ECTO_LIBSQL_NIF(replication)
// diagnostics
ECTO_LIBSQL_NIF(resource_counts)
// encryption key management
ECTO_LIBSQL_NIF(encrypt_database)
ECTO_LIBSQL_NIF(decrypt_database)
ECTO_LIBSQL_NIF(rekey)
// SQL text without a connection
ECTO_LIBSQL_NIF(parse_create)

#undef ECTO_LIBSQL_NIF

}  // namespace ecto_libsql::nif
