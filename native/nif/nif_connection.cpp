// Connections: open/1, close/1, ping/1, settings, metadata and replication.
#include <string>

#include "ecto_libsql/crypto/encryption.hpp"
#include "ecto_libsql/open.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"

namespace ecto_libsql::nif {
namespace {

bool map_get(ErlNifEnv* env, ERL_NIF_TERM map, const char* key, ERL_NIF_TERM& value) {
  return enif_get_map_value(env, map, enif_make_atom(env, key), &value) && !is_nil(value);
}

std::optional<std::string> string_option(ErlNifEnv* env, ERL_NIF_TERM map, const char* key) {
  ERL_NIF_TERM value;
  if (!map_get(env, map, key, value)) return std::nullopt;
  ErlNifBinary bin;
  if (!enif_inspect_binary(env, value, &bin)) {
    throw Error(kCodeMisuse, std::string("option :") + key + " must be a string");
  }
  return std::string(reinterpret_cast<const char*>(bin.data), bin.size);
}

std::optional<std::int64_t> int_option(ErlNifEnv* env, ERL_NIF_TERM map, const char* key) {
  ERL_NIF_TERM value;
  if (!map_get(env, map, key, value)) return std::nullopt;
  ErlNifSInt64 v = 0;
  if (!enif_get_int64(env, value, &v) || v < 0) {
    throw Error(kCodeMisuse, std::string("option :") + key + " must be a non-negative integer");
  }
  return v;
}

std::optional<bool> bool_option(ErlNifEnv* env, ERL_NIF_TERM map, const char* key) {
  ERL_NIF_TERM value;
  if (!map_get(env, map, key, value)) return std::nullopt;
  if (enif_is_identical(value, atoms::true_)) return true;
  if (enif_is_identical(value, atoms::false_)) return false;
  throw Error(kCodeMisuse, std::string("option :") + key + " must be a boolean");
}

ConnectOptions decode_options(ErlNifEnv* env, ERL_NIF_TERM map) {
  if (!enif_is_map(env, map)) throw BadArg{};
  ConnectOptions o;
  ERL_NIF_TERM mode;
  if (!map_get(env, map, "mode", mode)) throw Error(kCodeMisuse, "Unknown mode");
  if (enif_is_identical(mode, atoms::local)) {
    o.mode = Mode::Local;
  } else if (enif_is_identical(mode, atoms::remote)) {
    o.mode = Mode::Remote;
  } else if (enif_is_identical(mode, atoms::remote_replica)) {
    o.mode = Mode::Replica;
  } else {
    throw Error(kCodeMisuse, "Unknown mode");
  }
  o.database = string_option(env, map, "database").value_or("");
  o.uri = string_option(env, map, "uri").value_or("");
  o.auth_token = string_option(env, map, "auth_token").value_or("");
  o.encryption_key = string_option(env, map, "encryption_key");
  o.remote_encryption_key = string_option(env, map, "remote_encryption_key");
  o.transport = string_option(env, map, "transport").value_or("http");
  o.tls_ca_file = string_option(env, map, "tls_ca_file").value_or("");
  o.sync_protocol = string_option(env, map, "sync_protocol").value_or("");
  if (auto v = int_option(env, map, "busy_timeout"))
    o.busy_timeout_ms = static_cast<int>(std::min<std::int64_t>(*v, INT32_MAX));
  if (auto v = int_option(env, map, "sync_interval"))
    o.sync_interval = std::chrono::milliseconds(*v);
  if (auto v = int_option(env, map, "connect_timeout"))
    o.connect_timeout = std::chrono::milliseconds(*v);
  if (auto v = int_option(env, map, "request_timeout"))
    o.request_timeout = std::chrono::milliseconds(*v);
  if (auto v = bool_option(env, map, "sync")) o.sync_on_connect = *v;
  if (auto v = bool_option(env, map, "read_your_writes")) o.read_your_writes = *v;
  if (auto v = bool_option(env, map, "read_only")) o.read_only = *v;
  if (auto v = bool_option(env, map, "offline")) o.offline = *v;
  return o;
}

// Runs `body` under the connection's lock: at once on a normal scheduler if the lock is free
// and the connection never blocks, otherwise on a dirty scheduler.
template <class F>
ERL_NIF_TERM locked(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], const char* name,
                    NifFunction dirty_fn, F&& body) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    if (!on_dirty_scheduler()) {
      if (conn.always_blocking()) return reschedule_dirty(env, name, dirty_fn, argc, argv);
      Connection::Guard guard(conn, std::try_to_lock);
      if (!guard.owns_lock()) return reschedule_dirty(env, name, dirty_fn, argc, argv);
      return body(conn);
    }
    Connection::Guard guard(conn);
    return body(conn);
  });
}

}  // namespace

// open(options_map) — dirty
ERL_NIF_TERM open(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectOptions options = decode_options(env, argv[0]);
    const crypto::WipeOnExit wipe(options.encryption_key);
    std::shared_ptr<Connection> conn = open_connection(options);
    return make_ok(env, make_resource<ConnectionResource>(env, std::move(conn)));
  });
}

// close(conn) — dirty. Closes the connection with its statements and cursors; idempotent.
ERL_NIF_TERM close(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    Connection::Guard guard(conn);
    conn.close();
    return atoms::ok;
  });
}

ERL_NIF_TERM ping(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return locked(env, argc, argv, "ping", ping, [&](Connection& conn) {
    conn.ping();
    return atoms::ok;
  });
}

ERL_NIF_TERM set_busy_timeout(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return locked(env, argc, argv, "set_busy_timeout", set_busy_timeout, [&](Connection& conn) {
    const std::int64_t ms = int_arg(env, argv[1]);
    if (ms < 0 || ms > INT32_MAX) throw BadArg{};
    conn.set_busy_timeout(static_cast<int>(ms));
    return atoms::ok;
  });
}

// interrupt(conn): stops what the connection runs now, from any process. Takes no lock.
ERL_NIF_TERM interrupt(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    connection_arg(env, argv[0]).conn->interrupt();
    return atoms::ok;
  });
}

// reset(conn) — dirty (may roll back)
ERL_NIF_TERM reset(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    Connection::Guard guard(conn);
    conn.reset();
    return atoms::ok;
  });
}

// enable_load_extension(conn, bool) — dirty
ERL_NIF_TERM enable_load_extension(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    const bool enabled = bool_arg(env, argv[1]);
    Connection::Guard guard(conn);
    conn.enable_load_extension(enabled);
    return atoms::ok;
  });
}

// set_foreign_keys_enforced(conn, bool) — dirty
ERL_NIF_TERM set_foreign_keys_enforced(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    const bool enforced = bool_arg(env, argv[1]);
    Connection::Guard guard(conn);
    conn.set_foreign_keys_enforced(enforced);
    return atoms::ok;
  });
}

// load_extension(conn, path, entry | nil) — dirty
ERL_NIF_TERM load_extension(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    std::string path(binary_arg(env, argv[1]));
    std::optional<std::string> entry;
    if (!is_nil(argv[2])) entry = std::string(binary_arg(env, argv[2]));
    Connection::Guard guard(conn);
    conn.load_extension(path, entry);
    return atoms::ok;
  });
}

// info(conn, :last_insert_rowid | :changes | :total_changes | :autocommit)
ERL_NIF_TERM info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return locked(env, argc, argv, "info", info, [&](Connection& conn) -> ERL_NIF_TERM {
    char what[32];
    if (!enif_get_atom(env, argv[1], what, sizeof(what), ERL_NIF_LATIN1)) throw BadArg{};
    const std::string_view kind(what);
    if (kind == "last_insert_rowid") return enif_make_int64(env, conn.last_insert_rowid());
    if (kind == "changes") return enif_make_int64(env, conn.changes());
    if (kind == "total_changes") return enif_make_int64(env, conn.total_changes());
    if (kind == "autocommit") return conn.autocommit() ? atoms::true_ : atoms::false_;
    throw BadArg{};
  });
}

// mode(conn) -> :local | :remote | :remote_replica
ERL_NIF_TERM mode(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    switch (connection_arg(env, argv[0]).conn->mode()) {
      case Mode::Local:
        return atoms::local;
      case Mode::Remote:
        return atoms::remote;
      case Mode::Replica:
        return atoms::remote_replica;
    }
    return atoms::unknown;
  });
}

// sync(conn) — dirty -> {:ok, %{frame_no: n, frames_synced: n}}
ERL_NIF_TERM sync(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    Connection::Guard guard(conn);
    if (!conn.is_open()) throw Error(kCodeMisuse, "Connection not found: it is closed");
    const SyncStatus status = conn.sync();
    ERL_NIF_TERM keys[] = {atoms::frame_no, atoms::frames_synced};
    ERL_NIF_TERM values[] = {enif_make_int64(env, status.frame_no),
                             enif_make_int64(env, status.frames_synced)};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 2, &map);
    return make_ok(env, map);
  });
}

// replication(conn, what, arg) — dirty. what: :frame_number | :sync_until | :flush |
// :max_write_frame | :freeze
ERL_NIF_TERM replication(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    char what[32];
    if (!enif_get_atom(env, argv[1], what, sizeof(what), ERL_NIF_LATIN1)) throw BadArg{};
    const std::string_view kind(what);
    Connection::Guard guard(conn);
    if (kind == "frame_number") return make_ok(env, enif_make_int64(env, conn.replication_index()));
    if (kind == "flush") return make_ok(env, enif_make_int64(env, conn.flush_replicator()));
    if (kind == "max_write_frame") {
      return make_ok(env, enif_make_int64(env, conn.max_write_replication_index()));
    }
    if (kind == "sync_until") {
      conn.sync_until(int_arg(env, argv[2]));
      return atoms::ok;
    }
    if (kind == "freeze") {
      conn.freeze();
      return atoms::ok;
    }
    throw BadArg{};
  });
}

}  // namespace ecto_libsql::nif
