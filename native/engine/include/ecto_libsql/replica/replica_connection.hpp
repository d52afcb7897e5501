// An embedded replica: a local SQLite file that serves reads and is kept in sync with a server
// over one of three protocols (libSQL's HTTP sync, libSQL's gRPC replication log, the Turso
// sync protocol; docs/replica.md). Writes go to the server through a remote connection and are
// pulled back (read_your_writes), or, with offline writes, go to the local file and are pushed
// by sync(). With an encryption key the local file is encrypted as a local encrypted database
// is, pulled pages included.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

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
  void reset() override;

  void set_update_hook(UpdateHook hook) override;
  void set_authorizer(Authorizer authorizer) override;

  SyncStatus sync() override;
  std::int64_t replication_index() override;
  void sync_until(std::int64_t frame_no) override;
  std::int64_t flush_replicator() override;
  std::int64_t max_write_replication_index() override;
  void freeze() override;

  // --- used by forwarded statements ----------------------------------------------------------
  // The remote connection for a write, inside the remote transaction when one is open locally.
  Connection& remote_for_write();
  // Called when a forwarded statement finished: pulls when read_your_writes is on.
  void after_forwarded_write();
  [[nodiscard]] bool in_remote_transaction() const noexcept { return remote_transaction_; }

 private:
  std::shared_ptr<Statement> wrap(std::string_view sql, std::shared_ptr<Statement> local);
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
  bool remote_transaction_ = false;
  bool last_was_remote_ = false;

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
