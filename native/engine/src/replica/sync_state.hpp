// The replica's sync state, kept next to the database in `<db>-sync`: the protocol the replica
// syncs with, its position on the server, the highest position seen after forwarded writes, a
// client id, and for offline writes the bookkeeping of the base copy. Text, one `key value` per
// line (unknown keys are ignored); replaced atomically (write aside, fsync, rename, fsync dir).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ecto_libsql::replica {

struct SyncState {
  // "turso", "libsql_http" or "libsql_grpc"; files written before protocols were recorded have
  // none and mean "turso".
  std::string protocol;
  // The position the local file holds, decimal, empty = none yet: the Turso revision, the HTTP
  // sync durable frame number (within `generation`) or the gRPC log's committed frame_no.
  std::string revision;
  std::string client_id;
  std::string max_write_revision;
  std::uint64_t generation = 0;  // libSQL HTTP sync
  std::string log_id;            // libSQL gRPC replication log
  // Offline writes (docs/replica.md): writes go to the file; `<db>-base` holds the server's
  // content at `revision`; `synced_counter` is the file change counter of `<db>` when it last
  // equalled the base (no local change since); `pushed_counter` (Turso) the counter when its
  // changes were pushed as SQL (the next pull makes it a copy of the base again); `push_id` the
  // last Turso change id pushed.
  bool offline = false;
  std::uint64_t synced_counter = 0;
  std::uint64_t pushed_counter = 0;
  std::uint64_t push_id = 0;
};

std::string sync_state_path(const std::string& database);
// nullopt when the file does not exist; throws Error on a malformed file.
std::optional<SyncState> load_sync_state(const std::string& database);
// `sync_directory`: whether the rename is made durable too. Not needed after a pull: a rename
// lost in a power failure leaves the older position, and the next pull fetches again.
void save_sync_state(const std::string& database, const SyncState& state,
                     bool sync_directory = true);
void remove_sync_state(const std::string& database);

// Serialises the sync work of every connection (and process) on one replica: an exclusive
// flock on `<db>-sync.lock`, held while alive.
class SyncFileLock {
 public:
  explicit SyncFileLock(const std::string& database);
  ~SyncFileLock();
  SyncFileLock(const SyncFileLock&) = delete;
  SyncFileLock& operator=(const SyncFileLock&) = delete;

 private:
  int fd_ = -1;
};

// Writes `bytes` to `path` atomically and durably (aside, fsync, rename, fsync the directory).
void write_file_atomically(const std::string& path, const std::string& bytes,
                           bool sync_directory = true);
void fsync_directory_of(const std::string& path);

}  // namespace ecto_libsql::replica
