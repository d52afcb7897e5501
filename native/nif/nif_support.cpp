#include "nif_support.hpp"

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

}  // namespace ecto_libsql::nif
