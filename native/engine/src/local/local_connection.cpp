#include "ecto_libsql/local/local_connection.hpp"

#include <algorithm>
#include <array>
#include <thread>

#include "ecto_libsql/lock_wait.hpp"
#include "local/foreign_key_failure.hpp"
#include "local/local_statement.hpp"
#include "local/newer_functions.hpp"
#include "vector/extension.hpp"

namespace ecto_libsql::local {
namespace {

std::vector<ConnectionInitialiser>& initialisers() {
  static std::vector<ConnectionInitialiser> list;
  return list;
}
std::mutex& initialisers_mutex() {
  static std::mutex m;
  return m;
}

// How many virtual-machine steps run between two deadline checks.
constexpr int kProgressInterval = 1000;

class Finaliser {
 public:
  explicit Finaliser(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Finaliser() { sqlite3_finalize(stmt_); }
  Finaliser(const Finaliser&) = delete;
  Finaliser& operator=(const Finaliser&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace

void register_initialiser(ConnectionInitialiser initialiser) {
  std::lock_guard<std::mutex> lock(initialisers_mutex());
  auto& list = initialisers();
  if (std::find(list.begin(), list.end(), initialiser) == list.end()) list.push_back(initialiser);
}

LocalConnection::LocalConnection(const ConnectOptions& options, const char* vfs)
    : busy_timeout_ms_(options.busy_timeout_ms) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (options.database.empty()) {
    throw Error(kCodeMisuse, "Failed to connect: the database path is empty");
  }
  const int rc = sqlite3_open_v2(options.database.c_str(), &db_, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const int code = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(code, "Failed to connect to " + options.database + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  // Some builds (Debian's among them) allow sqlite3_load_extension() by default: loading stays
  // off until enable_load_extension(true) asks for it.
  sqlite3_enable_load_extension(db_, 0);
  sqlite3_busy_handler(db_, &LocalConnection::busy_handler, this);
  sqlite3_progress_handler(db_, kProgressInterval, &LocalConnection::progress_handler, this);
  sqlite3_commit_hook(db_, &LocalConnection::commit_hook, this);
  sqlite3_rollback_hook(db_, &LocalConnection::rollback_hook, this);
  std::vector<ConnectionInitialiser> list;
  {
    std::lock_guard<std::mutex> lock(initialisers_mutex());
    list = initialisers();
  }
  for (ConnectionInitialiser init : list)
    init(db_);
  try {
    vector_ = vector::Extension::attach(db_);
    if (add_newer_functions(db_) != SQLITE_OK) {
      throw Error(kCodeError, "Failed to connect: cannot register concat()");
    }
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

LocalConnection::~LocalConnection() {
  close();
}

void LocalConnection::close() noexcept {
  if (db_ == nullptr) return;
  drain_released();
  for (auto& weak : user_statements_) {
    if (auto stmt = weak.lock()) stmt->close();
  }
  user_statements_.clear();
  clear_cache();
  if (vector_) vector_->detach();
  sqlite3* db = nullptr;
  {
    std::lock_guard<std::mutex> lock(interrupt_mutex_);
    db = db_;
    db_ = nullptr;
  }
  // close_v2 defers the close if something still holds a statement; nothing should.
  sqlite3_close_v2(db);
  vector_.reset();
}

void LocalConnection::require_open() const {
  if (db_ == nullptr) throw_misuse("Connection not found: it is closed");
}

void LocalConnection::ping() {
  require_open();
}

std::shared_ptr<Statement> LocalConnection::prepare(std::string_view sql) {
  require_open();
  settle();
  prepare_vector_indexes(nullptr);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = prepare_current(sql, raw, tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    throw_error(rc);
  }
  if (raw == nullptr) throw Error(kCodeMisuse, "Prepare failed: the SQL holds no statement");
  // Like acquire(): text after the first statement would be silently ignored.
  std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (!sql::split_statements(rest).empty()) {
    sqlite3_finalize(raw);
    throw Error(kCodeMisuse,
                "Prepare failed: the SQL holds more than one statement; prepare them one by one");
  }
  auto stmt = std::make_shared<LocalStatement>(*this, raw, sql);
  std::erase_if(user_statements_, [](const auto& weak) { return weak.expired(); });
  user_statements_.push_back(stmt);
  return with_vector_path(std::move(stmt));
}

std::shared_ptr<Statement> LocalConnection::with_vector_path(std::shared_ptr<Statement> stmt) {
  if (vector_ && vector_->wants(*stmt)) return vector_->wrap(std::move(stmt));
  return stmt;
}

bool LocalConnection::prepare_vector_indexes(const ExecBudget* budget) noexcept {
  if (!vector_ || vector_->ready()) return false;
  // Under the caller's budget: a database locked by another connection yields here too.
  enter_budget(budget, false);
  vector_->prepare_existing_indexes();
  return leave_budget();
}

bool LocalConnection::retry_after_vector_change() noexcept {
  return vector_ && vector_->retry_after_schema_change();
}

bool LocalConnection::may_maintain_vector_index(std::string_view sql) const noexcept {
  try {
    return vector_ && vector_->may_write_indexed_table(sql);
  } catch (...) {
    return true;
  }
}

StatementLease LocalConnection::acquire(std::string_view sql, const ExecBudget* budget) {
  require_open();
  if (read_only_transaction_) settle();
  auto back = [this](std::unique_ptr<Statement> stmt) { return_to_cache(std::move(stmt)); };
  if (auto it = cache_.find(sql); it != cache_.end()) {
    std::unique_ptr<Statement> stmt = std::move(it->second->stmt);
    lru_.erase(it->second);
    cache_.erase(it);
    return {std::move(stmt), back};
  }
  if (prepare_vector_indexes(budget)) return {};
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  enter_budget(budget, false);
  const int rc = prepare_current(sql, raw, tail);
  const bool yielded = leave_budget();
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    if (yielded && (rc & 0xff) == SQLITE_BUSY) return {};
    throw_error(rc);
  }
  if (raw == nullptr) throw Error(kCodeMisuse, "the SQL holds no statement");
  // Text after the first statement (other than whitespace and comments) would not run: the
  // caller runs such SQL as a script instead.
  std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (!sql::split_statements(rest).empty()) {
    sqlite3_finalize(raw);
    throw SeveralStatements();
  }
  std::unique_ptr<Statement> stmt = std::make_unique<LocalStatement>(*this, raw, sql);
  // A cached EXPLAIN would keep answering the plan of the schema it was prepared on.
  if (sqlite3_stmt_isexplain(raw) != 0) return {std::move(stmt), nullptr};
  if (vector_ && vector_->wants(*stmt)) return {vector_->wrap(std::move(stmt)), back};
  return {std::move(stmt), back};
}

// SQLite compiles an EXPLAIN against the schema this connection last read without checking
// that it is current: a statement that runs checks it (and is prepared again when another
// connection changed it), but an EXPLAIN never runs, so it could answer the plan of a schema
// without an index another connection has since created. Reading sqlite_schema checks it.
int LocalConnection::prepare_current(std::string_view sql, sqlite3_stmt*& raw, const char*& tail) {
  auto prepare = [&] {
    return sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  };
  int rc = prepare();
  // SQLite compiles against the schema this connection last read. It checks that schema when
  // a statement runs, but not for EXPLAIN, and after a failed prepare ("no such table") only
  // when it can take a read lock at once: while another connection writes, a table it created
  // a moment ago looked missing. Both read the current schema (waiting for the lock within
  // busy_timeout) and compile again.
  const bool explain = rc == SQLITE_OK && raw != nullptr && sqlite3_stmt_isexplain(raw) != 0;
  if (explain || rc == SQLITE_ERROR) {
    sqlite3_finalize(raw);
    raw = nullptr;
    // A call that waits for the lock elsewhere (the busy handler yielded) runs again once it
    // is free: compiled against the schema it could not read, it would fail for a stale reason.
    if (refresh_schema() == SQLITE_BUSY && lock_wait_yielded()) return SQLITE_BUSY;
    rc = prepare();
  }
  return rc;
}

int LocalConnection::refresh_schema() noexcept {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_schema LIMIT 1", -1, &stmt, nullptr);
  while (rc == SQLITE_OK || rc == SQLITE_ROW)
    rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return rc & 0xff;
}

bool LocalConnection::lock_wait_yielded() const noexcept {
  if (yielded_) return true;
  const LockWait* wait = LockWaitScope::current();
  return wait != nullptr && wait->yielded;
}

void LocalConnection::return_to_cache(std::unique_ptr<Statement> stmt) noexcept {
  if (db_ == nullptr || stmt->closed()) return;
  stmt->reset();
  try {
    std::string key(stmt->sql());
    if (cache_.contains(key)) return;  // a concurrent copy already went back
    lru_.push_front(CacheEntry{key, std::move(stmt)});
    cache_.emplace(std::move(key), lru_.begin());
    while (lru_.size() > cache_capacity_) {
      cache_.erase(lru_.back().sql);
      lru_.pop_back();
    }
  } catch (...) {
    // Out of memory: the statement is simply not cached.
  }
}

void LocalConnection::clear_cache() noexcept {
  cache_.clear();
  lru_.clear();
}

void LocalConnection::exec(std::string_view sql) {
  require_open();
  std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(sqlite3_extended_errcode(db_), message);
  }
}

std::uint64_t LocalConnection::begin(TransactionBehaviour behaviour, const ExecBudget* budget) {
  require_open();
  settle();
  if (sqlite3_get_autocommit(db_) == 0) {
    throw Error(kCodeError, "cannot start a transaction within a transaction");
  }
  std::string_view sql = "BEGIN DEFERRED";
  if (behaviour == TransactionBehaviour::Immediate) sql = "BEGIN IMMEDIATE";
  if (behaviour == TransactionBehaviour::Exclusive) sql = "BEGIN EXCLUSIVE";
  {
    StatementLease stmt = acquire(sql, budget);
    if (!stmt) return 0;
    stmt->bind(Params{});
    if (stmt->step(budget) == Step::Yield) return 0;
  }
  if (behaviour == TransactionBehaviour::ReadOnly) {
    try {
      exec("PRAGMA query_only = 1");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
    read_only_transaction_ = true;
  }
  serial_ = next_serial_++;
  return serial_;
}

void LocalConnection::commit() {
  require_open();
  if (sqlite3_get_autocommit(db_) != 0) {
    throw Error(kCodeError, "cannot commit - no transaction is active");
  }
  run("COMMIT");
}

void LocalConnection::rollback() {
  require_open();
  if (sqlite3_get_autocommit(db_) != 0) {
    // Already ended (for example rolled back by SQLite after an error): nothing to undo.
    serial_ = 0;
    return;
  }
  run("ROLLBACK");
}

bool LocalConnection::autocommit() const {
  require_open();
  return sqlite3_get_autocommit(db_) != 0;
}

std::uint64_t LocalConnection::transaction_serial() const noexcept {
  if (db_ == nullptr || sqlite3_get_autocommit(db_) != 0) return 0;
  return serial_;
}

// Both hooks run inside SQLite and must not use the connection: they only note that the
// transaction ended; settle() finishes the work before the next statement.
int LocalConnection::commit_hook(void* self) noexcept {
  static_cast<LocalConnection*>(self)->serial_ = 0;
  return 0;
}

void LocalConnection::rollback_hook(void* self) noexcept {
  auto* conn = static_cast<LocalConnection*>(self);
  conn->serial_ = 0;
  if (conn->vector_) conn->vector_->invalidate();
}

void LocalConnection::settle() {
  if (read_only_transaction_ && sqlite3_get_autocommit(db_) != 0) {
    read_only_transaction_ = false;
    exec("PRAGMA query_only = 0");
  }
}

std::int64_t LocalConnection::last_insert_rowid() const {
  require_open();
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t LocalConnection::changes() const {
  require_open();
  return sqlite3_changes64(db_);
}

std::int64_t LocalConnection::total_changes() const {
  require_open();
  return sqlite3_total_changes64(db_);
}

void LocalConnection::set_busy_timeout(int milliseconds) {
  require_open();
  if (milliseconds < 0) throw Error(kCodeMisuse, "busy_timeout must not be negative");
  busy_timeout_ms_ = milliseconds;
}

void LocalConnection::interrupt() noexcept {
  interrupts_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard<std::mutex> lock(interrupt_mutex_);
  if (db_ != nullptr) sqlite3_interrupt(db_);
}

void LocalConnection::reset() {
  require_open();
  if (sqlite3_get_autocommit(db_) == 0) exec("ROLLBACK");
  serial_ = 0;
  settle();
  clear_cache();
}

void LocalConnection::enter_budget(const ExecBudget* budget, bool interruptible) noexcept {
  budget_ = budget;
  interruptible_ = interruptible;
  yielded_ = false;
}

bool LocalConnection::leave_budget() noexcept {
  budget_ = nullptr;
  interruptible_ = false;
  const bool yielded = yielded_;
  yielded_ = false;
  return yielded;
}

int LocalConnection::busy_handler(void* self, int count) noexcept {
  auto* conn = static_cast<LocalConnection*>(self);
  if (conn->budget_ != nullptr && conn->budget_->nonblocking) {
    conn->yielded_ = true;
    return 0;
  }
  // The same back-off as SQLite's own busy timeout.
  static constexpr std::array<int, 12> kDelays = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  static constexpr std::array<int, 12> kTotals = {0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228};
  const int timeout = conn->busy_timeout_ms_;
  int delay = 0;
  int prior = 0;
  if (count < static_cast<int>(kDelays.size())) {
    delay = kDelays[static_cast<std::size_t>(count)];
    prior = kTotals[static_cast<std::size_t>(count)];
  } else {
    delay = kDelays.back();
    prior = kTotals.back() + delay * (count - static_cast<int>(kDelays.size()));
  }
  if (LockWait* wait = LockWaitScope::current()) {
    // See lock_wait.hpp: yield at once, or wait here until the timeout counted from the first
    // wait of the call; interrupt() ends the wait.
    using namespace std::chrono;
    const auto now = steady_clock::now();
    if (!wait->waiting_since) wait->waiting_since = now;
    if (wait->interrupted_by(conn->interrupt_count())) return 0;
    const auto left = *wait->waiting_since + milliseconds(timeout) - now;
    if (left <= steady_clock::duration::zero()) return 0;
    if (wait->may_yield) {
      wait->yielded = true;
      return 0;
    }
    std::this_thread::sleep_for(std::min<steady_clock::duration>(milliseconds(delay), left));
    return 1;
  }
  if (prior + delay > timeout) {
    delay = timeout - prior;
    if (delay <= 0) return 0;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  return 1;
}

// SQLite takes the write lock for a transaction that has already read without calling the busy
// handler: in rollback-journal mode the lock's holder waits, to commit, for this reader to end,
// so waiting here would deadlock. In WAL mode the holder never waits for readers: the write may
// wait for the lock like any other, and runs once the holder rolls back (once it commits, the
// read snapshot is stale and SQLite answers SQLITE_BUSY_SNAPSHOT, which stands).
bool LocalConnection::write_lock_may_wait() noexcept {
  if (db_ == nullptr || sqlite3_extended_errcode(db_) != SQLITE_BUSY) return false;
  if (sqlite3_get_autocommit(db_) != 0) return false;
  if (sqlite3_txn_state(db_, nullptr) != SQLITE_TXN_READ) return false;
  try {
    // Every database the transaction has read must be in WAL mode.
    for (int i = 0; const char* name = sqlite3_db_name(db_, i); ++i) {
      if (sqlite3_txn_state(db_, name) != SQLITE_TXN_READ) continue;
      std::string sql = "PRAGMA \"";
      for (const char* c = name; *c != '\0'; ++c) {
        sql += *c;
        if (*c == '"') sql += '"';
      }
      sql += "\".journal_mode";
      sqlite3_stmt* raw = nullptr;
      if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
        sqlite3_finalize(raw);
        return false;
      }
      Finaliser stmt(raw);
      if (sqlite3_step(raw) != SQLITE_ROW) return false;
      const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
      if (mode == nullptr || sqlite3_stricmp(mode, "wal") != 0) return false;
    }
  } catch (...) {
    return false;  // out of memory
  }
  return true;
}

int LocalConnection::progress_handler(void* self) noexcept {
  auto* conn = static_cast<LocalConnection*>(self);
  const ExecBudget* budget = conn->budget_;
  if (budget == nullptr || !budget->nonblocking || !conn->interruptible_) return 0;
  if (std::chrono::steady_clock::now() < budget->deadline) return 0;
  conn->yielded_ = true;
  return 1;
}

void LocalConnection::set_update_hook(UpdateHook hook) {
  require_open();
  update_hook_ = std::move(hook);
  sqlite3_update_hook(db_, update_hook_ ? &LocalConnection::update_hook_trampoline : nullptr, this);
}

void LocalConnection::update_hook_trampoline(void* self, int op, const char* db, const char* table,
                                             sqlite3_int64 rowid) noexcept {
  auto* conn = static_cast<LocalConnection*>(self);
  if (conn->change_sink_ != nullptr) {
    try {
      conn->change_sink_->push_back(ChangedRow{op, table != nullptr ? table : "", rowid});
    } catch (...) {
      // Out of memory: the probe finds less.
    }
    return;
  }
  if (!conn->update_hook_) return;
  const UpdateKind kind = op == SQLITE_INSERT   ? UpdateKind::Insert
                          : op == SQLITE_DELETE ? UpdateKind::Delete
                                                : UpdateKind::Update;
  try {
    conn->update_hook_(kind, db != nullptr ? db : "", table != nullptr ? table : "", rowid);
  } catch (...) {
    // A notification that cannot be delivered must not break the write.
  }
}

void LocalConnection::set_authorizer(Authorizer authorizer) {
  require_open();
  authorizer_ = std::move(authorizer);
  sqlite3_set_authorizer(db_, authorizer_ ? &LocalConnection::authorizer_trampoline : nullptr,
                         this);
  // Cached statements were compiled without (or with another) authorizer.
  clear_cache();
}

int LocalConnection::authorizer_trampoline(void* self, int action, const char* a1, const char* a2,
                                           const char* db, const char* trigger) noexcept {
  auto* conn = static_cast<LocalConnection*>(self);
  if (!conn->authorizer_) return SQLITE_OK;
  try {
    return conn->authorizer_(action, a1, a2, db, trigger);
  } catch (...) {
    return SQLITE_DENY;
  }
}

void LocalConnection::set_foreign_keys_enforced(bool enforced) {
  require_open();
  int now = -1;
  const int rc = sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_FKEY, enforced ? 1 : 0, &now);
  if (rc != SQLITE_OK || now != (enforced ? 1 : 0)) {
    throw Error(rc == SQLITE_OK ? SQLITE_ERROR : rc, "Failed to switch foreign key enforcement");
  }
}

void LocalConnection::enable_load_extension(bool enabled) {
  require_open();
  const int rc = sqlite3_enable_load_extension(db_, enabled ? 1 : 0);
  if (rc != SQLITE_OK) {
    throw Error(rc, std::string("Failed to ") + (enabled ? "enable" : "disable") +
                        " extension loading: " + sqlite3_errmsg(db_));
  }
}

void LocalConnection::load_extension(const std::string& path,
                                     const std::optional<std::string>& entry) {
  require_open();
  char* err = nullptr;
  const int rc = sqlite3_load_extension(db_, path.c_str(), entry ? entry->c_str() : nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(rc, "Failed to load extension: " + message);
  }
}

void LocalConnection::throw_error(int rc, std::string_view context, sqlite3_stmt* failed) {
  std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  int code = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
  if ((code & 0xff) != (rc & 0xff)) code = rc;  // a misuse code that never reached the handle
  std::optional<Constraint> constraint;
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    if (std::optional<std::string> index = unique_index_of(message)) {
      message += " (index: " + *index + ")";
      constraint = Constraint{
          code == SQLITE_CONSTRAINT_UNIQUE ? ConstraintKind::Unique : ConstraintKind::PrimaryKey,
          std::move(*index)};
    }
  }
  // SQLite reports a RESTRICT action with the trigger code: it is a foreign key failure.
  if (code == SQLITE_CONSTRAINT_TRIGGER && message == "FOREIGN KEY constraint failed") {
    code = SQLITE_CONSTRAINT_FOREIGNKEY;
  }
  if (code == SQLITE_CONSTRAINT_FOREIGNKEY && failed != nullptr) {
    const std::optional<BrokenForeignKey> broken =
        find_broken_foreign_key(db_, failed, [this](std::vector<ChangedRow>* rows) {
          change_sink_ = rows;
          const bool hooked = rows != nullptr || static_cast<bool>(update_hook_);
          sqlite3_update_hook(db_, hooked ? &LocalConnection::update_hook_trampoline : nullptr,
                              this);
        });
    if (broken) throw foreign_key_error(Error(code, std::move(message)), *broken);
  }
  if (!context.empty() && code == SQLITE_RANGE) {
    message = std::string(context) + ": " + message;
  }
  if (!constraint) constraint = constraint_from_message(code, message);
  throw Error(code, std::move(message), {}, std::move(constraint));
}

// "UNIQUE constraint failed: users.email" names columns, not the index: the unique index made
// by CREATE INDEX over exactly those columns names it, so that Ecto's unique_constraint/3 can
// match custom index names.
std::optional<std::string> LocalConnection::unique_index_of(std::string_view message) {
  static constexpr std::string_view kPrefix = "UNIQUE constraint failed: ";
  if (message.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (message.find("(index: ") != std::string_view::npos) return std::nullopt;
  std::string_view rest = message.substr(kPrefix.size());
  std::string table;
  std::vector<std::string> columns;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(", ");
    std::string_view item = rest.substr(0, comma);
    const std::size_t dot = item.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string item_table(item.substr(0, dot));
    if (table.empty()) table = item_table;
    if (item_table != table) return std::nullopt;
    columns.emplace_back(item.substr(dot + 1));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 2);
  }
  if (columns.empty()) return std::nullopt;
  try {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "SELECT il.name, ii.name FROM pragma_index_list(?1) AS il "
                           "JOIN pragma_index_info(il.name) AS ii "
                           "WHERE il.\"unique\" = 1 AND il.origin = 'c' ORDER BY il.seq, ii.seqno",
                           -1, &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return std::nullopt;
    }
    Finaliser stmt(raw);
    sqlite3_bind_text(raw, 1, table.c_str(), -1, SQLITE_TRANSIENT);
    std::string current;
    std::vector<std::string> current_columns;
    std::string found;
    auto check = [&] {
      if (!current.empty() && found.empty() && current_columns == columns) found = current;
    };
    while (sqlite3_step(raw) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
      const auto* col = reinterpret_cast<const char*>(sqlite3_column_text(raw, 1));
      if (name == nullptr) continue;
      if (current != name) {
        check();
        current = name;
        current_columns.clear();
      }
      current_columns.emplace_back(col != nullptr ? col : "");
    }
    check();
    if (found.empty()) return std::nullopt;
    return found;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace ecto_libsql::local
