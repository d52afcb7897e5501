// Transactions: begin/2, commit/2, rollback/2, transaction_status/1.
#include "lock_wait_nif.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"
#include "run.hpp"

namespace ecto_libsql::nif {
namespace {

TransactionBehaviour behaviour_arg(ERL_NIF_TERM term) {
  if (enif_is_identical(term, atoms::deferred)) return TransactionBehaviour::Deferred;
  if (enif_is_identical(term, atoms::immediate)) return TransactionBehaviour::Immediate;
  if (enif_is_identical(term, atoms::exclusive)) return TransactionBehaviour::Exclusive;
  if (enif_is_identical(term, atoms::read_only)) return TransactionBehaviour::ReadOnly;
  throw Error(kCodeMisuse,
              "Invalid transaction behavior. Use :deferred, :immediate, :exclusive, or :read_only");
}

ERL_NIF_TERM begin_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// Records the calling process as the owner of the transaction just begun. Caller holds the
// connection's lock.
void own_transaction(ErlNifEnv* env, ConnectionResource& res, std::uint64_t serial) {
  if (enif_self(env, &res.owner) != nullptr) res.owner_serial = serial;
}

ERL_NIF_TERM begin_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectionResource& res = connection_arg(env, argv[0]);
    Connection& conn = *res.conn;
    const TransactionBehaviour behaviour = behaviour_arg(argv[1]);
    std::uint64_t serial = 0;
    if (dirty) {
      return with_lock_wait(env, argc, argv, 2, [&](LockWait&) {
        std::uint64_t begun = 0;
        {
          Connection::Guard guard(conn);
          // Another process's transaction on this connection: wait for it to end.
          wait_outside_foreign_transaction(env, res);
          begun = conn.begin(behaviour, nullptr);
          own_transaction(env, res, begun);
        }
        return make_ok(env, make_resource<TransactionResource>(env, res.conn, begun));
      });
    } else {
      if (conn.always_blocking() || behaviour == TransactionBehaviour::ReadOnly) {
        return reschedule_dirty(env, "begin", begin_dirty, argc, argv);
      }
      Connection::Guard guard(conn, std::try_to_lock);
      if (!guard.owns_lock() || in_foreign_transaction(env, res)) {
        return reschedule_dirty(env, "begin", begin_dirty, argc, argv);
      }
      ExecBudget budget = normal_scheduler_budget(std::chrono::steady_clock::now());
      serial = conn.begin(behaviour, &budget);
      if (serial == 0) return reschedule_dirty(env, "begin", begin_dirty, argc, argv);
      own_transaction(env, res, serial);
    }
    return make_ok(env, make_resource<TransactionResource>(env, res.conn, serial));
  });
}

ERL_NIF_TERM begin_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return begin_impl(env, argc, argv, true);
}

// Ends the transaction: commit or roll back. Caller is guarded. rollback/2 also takes nil for
// the connection: the transaction's own (closing a handle).
ERL_NIF_TERM finish_locked(ErlNifEnv* env, const ERL_NIF_TERM argv[], bool commit) {
  auto* trx = get_resource<TransactionResource>(env, argv[1]);
  if (trx == nullptr || !trx->conn) not_a_handle("Transaction");
  Connection& conn = !commit && is_nil(argv[0]) ? *trx->conn : *connection_arg(env, argv[0]).conn;
  Connection::Guard guard(conn);
  if (trx->conn.get() != &conn) {
    throw Error(kCodeMisuse, "Transaction does not belong to this connection");
  }
  if (trx->serial == 0 || conn.transaction_serial() != trx->serial) {
    trx->serial = 0;
    if (!commit) return atoms::ok;  // already rolled back (by SQLite after an error, say)
    if (!conn.is_open()) throw Error(kCodeMisuse, "Connection not found: it is closed");
    throw Error(kCodeMisuse, "Transaction not found: it has already ended");
  }
  if (commit) {
    conn.commit();
  } else {
    conn.rollback();
  }
  trx->serial = 0;
  return atoms::ok;
}

// Dirty: both may write and sync the journal. COMMIT may also wait for readers to finish
// (rollback journal), in slices.
ERL_NIF_TERM finish(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool commit) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    if (!commit) return finish_locked(env, argv, false);
    return with_lock_wait(env, argc, argv, 2,
                          [&](LockWait&) { return finish_locked(env, argv, true); });
  });
}

}  // namespace

ERL_NIF_TERM begin(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return begin_impl(env, argc, argv, false);
}
ERL_NIF_TERM commit(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return finish(env, argc, argv, true);
}
ERL_NIF_TERM rollback(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return finish(env, argc, argv, false);
}

// transaction_status(trx) -> :ok | {:error, _}. Never waits: a connection busy running a
// statement of this transaction is, by definition, still in it.
ERL_NIF_TERM transaction_status(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto* trx = get_resource<TransactionResource>(env, argv[0]);
    if (trx == nullptr || !trx->conn) not_a_handle("Transaction");
    Connection::Guard guard(*trx->conn, std::try_to_lock);
    if (!guard.owns_lock())
      return trx->serial != 0 ? atoms::ok : make_error(env, kCodeMisuse, "Transaction not found");
    if (trx->serial != 0 && trx->conn->is_open() &&
        trx->conn->transaction_serial() == trx->serial) {
      return atoms::ok;
    }
    return make_error(env, kCodeMisuse, "Transaction not found");
  });
}

}  // namespace ecto_libsql::nif
