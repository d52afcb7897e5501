// The connection interface every mode implements (local file, remote server, embedded replica).
//
// Threading: a Connection is not internally synchronised. Callers hold `mutex()` around every
// call on the connection and on its statements, except `interrupt()`, which may be called from
// any thread at any time. Independent connections never share a lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "ecto_libsql/value.hpp"

namespace ecto_libsql {

enum class Mode { Local, Remote, Replica };

enum class TransactionBehaviour { Deferred, Immediate, Exclusive, ReadOnly };

// Cooperative execution. With `nonblocking` set the engine must not wait for locks, the
// network or the disk beyond ordinary page reads, and may stop read-only work once `deadline`
// has passed; in both cases it undoes the statement's work and answers Step::Yield so that the
// caller can run the whole operation again where blocking is allowed.
struct ExecBudget {
  bool nonblocking = false;
  std::chrono::steady_clock::time_point deadline{};
};

enum class Step { Row, Done, Yield };

// Reads the rows of a statement that is running or has run.
class RowReader {
 public:
  virtual ~RowReader() = default;
  [[nodiscard]] virtual int column_count() const = 0;
  [[nodiscard]] virtual std::string_view column_name(int index) const = 0;
  // Advances to the next row. Throws Error on failure.
  virtual Step step(const ExecBudget* budget) = 0;
  [[nodiscard]] virtual ValueType column_type(int index) const = 0;
  [[nodiscard]] virtual std::int64_t column_int64(int index) const = 0;
  [[nodiscard]] virtual double column_double(int index) const = 0;
  [[nodiscard]] virtual std::string_view column_text(int index) const = 0;
  [[nodiscard]] virtual std::span<const std::byte> column_blob(int index) const = 0;
  // Rows inserted, updated or deleted by the statement (valid once Step::Done was returned).
  [[nodiscard]] virtual std::int64_t changes() const = 0;
  [[nodiscard]] virtual std::int64_t last_insert_rowid() const = 0;
};

struct ColumnInfo {
  std::string name;
  std::string origin;  // the table column it comes from, or the name when it is an expression
  std::optional<std::string> decltype_;
};

// A prepared statement. Handles given to users are closed with their connection: afterwards
// every call throws Error(kCodeMisuse).
class Statement : public RowReader {
 public:
  [[nodiscard]] virtual std::string_view sql() const = 0;
  [[nodiscard]] virtual const sql::Classification& classification() const = 0;
  // True when running the statement cannot change the database (SELECT, or a plain read).
  [[nodiscard]] virtual bool readonly() const = 0;
  [[nodiscard]] virtual int parameter_count() const = 0;
  // Name of parameter `index` (1-based) with its prefix, or nullopt for `?`.
  [[nodiscard]] virtual std::optional<std::string> parameter_name(int index) const = 0;
  [[nodiscard]] virtual std::vector<ColumnInfo> columns() const = 0;
  // Binds every parameter. Missing named parameters are an error; so is a count mismatch.
  virtual void bind(const Params& params) = 0;
  // Stops the statement and clears its bindings, ready to run again.
  virtual void reset() noexcept = 0;
  [[nodiscard]] virtual bool closed() const noexcept = 0;
  virtual void close() noexcept = 0;
  // True when stepping may wait on the network (a write a replica forwards to its server).
  [[nodiscard]] virtual bool blocking() const noexcept { return false; }

  // Free for the caller's bookkeeping (the NIF keeps a moving average of run times here).
  std::uint32_t caller_cost = 0;
  std::uint32_t caller_runs = 0;
};

// Thrown by Connection::acquire() for SQL that holds more than one statement (SQLite's own
// statement boundaries: a trigger body's semicolons do not count). Such SQL can run as a script,
// one statement after the other (Connection::batch).
class SeveralStatements : public Error {
 public:
  SeveralStatements() : Error(kCodeMisuse, "the SQL holds more than one statement") {}
};

// A statement borrowed from the connection's cache; it goes back, reset, when released.
class StatementLease {
 public:
  StatementLease() = default;
  StatementLease(std::unique_ptr<Statement> stmt,
                 std::function<void(std::unique_ptr<Statement>)> back)
      : stmt_(std::move(stmt)), back_(std::move(back)) {}
  StatementLease(StatementLease&&) noexcept = default;
  StatementLease& operator=(StatementLease&& other) noexcept {
    release();
    stmt_ = std::move(other.stmt_);
    back_ = std::move(other.back_);
    return *this;
  }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  ~StatementLease() { release(); }

  Statement* operator->() const noexcept { return stmt_.get(); }
  Statement& operator*() const noexcept { return *stmt_; }
  explicit operator bool() const noexcept { return stmt_ != nullptr; }

 private:
  void release() noexcept {
    if (stmt_ && back_) back_(std::move(stmt_));
    stmt_.reset();
  }
  std::unique_ptr<Statement> stmt_;
  std::function<void(std::unique_ptr<Statement>)> back_;
};

struct BatchStep {
  std::string_view sql;
  Params params;
};

// Row change notifications (SQLite's update hook).
enum class UpdateKind { Insert, Update, Delete };
using UpdateHook = std::function<void(UpdateKind, std::string_view db, std::string_view table,
                                      std::int64_t rowid)>;

// Authorizer: receives SQLite's action code and its four strings (null when absent) and
// answers SQLITE_OK (0), SQLITE_DENY (1) or SQLITE_IGNORE (2).
using Authorizer = std::function<int(int action, const char* a1, const char* a2, const char* db,
                                     const char* trigger)>;

struct SyncStatus {
  std::int64_t frame_no = 0;
  std::int64_t frames_synced = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] virtual Mode mode() const noexcept = 0;
  std::mutex& mutex() noexcept { return mutex_; }

  // Holds the connection's lock; on entry it frees what release_later() queued.
  class Guard {
   public:
    explicit Guard(Connection& conn);
    // Takes the lock only if it is free at once; check owns_lock().
    Guard(Connection& conn, std::try_to_lock_t);
    ~Guard() = default;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    [[nodiscard]] bool owns_lock() const noexcept { return lock_.owns_lock(); }

   private:
    std::unique_lock<std::mutex> lock_;
  };

  // Frees `object` (a statement or cursor of this connection) the next time the lock is taken,
  // or now if the lock is free. Thread-safe; never blocks.
  void release_later(std::shared_ptr<void> object) noexcept;

  [[nodiscard]] virtual bool is_open() const noexcept = 0;
  // Closes the connection and every statement and cursor made from it. Idempotent.
  virtual void close() noexcept = 0;
  // Throws unless the connection answers.
  virtual void ping() = 0;

  // A statement owned by the caller (a prepared-statement or cursor handle).
  virtual std::shared_ptr<Statement> prepare(std::string_view sql) = 0;
  // A statement bound with `params` for a cursor, stepped a batch of rows at a time. Modes
  // that can stream a result (remote) read its rows as they are stepped; by default prepare()
  // and bind().
  virtual std::shared_ptr<Statement> open_cursor(std::string_view sql, const Params& params);
  // A statement from the per-connection cache, prepared only the first time it is seen. An
  // empty lease means the budget made it yield (preparing had to wait for a lock). Throws
  // SeveralStatements when the SQL holds more than one statement.
  virtual StatementLease acquire(std::string_view sql, const ExecBudget* budget = nullptr) = 0;

  // Runs one statement that takes no parameters, discarding its rows.
  void run(std::string_view sql);

  // Runs statements one after the other, calling `on_result` with each one's rows. With
  // `transactional` the batch is all-or-nothing: any failure rolls every step back.
  virtual void batch(std::span<const BatchStep> steps, bool transactional,
                     const std::function<void(std::size_t, RowReader&)>& on_result);

  // True when every call may block (network, or callbacks that wait for another process), so
  // no call may run where blocking is forbidden.
  [[nodiscard]] virtual bool always_blocking() const noexcept = 0;

  // Transactions. begin() answers a serial number that identifies this transaction, or 0 when
  // the budget made it yield (nothing was started).
  virtual std::uint64_t begin(TransactionBehaviour behaviour,
                              const ExecBudget* budget = nullptr) = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  [[nodiscard]] virtual bool autocommit() const = 0;
  // The serial of the transaction begun through begin() that is still open, or 0.
  [[nodiscard]] virtual std::uint64_t transaction_serial() const noexcept = 0;

  [[nodiscard]] virtual std::int64_t last_insert_rowid() const = 0;
  [[nodiscard]] virtual std::int64_t changes() const = 0;
  [[nodiscard]] virtual std::int64_t total_changes() const = 0;

  virtual void set_busy_timeout(int milliseconds) = 0;
  // Stops what the connection is running now, a wait for a database lock included.
  // Thread-safe; needs no lock.
  virtual void interrupt() noexcept = 0;
  // How many times interrupt() has been called: a lock wait that sees it change ends (see
  // LockWait). Thread-safe.
  [[nodiscard]] virtual std::uint64_t interrupt_count() const noexcept { return 0; }
  // Rolls back any open transaction and forgets cached statements.
  virtual void reset() = 0;

  virtual void set_update_hook(UpdateHook hook);
  virtual void set_authorizer(Authorizer authorizer);
  virtual void enable_load_extension(bool enabled);
  // Switches foreign key enforcement, also inside a transaction (PRAGMA foreign_keys cannot).
  virtual void set_foreign_keys_enforced(bool enforced);
  virtual void load_extension(const std::string& path, const std::optional<std::string>& entry);

  // Embedded replicas. Other modes answer SyncStatus{} for sync() and throw for the rest.
  virtual SyncStatus sync();
  virtual std::int64_t replication_index();
  virtual void sync_until(std::int64_t frame_no);
  virtual std::int64_t flush_replicator();
  virtual std::int64_t max_write_replication_index();
  virtual void freeze();

 protected:
  [[noreturn]] void unsupported(std::string_view what) const;
  // Frees what release_later() queued. Caller holds the lock.
  void drain_released() noexcept;

 private:
  std::mutex mutex_;
  std::mutex released_mutex_;
  std::vector<std::shared_ptr<void>> released_;
  // Set while released_ holds something, so taking the lock costs no second mutex.
  std::atomic<bool> has_released_{false};
};

}  // namespace ecto_libsql
