#include "ecto_libsql/replica/replica_connection.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <random>

#include "ecto_libsql/local/local_connection.hpp"
#include "replica/offline.hpp"
#include "replica/page_apply.hpp"
#include "replica/routed_statement.hpp"
#include "replica/sync_driver.hpp"
#include "replica/sync_http.hpp"
#include "replica/sync_state.hpp"

namespace ecto_libsql::replica {
namespace {

std::int64_t revision_number(const std::string& revision) {
  if (revision.empty()) return 0;
  try {
    return std::stoll(revision);
  } catch (const std::exception&) {
    throw Error(kCodeProtocol, "sync server revision is not a number: " + revision);
  }
}

std::string new_client_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> dist;
  char buf[40];
  std::snprintf(buf, sizeof buf, "ecto_libsql-%016llx", static_cast<unsigned long long>(dist(rd)));
  return buf;
}

// The replica file stays in rollback-journal mode: pulls rely on SQLite's hot-journal recovery.
void refuse_journal_mode_change(std::string_view sql) {
  std::string lower(sql);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("journal_mode");
  if (at != std::string::npos && lower.find_first_of("=(", at) != std::string::npos) {
    throw Error(kCodeMisuse,
                "journal_mode cannot be changed on an embedded replica: it keeps its "
                "rollback journal so that pulls apply atomically");
  }
}

bool has_content(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

// A failed first connect leaves nothing behind, its lock file included.
void forget_lock_file(const std::string& database) noexcept {
  ::unlink((database + "-sync.lock").c_str());
}

}  // namespace

std::shared_ptr<ReplicaConnection> ReplicaConnection::open(const ConnectOptions& options) {
  auto conn = std::make_shared<ReplicaConnection>(options);
  if (options.sync_interval && options.sync_interval->count() > 0) {
    conn->start_background_sync(*options.sync_interval);
  }
  return conn;
}

ReplicaConnection::ReplicaConnection(const ConnectOptions& options)
    : options_(options),
      busy_timeout_ms_(options.busy_timeout_ms),
      state_(std::make_unique<SyncState>()) {
  if (options_.encryption_key) {
    key_ = options_.encryption_key;
    { const crypto::WipeOnExit wipe(options_.encryption_key); }
    options_.encryption_key.reset();
    crypto::check_key(*key_, crypto::KeyPolicy::Connect);
  }
  if (options.database.empty() || options.database == ":memory:" ||
      options.database.rfind("file:", 0) == 0) {
    throw Error(kCodeMisuse, "Failed to connect: an embedded replica needs a database file path");
  }
  const SyncTarget target{
      parse_sync_url(options.uri),
      SyncClientOptions{options.auth_token, options.request_timeout, options.tls_ca_file,
                        options.remote_encryption_key.value_or(std::string())}};
  const std::optional<ProtocolKind> forced = parse_protocol(options.sync_protocol);
  // Connections of a pool (and other processes) open, bootstrap and sync one at a time.
  const SyncFileLock file_lock(options.database);
  auto saved = load_sync_state(options.database);
  const bool file_has_content = has_content(options.database);
  if (!saved && file_has_content) {
    throw Error(kCodeMisuse, "Failed to connect: " + options.database +
                                 " exists but has no replica sync state (" +
                                 sync_state_path(options.database) +
                                 "); open it in local mode or remove it");
  }
  ProtocolKind kind = ProtocolKind::Turso;
  const bool bootstrap = !(saved && file_has_content);
  if (!bootstrap) {
    kind = parse_protocol(saved->protocol).value_or(ProtocolKind::Turso);
    if (forced && *forced != kind) {
      throw Error(kCodeMisuse,
                  "Failed to connect: " + options.database + " was bootstrapped with the " +
                      std::string(protocol_title(kind)) +
                      " (sync_protocol: :" + std::string(protocol_name(kind)) +
                      ") and cannot sync with the " + std::string(protocol_title(*forced)) +
                      "; remove the replica's files (" + options.database + " and " +
                      sync_state_path(options.database) + ") to bootstrap it again");
    }
    *state_ = *saved;
  } else {
    // No probe when the protocol is forced; otherwise the server is asked, as libsql does.
    try {
      kind = forced ? *forced : probe_protocol(target);
    } catch (...) {
      if (!saved) forget_lock_file(options.database);
      throw;
    }
    state_->protocol = std::string(protocol_name(kind));
    state_->client_id = saved ? saved->client_id : new_client_id();
  }
  if (options.offline && kind == ProtocolKind::LibsqlGrpc) {
    throw Error(kCodeMisuse,
                "Failed to connect: offline writes need libSQL's HTTP sync or the Turso sync "
                "protocol, and " +
                    options.uri +
                    " serves the libSQL gRPC replication log, which cannot take pushed writes");
  }
  driver_ = make_driver(kind, target);
  if (bootstrap) {
    try {
      pull_locked();
    } catch (...) {
      if (!saved) forget_lock_file(options.database);
      throw;
    }
  }
  // Opened first: a wrong key (or a missing one) is reported as in local mode.
  open_local(options);
  if (options.offline) {
    offline_ = std::make_unique<OfflineWrites>(
        options.database, key_ ? std::optional<std::string_view>(*key_) : std::nullopt,
        busy_timeout_ms_, target, kind);
    offline_->recover(*state_);  // creates the base copy of a new offline replica
  } else if (state_->offline) {
    leave_offline_mode(target, kind);
  }
  if (!bootstrap && options.sync_on_connect) {
    try {
      sync_locked();
    } catch (const Error&) {
      // The server is down: the replica still serves reads; sync() reports the error.
    }
  }
}

// A replica written offline is opened without `offline: true`: allowed when nothing waits to be
// pushed (its base copy is removed), refused otherwise.
void ReplicaConnection::leave_offline_mode(const SyncTarget& target, ProtocolKind kind) {
  OfflineWrites writes(options_.database,
                       key_ ? std::optional<std::string_view>(*key_) : std::nullopt,
                       busy_timeout_ms_, target, kind);
  writes.recover(*state_);
  if (writes.local_state(*state_) != OfflineWrites::Local::Clean) {
    throw Error(kCodeMisuse, "Failed to connect: " + options_.database +
                                 " holds offline writes that were not pushed yet; connect with "
                                 "offline: true and sync to push them");
  }
  remove_base(options_.database);
  state_->offline = false;
  save_sync_state(options_.database, *state_);
}

void ReplicaConnection::open_local(const ConnectOptions& options) {
  ConnectOptions local_options = options;
  const crypto::WipeOnExit wipe(local_options.encryption_key);
  local_options.mode = Mode::Local;
  if (local_options.encryption_key) {
    local_ = crypto::open_encrypted(local_options);
  } else {
    crypto::refuse_encrypted_without_key(local_options.database);
    local_ = std::make_shared<local::LocalConnection>(local_options);
  }
  // Only pulls change the file, unless the application writes it (offline writes).
  if (!options.offline) local_->exec("PRAGMA query_only = 1");
}

ReplicaConnection::~ReplicaConnection() {
  close();
}

Mode ReplicaConnection::mode() const noexcept {
  return frozen_ ? Mode::Local : Mode::Replica;
}
bool ReplicaConnection::is_open() const noexcept {
  return local_ && local_->is_open();
}

void ReplicaConnection::close() noexcept {
  stop_background_sync();
  if (remote_) remote_->close();
  if (local_) local_->close();
}

void ReplicaConnection::require_open() const {
  if (!is_open()) throw Error(kCodeMisuse, "Connection is closed");
}

void ReplicaConnection::ping() {
  local_->ping();
}

// --- routing (docs/replica.md, "Transactions") -----------------------------------------------

bool ReplicaConnection::local_in_transaction() const noexcept {
  try {
    return local_ && local_->is_open() && !local_->autocommit();
  } catch (const Error&) {
    return false;
  }
}

ReplicaConnection::Place ReplicaConnection::place_of(const sql::Classification& cls,
                                                     bool begins_writing,
                                                     const Statement* local) const noexcept {
  if (frozen_ || offline_) return Place::Local;
  if (server_transaction_) return Place::Server;
  if (cls.is_transaction) {
    return begins_writing && !local_in_transaction() ? Place::Server : Place::Local;
  }
  if (cls.command == sql::Command::Pragma) return Place::Local;
  if (local == nullptr) return Place::Server;
  return local->readonly() ? Place::Local : Place::Server;
}

std::shared_ptr<Statement> ReplicaConnection::prepare_local(std::string_view sql) {
  require_open();
  auto stmt = local_->prepare(sql);
  if (stmt->classification().command == sql::Command::Pragma && !frozen_) {
    refuse_journal_mode_change(sql);
  }
  return stmt;
}

std::shared_ptr<Statement> ReplicaConnection::routed(std::string_view sql,
                                                     std::shared_ptr<Statement> local) {
  std::shared_ptr<Statement> server;
  if (!local) server = remote_connection().prepare(sql);
  return std::make_shared<RoutedStatement>(weak_from_this(), std::string(sql), std::move(local),
                                           std::move(server));
}

std::shared_ptr<Statement> ReplicaConnection::prepare(std::string_view sql) {
  require_open();
  if (frozen_ || offline_) return prepare_local(sql);
  // Inside a transaction that runs on the server the local file is never asked: it does not
  // have what the transaction created.
  if (server_transaction_) return routed(sql, nullptr);
  std::shared_ptr<Statement> local;
  try {
    local = prepare_local(sql);
  } catch (const Error& e) {
    if (!may_run_on_server(sql::classify(sql), e)) throw;
  }
  return routed(sql, std::move(local));
}

// SQL holding several statements runs as a script (the caller's SeveralStatements path), on
// the server as on the local file: a statement prepared for the server would run the first.
void ReplicaConnection::refuse_several_statements(std::string_view sql) {
  if (sql::split_statements(sql).size() > 1) throw SeveralStatements();
}

StatementLease ReplicaConnection::acquire(std::string_view sql, const ExecBudget* budget) {
  require_open();
  if (!frozen_ && !offline_ && server_transaction_) {
    refuse_several_statements(sql);
    return StatementLease(std::make_unique<RoutedStatement>(weak_from_this(), std::string(sql),
                                                            nullptr, remote_->prepare(sql)),
                          nullptr);
  }
  StatementLease lease;
  try {
    lease = local_->acquire(sql, budget);
  } catch (const Error& e) {
    if (frozen_ || offline_ || !may_run_on_server(sql::classify(sql), e)) throw;
    // Opening the server connection may wait on the network: not where blocking is forbidden.
    if (budget != nullptr && budget->nonblocking) return StatementLease{};
    refuse_several_statements(sql);
    return StatementLease(
        std::make_unique<RoutedStatement>(weak_from_this(), std::string(sql), nullptr,
                                          remote_connection().prepare(sql)),
        nullptr);
  }
  if (!lease) return lease;
  const sql::Classification& cls = lease->classification();
  if (cls.command == sql::Command::Pragma && !frozen_) refuse_journal_mode_change(sql);
  if (frozen_ || offline_ ||
      (!cls.is_transaction && place_of(cls, false, &*lease) == Place::Local)) {
    last_was_remote_ = false;
    return lease;  // the common case: a read served by the local file's statement cache
  }
  return StatementLease(std::make_unique<RoutedStatement>(weak_from_this(), std::string(sql),
                                                          local_->prepare(sql), nullptr),
                        nullptr);
}

Connection& ReplicaConnection::remote_connection() {
  require_open();
  if (!remote_) {
    ConnectOptions remote_options = options_;
    remote_options.mode = Mode::Remote;
    try {
      remote_ = open_connection(remote_options);
    } catch (const Error& e) {
      throw Error(e.code(), "cannot forward the write to the primary: " + e.message());
    }
  }
  return *remote_;
}

Connection& ReplicaConnection::server_for_statement() {
  require_open();
  if (read_only_transaction_ && local_in_transaction()) {
    throw Error(kCodeReadOnly,
                "attempt to write a readonly database (the transaction is read-only)");
  }
  Connection& remote = remote_connection();
  if (!server_transaction_ && local_in_transaction()) move_transaction_to_server();
  return remote;
}

void ReplicaConnection::move_transaction_to_server() {
  if (!local_in_transaction()) savepoints_ = {};
  try {
    if (!savepoints_.opened_by_savepoint) remote_->begin(TransactionBehaviour::Immediate, nullptr);
    for (const auto& savepoint : savepoints_.open)
      remote_->run("SAVEPOINT " + savepoint.first);
  } catch (const Error& e) {
    try {
      remote_->reset();  // rolls back what was begun, or abandons it
    } catch (const Error&) {
    }
    throw Error(e.code(), "cannot move the transaction to the primary: " + e.message(),
                e.remote_code());
  }
  server_transaction_ = true;
  if (serial_on_ == local_.get() && underlying_serial_ != 0 &&
      local_->transaction_serial() == underlying_serial_) {
    serial_on_ = remote_.get();
    underlying_serial_ = remote_->transaction_serial();
  }
}

void ReplicaConnection::end_local_transaction() noexcept {
  try {
    if (local_in_transaction()) local_->rollback();  // it only read
  } catch (const Error&) {
  }
  savepoints_ = {};
  read_only_transaction_ = false;
}

void ReplicaConnection::after_server_statement(const sql::Classification& cls, bool succeeded) {
  last_was_remote_ = true;
  if (!remote_) return;
  if (server_transaction_) {
    // COMMIT, ROLLBACK or RELEASE sent as SQL, or a transaction the server or the connection
    // lost: it ended there.
    if (remote_->autocommit()) {
      server_transaction_ = false;
      end_local_transaction();
      if (succeeded &&
          (cls.command == sql::Command::Commit || cls.command == sql::Command::Release)) {
        after_forwarded_write();
      }
    }
    return;
  }
  if (!remote_->autocommit()) {
    server_transaction_ = true;  // BEGIN IMMEDIATE / EXCLUSIVE sent as SQL
    return;
  }
  if (succeeded) after_forwarded_write();
}

void ReplicaConnection::after_local_transaction_statement(std::string_view sql,
                                                          const sql::Classification& cls,
                                                          bool was_in_transaction) {
  if (!was_in_transaction) savepoints_ = {};
  auto& open = savepoints_.open;
  auto last_named = [&](const std::string& folded) {
    for (auto it = open.rbegin(); it != open.rend(); ++it) {
      if (it->second == folded) return std::prev(it.base());
    }
    return open.end();
  };
  switch (cls.command) {
    case sql::Command::Savepoint:
      if (!was_in_transaction) savepoints_.opened_by_savepoint = true;
      open.push_back(sql::savepoint_name(sql));
      break;
    case sql::Command::Release: {
      const auto found = last_named(sql::savepoint_name(sql).second);
      if (found != open.end()) open.erase(found, open.end());
      break;
    }
    case sql::Command::Rollback:
      if (sql::rolls_back_to_savepoint(sql)) {
        const auto found = last_named(sql::savepoint_name(sql).second);
        if (found != open.end()) open.erase(std::next(found), open.end());
      } else {
        savepoints_ = {};
      }
      break;
    default:  // BEGIN, COMMIT
      savepoints_ = {};
      break;
  }
  if (!local_in_transaction()) end_local_transaction();
}

void ReplicaConnection::after_forwarded_write() {
  last_was_remote_ = true;
  if (options_.read_your_writes) {
    // The write is on the server already: a failed pull must not report it as failed (a
    // retry would write twice). The next sync catches up.
    try {
      const std::lock_guard lock(sync_mutex_);
      const SyncFileLock file_lock(options_.database);
      sync_locked();
      state_->max_write_revision = state_->revision;
      save_sync_state(options_.database, *state_);
    } catch (const Error&) {
    }
  }
}

void ReplicaConnection::batch(std::span<const BatchStep> steps, bool transactional,
                              const std::function<void(std::size_t, RowReader&)>& on_result) {
  require_open();
  if (frozen_ || offline_) {
    Connection::batch(steps, transactional, on_result);  // the local file, through acquire()
    return;
  }
  bool writes = false;
  for (const BatchStep& step : steps) {
    const sql::Classification cls = sql::classify(step.sql);
    // Transaction statements: one by one, each where it belongs.
    if (cls.is_transaction) return Connection::batch(steps, transactional, on_result);
    if (cls.command != sql::Command::Pragma &&
        !(cls.command == sql::Command::Select && !cls.has_returning)) {
      writes = true;
    }
  }
  if (!writes && !server_transaction_) {
    Connection::batch(steps, transactional, on_result);  // reads of the local file
    return;
  }
  // Writes, or a transaction on the server: the whole batch is one request to the server (the
  // statements may need what earlier ones created), then the replica pulls.
  Connection& server = server_for_statement();
  static const sql::Classification kBatch{};
  try {
    server.batch(steps, transactional, on_result);
  } catch (...) {
    // A batch that is not all-or-nothing may have applied some of its statements.
    after_server_statement(kBatch, !transactional);
    throw;
  }
  after_server_statement(kBatch, true);
}

// --- transactions --------------------------------------------------------------------------

std::uint64_t ReplicaConnection::begin(TransactionBehaviour behaviour, const ExecBudget* budget) {
  require_open();
  // Offline writes and frozen replicas: the transaction is the local file's.
  if (frozen_ || offline_) return local_->begin(behaviour, budget);
  if (!autocommit()) throw Error(kCodeError, "cannot start a transaction within a transaction");
  std::uint64_t underlying = 0;
  const Connection* on = nullptr;
  if (behaviour == TransactionBehaviour::Immediate ||
      behaviour == TransactionBehaviour::Exclusive) {
    // A transaction that will write runs on the server from BEGIN on.
    if (budget != nullptr && budget->nonblocking) return 0;
    Connection& remote = remote_connection();
    underlying = remote.begin(behaviour, nullptr);
    server_transaction_ = true;
    on = remote_.get();
  } else {
    // Reads come from a local snapshot until the first write moves the transaction.
    underlying = local_->begin(TransactionBehaviour::Deferred, budget);
    if (underlying == 0) return 0;
    read_only_transaction_ = behaviour == TransactionBehaviour::ReadOnly;
    on = local_.get();
  }
  savepoints_ = {};
  serial_on_ = on;
  underlying_serial_ = underlying;
  serial_ = next_serial_++;
  return serial_;
}

void ReplicaConnection::commit() {
  require_open();
  if (frozen_ || offline_) {
    local_->commit();
    return;
  }
  if (server_transaction_) {
    try {
      remote_->commit();
    } catch (...) {
      // Still open on the server (a deferred constraint, say): the caller rolls back.
      if (remote_->autocommit()) {
        server_transaction_ = false;
        end_local_transaction();
      }
      throw;
    }
    server_transaction_ = false;
    end_local_transaction();
    after_forwarded_write();
    return;
  }
  local_->commit();  // a transaction that only read
  end_local_transaction();
}

void ReplicaConnection::rollback() {
  require_open();
  if (frozen_ || offline_) {
    local_->rollback();
    return;
  }
  if (server_transaction_) {
    server_transaction_ = false;
    try {
      remote_->rollback();
    } catch (const Error&) {
      // Not rolled back on the server: the stream is abandoned, so it never commits.
      try {
        remote_->reset();
      } catch (const Error&) {
      }
    }
  }
  local_->rollback();
  end_local_transaction();
}

bool ReplicaConnection::autocommit() const {
  if (frozen_ || offline_) return local_->autocommit();
  return !server_transaction_ && local_->autocommit();
}

std::uint64_t ReplicaConnection::transaction_serial() const noexcept {
  if (!local_) return 0;
  if (frozen_ || offline_) return local_->transaction_serial();
  if (serial_on_ == nullptr || underlying_serial_ == 0) return 0;
  return serial_on_->transaction_serial() == underlying_serial_ ? serial_ : 0;
}

std::int64_t ReplicaConnection::last_insert_rowid() const {
  return last_was_remote_ && remote_ ? remote_->last_insert_rowid() : local_->last_insert_rowid();
}
std::int64_t ReplicaConnection::changes() const {
  return last_was_remote_ && remote_ ? remote_->changes() : local_->changes();
}
std::int64_t ReplicaConnection::total_changes() const {
  return local_->total_changes() + (remote_ ? remote_->total_changes() : 0);
}

void ReplicaConnection::set_busy_timeout(int milliseconds) {
  busy_timeout_ms_ = milliseconds;
  local_->set_busy_timeout(milliseconds);
}

std::uint64_t ReplicaConnection::interrupt_count() const noexcept {
  return local_ ? local_->interrupt_count() : 0;
}

void ReplicaConnection::interrupt() noexcept {
  if (local_) local_->interrupt();
  if (remote_) remote_->interrupt();
}

void ReplicaConnection::reset() {
  if (server_transaction_) rollback();
  local_->reset();
  end_local_transaction();
  serial_on_ = nullptr;
}

void ReplicaConnection::set_update_hook(UpdateHook hook) {
  local_->set_update_hook(std::move(hook));
}
void ReplicaConnection::set_authorizer(Authorizer authorizer) {
  local_->set_authorizer(std::move(authorizer));
}

void ReplicaConnection::apply_locked(const PageSet& pages, const SyncState& next) {
  // Recorded only once the pages are durable: a crash in between pulls them again.
  auto save = [&] { save_sync_state(options_.database, next, false); };
  if (pages.empty() && has_content(options_.database)) {
    save();
  } else if (pages.empty() && pages.db_size() == 0) {
    // The server's database has no page yet (a new database): the replica starts as an empty
    // database of one page, which the first pull with pages overwrites in place (an empty file
    // would be bootstrapped again, and replaced under the connections that have it open).
    ConnectOptions empty = options_;
    empty.mode = Mode::Local;
    empty.encryption_key = key_;
    const crypto::WipeOnExit wipe(empty.encryption_key);
    auto conn = empty.encryption_key ? crypto::open_encrypted(empty)
                                     : std::make_shared<local::LocalConnection>(empty);
    conn->exec("PRAGMA page_size = 4096");
    conn->exec("PRAGMA user_version = 0");
    conn->close();
    save();
  } else {
    apply_pull(options_.database, pages, busy_timeout_ms_.load(), save,
               key_ ? std::optional<std::string_view>(*key_) : std::nullopt);
  }
  *state_ = next;
}

SyncStatus ReplicaConnection::pull_locked() {
  const bool bootstrap = !has_content(options_.database);
  const std::int64_t frames = driver_->pull(
      *state_, bootstrap, [this, bootstrap](const PageSet& pages, const SyncState& next) {
        if (offline_ && !bootstrap) {
          offline_->apply(pages, next, *state_);
        } else {
          apply_locked(pages, next);
        }
      });
  return SyncStatus{revision_number(state_->revision), frames};
}

SyncStatus ReplicaConnection::sync_locked() {
  // Another connection to the file may have synced since this one last did.
  if (auto saved = load_sync_state(options_.database)) *state_ = std::move(*saved);
  if (!offline_) return pull_locked();
  // Offline writes: push what the application wrote, then pull when nothing waits any more.
  offline_->recover(*state_);
  std::int64_t frames = 0;
  if (offline_->local_state(*state_) == OfflineWrites::Local::Changed) {
    frames += offline_->push(*state_);
  }
  if (offline_->local_state(*state_) != OfflineWrites::Local::Changed) {
    frames += pull_locked().frames_synced;
  }
  return SyncStatus{revision_number(state_->revision), frames};
}

SyncStatus ReplicaConnection::sync() {
  require_open();
  if (frozen_) return SyncStatus{};
  const std::lock_guard lock(sync_mutex_);
  const SyncFileLock file_lock(options_.database);
  return sync_locked();
}

std::int64_t ReplicaConnection::replication_index() {
  require_open();
  const std::lock_guard lock(sync_mutex_);
  return revision_number(state_->revision);
}

void ReplicaConnection::sync_until(std::int64_t frame_no) {
  require_open();
  const auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  while (true) {
    {
      const std::lock_guard lock(sync_mutex_);
      if (revision_number(state_->revision) >= frame_no) return;
      const SyncFileLock file_lock(options_.database);
      sync_locked();
      if (revision_number(state_->revision) >= frame_no) return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(kCodeBusy, "sync_until timed out after " +
                                 std::to_string(options_.request_timeout.count() / 1000) +
                                 " seconds");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::int64_t ReplicaConnection::flush_replicator() {
  // Nothing is buffered between the server and the file: the position is the synced revision.
  return replication_index();
}

std::int64_t ReplicaConnection::max_write_replication_index() {
  require_open();
  const std::lock_guard lock(sync_mutex_);
  return revision_number(state_->max_write_revision);
}

void ReplicaConnection::freeze() {
  require_open();
  if (server_transaction_) throw Error(kCodeMisuse, "cannot freeze inside a transaction");
  stop_background_sync();
  const std::lock_guard lock(sync_mutex_);
  const SyncFileLock file_lock(options_.database);
  remove_sync_state(options_.database);
  // The journal file kept for the next pull holds earlier page images.
  ::unlink((options_.database + std::string(kSpareJournalSuffix)).c_str());
  if (offline_) {
    // What was written offline and not pushed stays in the file, now a plain local database.
    remove_base(options_.database);
    ::unlink(push_intent_path(options_.database).c_str());
    ::unlink(pull_intent_path(options_.database).c_str());
    offline_.reset();
  }
  local_->exec("PRAGMA query_only = 0");
  if (remote_) remote_->close();
  remote_.reset();
  serial_on_ = nullptr;
  frozen_ = true;
}

void ReplicaConnection::start_background_sync(std::chrono::milliseconds interval) {
  background_ = std::thread([this, interval] {
    auto wait = interval;
    std::unique_lock lock(background_mutex_);
    while (!background_wake_.wait_for(lock, wait, [this] { return background_stop_; })) {
      lock.unlock();
      bool ok = true;
      try {
        const std::lock_guard sync_lock(sync_mutex_);
        const SyncFileLock file_lock(options_.database);
        sync_locked();
      } catch (...) {
        ok = false;
      }
      lock.lock();
      // Back off on failure (server down) up to a minute; back to the interval on success.
      wait = ok ? interval
                : std::min<std::chrono::milliseconds>(std::max(wait * 2, interval),
                                                      std::chrono::minutes(1));
    }
  });
}

void ReplicaConnection::stop_background_sync() noexcept {
  {
    const std::lock_guard lock(background_mutex_);
    background_stop_ = true;
  }
  background_wake_.notify_all();
  if (background_.joinable() && background_.get_id() != std::this_thread::get_id()) {
    background_.join();
  }
}

}  // namespace ecto_libsql::replica
