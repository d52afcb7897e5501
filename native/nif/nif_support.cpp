#include "nif_support.hpp"

#include <chrono>

#include "ecto_libsql/lock_wait.hpp"

namespace ecto_libsql::nif {

TransactionResource* transaction_arg(ErlNifEnv* env, ERL_NIF_TERM term, const Connection& conn) {
  if (is_nil(term)) return nullptr;
  auto* trx = get_resource<TransactionResource>(env, term);
  if (trx == nullptr || !trx->conn) not_a_handle("Transaction");
  if (trx->conn.get() != &conn) {
    throw Error(kCodeMisuse, "Transaction does not belong to this connection");
  }
  if (trx->serial == 0 || conn.transaction_serial() != trx->serial) {
    throw Error(kCodeMisuse, "Transaction not found: it has already ended");
  }
  return trx;
}

bool in_foreign_transaction(ErlNifEnv* env, const ConnectionResource& res) {
  const std::uint64_t serial = res.conn->transaction_serial();
  if (serial == 0 || serial != res.owner_serial) return false;
  ErlNifPid self;
  if (enif_self(env, &self) == nullptr) return false;
  return enif_compare_pids(&self, &res.owner) != 0;
}

void wait_outside_foreign_transaction(ErlNifEnv* env, const ConnectionResource& res) {
  if (!in_foreign_transaction(env, res)) return;
  if (LockWait* wait = LockWaitScope::current()) {
    using namespace std::chrono;
    const auto now = steady_clock::now();
    if (!wait->waiting_since) wait->waiting_since = now;
    if (wait->interrupted_by(res.conn->interrupt_count())) {
      throw Error(kCodeInterrupt, "interrupted");
    }
    if (wait->may_yield && now < *wait->waiting_since + milliseconds(res.busy_timeout_ms)) {
      wait->yielded = true;
      throw Error(kCodeBusy, "database is locked");
    }
  }
  throw Error(kCodeBusy,
              "database is locked: the connection is inside a transaction that another process "
              "began; pass that transaction (its state) to run in it, or wait for it to end "
              "(busy_timeout)");
}

TransactionResource* transaction_arg(ErlNifEnv* env, ERL_NIF_TERM term,
                                     const ConnectionResource& res) {
  TransactionResource* trx = transaction_arg(env, term, *res.conn);
  if (trx == nullptr) wait_outside_foreign_transaction(env, res);
  return trx;
}

}  // namespace ecto_libsql::nif
