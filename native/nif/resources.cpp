#include "resources.hpp"

#include "hooks.hpp"

namespace ecto_libsql::nif {
namespace {

template <class T>
void destroy(ErlNifEnv* /*env*/, void* obj) {
  static_cast<T*>(obj)->~T();
  ResourceType<T>::live.fetch_sub(1, std::memory_order_relaxed);
}

template <class T>
bool open_type(ErlNifEnv* env, const char* name) {
  ResourceType<T>::type = enif_open_resource_type(
      env, nullptr, name, &destroy<T>,
      static_cast<ErlNifResourceFlags>(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER), nullptr);
  return ResourceType<T>::type != nullptr;
}

}  // namespace

StatementResource::~StatementResource() {
  if (conn && stmt) conn->release_later(std::move(stmt));
}

CursorResource::~CursorResource() {
  if (conn && stmt) conn->release_later(std::move(stmt));
}

TransactionResource::~TransactionResource() {
  if (!conn || serial == 0) return;
  // A transaction handle dropped while its transaction is still open (its owner died): roll it
  // back under the connection's lock, unless another transaction has begun since.
  Connection* raw = conn.get();
  const std::uint64_t owned = serial;
  conn->release_later(std::shared_ptr<void>(nullptr, [raw, owned](void*) {
    try {
      if (raw->is_open() && raw->transaction_serial() == owned) raw->rollback();
    } catch (...) {
      // Nothing to report to: the connection stays usable and SQLite keeps it consistent.
    }
  }));
}

bool open_resource_types(ErlNifEnv* env) {
  return open_type<ConnectionResource>(env, "ecto_libsql_connection") &&
         open_type<StatementResource>(env, "ecto_libsql_statement") &&
         open_type<CursorResource>(env, "ecto_libsql_cursor") &&
         open_type<TransactionResource>(env, "ecto_libsql_transaction");
}

}  // namespace ecto_libsql::nif
