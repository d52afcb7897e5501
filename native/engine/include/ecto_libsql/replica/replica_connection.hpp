// An embedded replica: a local SQLite file that serves reads and is kept in sync with a server
// over one of three protocols (libSQL's HTTP sync, libSQL's gRPC replication log, the Turso
// sync protocol; docs/replica.md). Writes go to the server through a remote connection and are
// pulled back (read_your_writes), or, with offline writes, go to the local file and are pushed
// by sync(). A transaction reads the local file until its first write and runs on the server
// from then on (from BEGIN when it is IMMEDIATE or EXCLUSIVE). With an encryption key the local
// file is encrypted as a local encrypted database is, pulled pages included.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/crypto/encryption.hpp"
#include "ecto_libsql/open.hpp"

namespace ecto_libsql::local {
class LocalConnection;
}
namespace ecto_libsql::remote {
struct Url;
}

namespace ecto_libsql::replica {

struct SyncState;
class SyncDriver;
class PageSet;
class OfflineWrites;
struct SyncTarget;
enum class ProtocolKind;

class ReplicaConnection final : public Connection,
                                public std::enable_shared_from_this<ReplicaConnection> {
 public:
  // Opens the replica, bootstrapping the file from the server when it has no sync state yet.
  static std::shared_ptr<ReplicaConnection> open(const ConnectOptions& options);
  explicit ReplicaConnection(const ConnectOptions& options);
  ~ReplicaConnection() override;

  [[nodiscard]] Mode mode() const noexcept override;
  [[nodiscard]] bool is_open() const noexcept override;
  void close() noexcept override;
  void ping() override;

  std::shared_ptr<Statement> prepare(std::string_view sql) override;
  StatementLease acquire(std::string_view sql, const ExecBudget* budget) override;
  [[nodiscard]] bool always_blocking() const noexcept override { return false; }

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
  [[nodiscard]] std::uint64_t interrupt_count() const noexcept override;
  void reset() override;

  void set_update_hook(UpdateHook hook) override;
  void set_authorizer(Authorizer authorizer) override;

  SyncStatus sync() override;
  std::int64_t replication_index() override;
  void sync_until(std::int64_t frame_no) override;
  std::int64_t flush_replicator() override;
  std::int64_t max_write_replication_index() override;
  void freeze() override;

  void batch(std::span<const BatchStep> steps, bool transactional,
             const std::function<void(std::size_t, RowReader&)>& on_result) override;

  // --- routing, used by RoutedStatement (docs/replica.md, "Transactions") --------------------
  enum class Place { Local, Server };
  // Where a statement runs if it runs now: the server inside a transaction that moved there;
  // otherwise the local file for reads, PRAGMAs and transaction statements (but BEGIN
  // IMMEDIATE / EXCLUSIVE), the server for writes. `local` is null when the statement could
  // not be prepared against the local file. Decides nothing, changes nothing.
  [[nodiscard]] Place place_of(const sql::Classification& cls, bool begins_writing,
                               const Statement* local) const noexcept;
  // The statement prepared against the local file (throws the local error).
  static void refuse_several_statements(std::string_view sql);
  std::shared_ptr<Statement> prepare_local(std::string_view sql);
  // The server connection for a statement that runs there. A local transaction open now moves
  // to the server first; a read-only transaction refuses.
  Connection& server_for_statement();
  // Called when a statement that ran on the server finished (or failed): notes a transaction
  // that ended there and pulls after a committed write (read_your_writes).
  void after_server_statement(const sql::Classification& cls, bool succeeded);
  // Called when a transaction statement ran on the local file: keeps the savepoints a move to
  // the server replays. `was_in_transaction`: the local file was in a transaction before.
  void after_local_transaction_statement(std::string_view sql, const sql::Classification& cls,
                                         bool was_in_transaction);
  [[nodiscard]] bool local_in_transaction() const noexcept;
  [[nodiscard]] bool in_server_transaction() const noexcept { return server_transaction_; }
  void note_local_statement() noexcept { last_was_remote_ = false; }

 private:
  // A statement of this connection whose place is chosen when it runs.
  std::shared_ptr<Statement> routed(std::string_view sql, std::shared_ptr<Statement> local);
  // The server connection, opened at the first use.
  Connection& remote_connection();
  // Runs the open local transaction on the server from now on: BEGIN IMMEDIATE (or the
  // SAVEPOINT that opened it) and its open savepoints.
  void move_transaction_to_server();
  // Ends the local read transaction of a transaction that ran on the server.
  void end_local_transaction() noexcept;
  // Pulls after a write committed on the server (read_your_writes).
  void after_forwarded_write();
  void require_open() const;
  void start_background_sync(std::chrono::milliseconds interval);
  void stop_background_sync() noexcept;
  void open_local(const ConnectOptions& options);

  ConnectOptions options_;  // without the encryption key
  // The encryption key, for the connections that apply pulls; wiped when the replica goes.
  std::optional<std::string> key_;
  crypto::WipeOnExit wipe_key_{key_};
  std::atomic<int> busy_timeout_ms_;  // read by background pulls
  std::shared_ptr<local::LocalConnection> local_;
  std::shared_ptr<Connection> remote_;
  std::unique_ptr<SyncDriver> driver_;
  bool frozen_ = false;
  bool last_was_remote_ = false;

  // The transaction. It reads the local file until it moves to the server (server_transaction_)
  // at its first write, or starts there (BEGIN IMMEDIATE / EXCLUSIVE); the local read
  // transaction stays open until it ends. serial_ is the serial begin() answered, valid while
  // the underlying transaction it was mapped to (serial_on_, underlying_serial_) lasts.
  bool server_transaction_ = false;
  bool read_only_transaction_ = false;
  std::uint64_t serial_ = 0;
  std::uint64_t next_serial_ = 1;
  const Connection* serial_on_ = nullptr;
  std::uint64_t underlying_serial_ = 0;
  // How the local transaction was opened and its open savepoints (the text as written), so
  // that a move to the server opens the same savepoints there.
  struct LocalSavepoints {
    bool opened_by_savepoint = false;
    std::vector<std::pair<std::string, std::string>> open;  // {name as written, folded name}
  };
  LocalSavepoints savepoints_;

  // Pulls and the sync state are serialised by sync_mutex_, not by the connection's lock, so
  // that background sync never waits for the connection's users (or they for the network).
  std::mutex sync_mutex_;
  std::unique_ptr<SyncState> state_;
  // The *_locked functions need sync_mutex_ and a SyncFileLock.
  SyncStatus pull_locked();
  // Pulls; with offline writes, pushes first.
  SyncStatus sync_locked();
  void leave_offline_mode(const SyncTarget& target, ProtocolKind kind);
  std::unique_ptr<OfflineWrites> offline_;
  // Applies pulled pages atomically and records `next` once they are durable.
  void apply_locked(const PageSet& pages, const SyncState& next);

  std::thread background_;
  std::mutex background_mutex_;
  std::condition_variable background_wake_;
  bool background_stop_ = false;
};

}  // namespace ecto_libsql::replica
