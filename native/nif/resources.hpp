// Handles given to Elixir: reference-counted NIF resources around engine objects.
//
// Every handle keeps its connection alive; statements, cursors and transactions remember the
// connection they belong to and refuse to be used with another one. Destructors never block:
// what needs the connection's lock is queued with Connection::release_later().
#pragma once

#include <erl_nif.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "ecto_libsql/connection.hpp"

namespace ecto_libsql::nif {

struct ConnectionResource {
  std::shared_ptr<Connection> conn;
  // The process that began the open transaction through begin/2, and that transaction's
  // serial: another process's statement outside it waits for it to end (nif_support.hpp).
  // With the busy timeout of those waits, read and written under the connection's lock.
  ErlNifPid owner{};
  std::uint64_t owner_serial = 0;
  int busy_timeout_ms = 5000;
};

struct StatementResource {
  std::shared_ptr<Connection> conn;
  std::shared_ptr<Statement> stmt;
  ~StatementResource();
};

struct CursorResource {
  std::shared_ptr<Connection> conn;
  std::shared_ptr<Statement> stmt;
  bool done = false;
  bool started = false;  // a row has been fetched: the cursor can no longer start over
  // The error that ended the cursor: later fetches answer it again rather than an empty halt,
  // so a result cut short by an error never looks complete.
  std::optional<Error> failed{};
  ~CursorResource();
};

struct TransactionResource {
  std::shared_ptr<Connection> conn;
  // The transaction's serial while it is open, 0 once it ended. Written under the connection's
  // lock; read without it by transaction_status/1.
  std::atomic<std::uint64_t> serial = 0;
  ~TransactionResource();
};

template <class T>
struct ResourceType {
  static inline ErlNifResourceType* type = nullptr;
  // Resources of this type alive now (made and not yet destroyed), for resource_counts/0.
  static inline std::atomic<std::int64_t> live = 0;
};

bool open_resource_types(ErlNifEnv* env);

// Makes a resource term holding a T built from `args`.
template <class T, class... Args>
ERL_NIF_TERM make_resource(ErlNifEnv* env, Args&&... args) {
  void* mem = enif_alloc_resource(ResourceType<T>::type, sizeof(T));
  if (mem == nullptr) throw std::bad_alloc();
  // Construction only moves shared pointers and integers, so it cannot throw.
  new (mem) T{std::forward<Args>(args)...};
  ResourceType<T>::live.fetch_add(1, std::memory_order_relaxed);
  ERL_NIF_TERM term = enif_make_resource(env, mem);
  enif_release_resource(mem);
  return term;
}

template <class T>
T* get_resource(ErlNifEnv* env, ERL_NIF_TERM term) {
  void* obj = nullptr;
  if (!enif_get_resource(env, term, ResourceType<T>::type, &obj)) return nullptr;
  return static_cast<T*>(obj);
}

}  // namespace ecto_libsql::nif
