// A connection to a local SQLite database file.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/open.hpp"

namespace ecto_libsql::vector {
class Extension;
}

namespace ecto_libsql::local {

class LocalStatement;
struct ChangedRow;

// Hooks run on every new local connection before it is handed out (vector functions,
// encryption checks). Registered once at start-up by the modules that need them.
using ConnectionInitialiser = void (*)(sqlite3* db);
void register_initialiser(ConnectionInitialiser initialiser);

class LocalConnection final : public Connection {
 public:
  // Opens `options.database`. `vfs` names a SQLite VFS to use (empty: the default).
  explicit LocalConnection(const ConnectOptions& options, const char* vfs = nullptr);
  ~LocalConnection() override;

  [[nodiscard]] Mode mode() const noexcept override { return Mode::Local; }
  [[nodiscard]] bool is_open() const noexcept override { return db_ != nullptr; }
  void close() noexcept override;
  void ping() override;

  std::shared_ptr<Statement> prepare(std::string_view sql) override;
  StatementLease acquire(std::string_view sql, const ExecBudget* budget) override;

  [[nodiscard]] bool always_blocking() const noexcept override {
    return static_cast<bool>(authorizer_);
  }
  std::uint64_t begin(TransactionBehaviour behaviour, const ExecBudget* budget) override;
  void commit() override;
  void rollback() override;
  [[nodiscard]] bool autocommit() const override;
  [[nodiscard]] std::uint64_t transaction_serial() const noexcept override;

  [[nodiscard]] std::int64_t last_insert_rowid() const override;
  [[nodiscard]] std::int64_t changes() const override;
  [[nodiscard]] std::int64_t total_changes() const override;

  void set_busy_timeout(int milliseconds) override;
  void interrupt() noexcept override;
  [[nodiscard]] std::uint64_t interrupt_count() const noexcept override {
    return interrupts_.load(std::memory_order_acquire);
  }
  void reset() override;

  void set_update_hook(UpdateHook hook) override;
  void set_authorizer(Authorizer authorizer) override;
  void enable_load_extension(bool enabled) override;
  void set_foreign_keys_enforced(bool enforced) override;
  void load_extension(const std::string& path, const std::optional<std::string>& entry) override;

  // Runs SQL that returns no rows (several statements allowed). Throws on failure.
  void exec(std::string_view sql);

  // The raw handle, for engine modules (vector index, replica). Caller holds the lock.
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }

  // --- used by LocalStatement ---------------------------------------------------------------
  // Installs the budget for the statement about to step; `interruptible` lets the engine stop a
  // read-only statement at the deadline.
  void enter_budget(const ExecBudget* budget, bool interruptible) noexcept;
  // Leaves the budget; answers whether the engine gave up because of it.
  bool leave_budget() noexcept;
  // Throws the connection's current error, with constraint names added where known. `failed`
  // is the statement whose step failed: a foreign key failure is then explained by running it
  // once more in a probe that is rolled back (see foreign_key_failure.hpp).
  [[noreturn]] void throw_error(int rc, std::string_view context = {},
                                sqlite3_stmt* failed = nullptr);
  [[nodiscard]] std::size_t cached_statements() const noexcept { return cache_.size(); }
  // After a failed step: whether the statement should run again because the connection has just
  // started maintaining a vector index it writes to.
  bool retry_after_vector_change() noexcept;
  // Whether running `sql` may have to maintain a vector index (then it may take long).
  [[nodiscard]] bool may_maintain_vector_index(std::string_view sql) const noexcept;
  // After a step failed with SQLITE_BUSY: whether it was a write of a transaction that has
  // read, taking the write lock, which may wait for it (see the definition). Runs statements:
  // reset the failed one afterwards to put its error back on the handle.
  bool write_lock_may_wait() noexcept;
  // Waits as the busy handler would (`count`: waits so far); false when the wait gives up.
  bool wait_busy(int count) noexcept { return busy_handler(this, count) != 0; }

 private:
  static int busy_handler(void* self, int count) noexcept;
  static int progress_handler(void* self) noexcept;
  static void update_hook_trampoline(void* self, int op, const char* db, const char* table,
                                     sqlite3_int64 rowid) noexcept;
  static int commit_hook(void* self) noexcept;
  static void rollback_hook(void* self) noexcept;
  static int authorizer_trampoline(void* self, int action, const char* a1, const char* a2,
                                   const char* db, const char* trigger) noexcept;
  // The unique index made by CREATE INDEX over exactly the columns a "UNIQUE constraint failed"
  // message names, or nullopt.
  std::optional<std::string> unique_index_of(std::string_view message);
  // The vector-index path for `stmt` (vector-index DDL), or `stmt` itself.
  std::shared_ptr<Statement> with_vector_path(std::shared_ptr<Statement> stmt);
  // Prepares the vector indexes of the database once, before the first statements. Answers
  // true when the budget made it yield (the database is locked).
  bool prepare_vector_indexes(const ExecBudget* budget) noexcept;
  void require_open() const;
  void settle();
  void clear_cache() noexcept;
  void return_to_cache(std::unique_ptr<Statement> stmt) noexcept;
  // Reads sqlite_schema, so that SQLite checks its cached schema; answers the primary code.
  int refresh_schema() noexcept;
  // Whether the busy handler gave up on a lock during this call for the caller to wait elsewhere.
  bool lock_wait_yielded() const noexcept;
  // sqlite3_prepare_v3 against the current schema (see the definition); answers its code.
  int prepare_current(std::string_view sql, sqlite3_stmt*& raw, const char*& tail);

  sqlite3* db_ = nullptr;
  // Guards db_ against close() while interrupt() reads it from another thread.
  std::mutex interrupt_mutex_;
  std::atomic<std::uint64_t> interrupts_{0};  // interrupt() calls so far
  int busy_timeout_ms_ = 5000;

  // The budget of the statement stepping now (null when none).
  const ExecBudget* budget_ = nullptr;
  bool interruptible_ = false;
  bool yielded_ = false;

  std::uint64_t next_serial_ = 1;
  std::uint64_t serial_ = 0;  // the open transaction begun through begin()
  bool read_only_transaction_ = false;

  // Statement cache: most recently used at the front.
  struct CacheEntry {
    std::string sql;
    std::unique_ptr<Statement> stmt;
  };
  std::list<CacheEntry> lru_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::list<CacheEntry>::iterator, Hash, std::equal_to<>> cache_;
  std::size_t cache_capacity_ = 256;

  // Statements handed to users, closed with the connection.
  std::vector<std::weak_ptr<LocalStatement>> user_statements_;

  UpdateHook update_hook_;
  // While a foreign key probe runs: where the update hook records the rows it changes.
  std::vector<ChangedRow>* change_sink_ = nullptr;
  Authorizer authorizer_;

  // libSQL's vector functions and indexes on this connection.
  std::unique_ptr<vector::Extension> vector_;
};

}  // namespace ecto_libsql::local
