#include "ecto_libsql/connection.hpp"

#include <string>

namespace ecto_libsql {

Connection::Guard::Guard(Connection& conn) : lock_(conn.mutex_) {
  conn.drain_released();
}

Connection::Guard::Guard(Connection& conn, std::try_to_lock_t)
    : lock_(conn.mutex_, std::try_to_lock) {
  if (lock_.owns_lock()) conn.drain_released();
}

void Connection::release_later(std::shared_ptr<void> object) noexcept {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (lock.owns_lock()) {
    object.reset();
    drain_released();
    return;
  }
  std::lock_guard<std::mutex> queue(released_mutex_);
  try {
    released_.push_back(std::move(object));
    has_released_.store(true, std::memory_order_release);
  } catch (...) {
    // Out of memory: leak the object rather than free it without the lock.
    new std::shared_ptr<void>(std::move(object));  // NOLINT(cppcoreguidelines-owning-memory)
  }
}

void Connection::drain_released() noexcept {
  if (!has_released_.load(std::memory_order_acquire)) return;
  std::vector<std::shared_ptr<void>> pending;
  {
    std::lock_guard<std::mutex> queue(released_mutex_);
    pending.swap(released_);
    has_released_.store(false, std::memory_order_relaxed);
  }
  pending.clear();
}

void Connection::unsupported(std::string_view what) const {
  std::string mode_name = mode() == Mode::Local    ? "local"
                          : mode() == Mode::Remote ? "remote"
                                                   : "remote replica";
  throw Error(kCodeMisuse, std::string(what) + " is not supported in " + mode_name + " mode");
}

std::shared_ptr<Statement> Connection::open_cursor(std::string_view sql, const Params& params) {
  std::shared_ptr<Statement> stmt = prepare(sql);
  stmt->bind(params);
  return stmt;
}

void Connection::run(std::string_view sql) {
  StatementLease stmt = acquire(sql);
  stmt->bind(Params{});
  while (stmt->step(nullptr) == Step::Row) {
  }
}

void Connection::batch(std::span<const BatchStep> steps, bool transactional,
                       const std::function<void(std::size_t, RowReader&)>& on_result) {
  // All-or-nothing: outside a transaction the batch is one (begin/commit, so every mode keeps
  // its transaction rules: a replica reads from the server once it has written, and later steps
  // see earlier ones); inside one, a savepoint undoes the batch and leaves the transaction.
  static constexpr std::string_view kSavepoint = "SAVEPOINT ecto_libsql_batch";
  static constexpr std::string_view kRelease = "RELEASE SAVEPOINT ecto_libsql_batch";
  static constexpr std::string_view kRollback = "ROLLBACK TO SAVEPOINT ecto_libsql_batch";
  const bool outer = transactional && autocommit();
  if (outer) {
    begin(TransactionBehaviour::Deferred);
  } else if (transactional) {
    run(kSavepoint);
  }
  try {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      StatementLease stmt = acquire(steps[i].sql);
      stmt->bind(steps[i].params);
      on_result(i, *stmt);
    }
  } catch (...) {
    try {
      if (outer) {
        rollback();
      } else if (transactional) {
        run(kRollback);
        run(kRelease);
      }
    } catch (...) {
      // The original error matters more than a failed clean-up.
    }
    throw;
  }
  if (outer) {
    try {
      commit();
    } catch (...) {
      // A COMMIT that failed (busy, say) leaves the transaction open: the batch is undone and
      // may run again.
      try {
        rollback();
      } catch (...) {
      }
      throw;
    }
  } else if (transactional) {
    run(kRelease);
  }
}

// Overrides take the callbacks by value and keep them.
void Connection::set_update_hook(
    UpdateHook /*hook*/) {  // NOLINT(performance-unnecessary-value-param)
  unsupported("the update hook");
}
void Connection::set_authorizer(
    Authorizer /*authorizer*/) {  // NOLINT(performance-unnecessary-value-param)
  unsupported("the authorizer");
}
void Connection::enable_load_extension(bool /*enabled*/) {
  unsupported("loading extensions");
}
void Connection::set_foreign_keys_enforced(bool /*enforced*/) {
  unsupported("switching foreign key enforcement");
}
void Connection::load_extension(const std::string& /*path*/,
                                const std::optional<std::string>& /*entry*/) {
  unsupported("loading extensions");
}
SyncStatus Connection::sync() {
  return SyncStatus{};
}
std::int64_t Connection::replication_index() {
  unsupported("replication_index");
}
void Connection::sync_until(std::int64_t /*frame_no*/) {
  unsupported("sync_until");
}
std::int64_t Connection::flush_replicator() {
  unsupported("flush_replicator");
}
std::int64_t Connection::max_write_replication_index() {
  unsupported("max_write_replication_index");
}
void Connection::freeze() {
  unsupported("freeze");
}

}  // namespace ecto_libsql
