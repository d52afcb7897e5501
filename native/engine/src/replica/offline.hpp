// Offline writes (docs/replica.md): the application writes the replica file; sync() pushes the
// changes, then pulls.
//
// `<db>-base` is a copy of the server's content at the replica's position (encrypted like the
// replica). What the application changed is what differs between `<db>` and the base:
// * libSQL HTTP sync pushes the differing pages as WAL frames, one transaction (commit frame
//   last, with the database size), in batches of 128 with the server's baton (sync.rs); the
//   server then holds exactly the pages of `<db>`, and the same pages are applied to the base.
// * The Turso sync protocol pushes logical changes (turso_push.hpp); the server's pages then
//   differ from ours, so the next pull makes `<db>` a copy of the base again, pulled pages
//   included.
// A pull is applied only when nothing waits to be pushed (the file change counter of `<db>`
// tells), to `<db>` and then to the base, under `<db>`'s exclusive lock.
//
// Each step that must not be lost or done twice is announced in an intent file first: `<db>-push`
// (the frames or the SQL to push, and the counters of both files) and `<db>-pull` (the position
// a pull moves to). After a crash, recover() finishes or forgets the step by the change counters
// of both files, which every apply increments by exactly one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "replica/page_apply.hpp"
#include "replica/sync_driver.hpp"
#include "replica/sync_state.hpp"

namespace ecto_libsql::replica {

std::string base_path(const std::string& database);
std::string push_intent_path(const std::string& database);
std::string pull_intent_path(const std::string& database);

// A durable note of a step in progress: `key value` lines, an empty line, a binary payload.
struct Intent {
  std::map<std::string, std::string> fields;
  std::string payload;
  [[nodiscard]] std::uint64_t number(const std::string& key) const;
};
void write_intent(const std::string& path, const Intent& intent);
std::optional<Intent> read_intent(const std::string& path);

// The pages of `from` that differ from `to` (page 1 compared without its change counter), and
// `from`'s size: applied to `to`, they make it a copy of `from`.
PageSet differing_pages(const ReplicaFile& from, const ReplicaFile& to);

// Removes the base and its companion files.
void remove_base(const std::string& database);

enum class OfflineStep {
  PushPlanned,   // the push intent is durable, nothing sent
  PushSent,      // the server answered the whole push; the base and the state not updated
  PushApplied,   // HTTP sync: the base holds the pushed pages; the state not updated
  PushRecorded,  // the state records the push; the intent not removed
  PullPlanned,   // the pull intent is durable, nothing applied
  PullFile,      // the file holds the pulled pages; the base does not
  PullBase,      // both hold them; the state not updated
  PullRecorded,  // the state records the pull; the intent not removed
};

// Test hook called after each step; it may throw or end the process. Not thread-safe.
void set_offline_fault_hook(std::function<void(OfflineStep)> hook);

class OfflineWrites {
 public:
  OfflineWrites(std::string database, std::optional<std::string_view> key,
                const std::atomic<int>& busy_timeout_ms, SyncTarget target, ProtocolKind kind);

  // Finishes or forgets what a crash interrupted, and creates the base when it is missing (a
  // replica that was not offline before; only when nothing is pending). Saves `state` when it
  // changes.
  void recover(SyncState& state);

  enum class Local {
    Clean,    // `<db>` equals the base
    Pushed,   // Turso: the changes are on the server; the next pull copies the base back
    Changed,  // local changes wait to be pushed
  };
  Local local_state(const SyncState& state) const;

  // Pushes the local changes; answers the frames (HTTP sync) or row changes (Turso) pushed.
  std::int64_t push(SyncState& state);

  // The ApplyFn of pulls: `pages` go to the base and to `<db>` (or `<db>` becomes a copy of the
  // base after a Turso push). Throws when local changes arrived meanwhile (sync again).
  void apply(const PageSet& pages, const SyncState& next, SyncState& state);

 private:
  std::int64_t push_frames(SyncState& state);
  std::int64_t push_logical(SyncState& state);
  void finish_pull(const Intent& intent, SyncState& state);
  int busy() const { return busy_timeout_ms_.load(); }

  std::string database_;
  std::optional<std::string_view> key_;
  const std::atomic<int>& busy_timeout_ms_;
  SyncTarget target_;
  ProtocolKind kind_;
};

}  // namespace ecto_libsql::replica
