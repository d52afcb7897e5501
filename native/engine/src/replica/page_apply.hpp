// Applies pulled pages to the replica's database file atomically.
//
// Under SQLite's EXCLUSIVE lock (taken with BEGIN EXCLUSIVE on a private connection, so local
// readers wait on their busy handler and never see a half-applied pull), the original content
// of every page about to change is written to a hot rollback journal `<db>-journal` in SQLite's
// own format and fsynced; then the new pages are written through the connection's own file
// handle, the file is cut or extended to the server's size and fsynced; deleting the journal is
// the commit point. A crash at any step leaves a journal that SQLite rolls back on the next
// open (old state) or no journal (new state).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "replica/page_set.hpp"

struct sqlite3;
struct sqlite3_file;

namespace ecto_libsql::replica {

// The journal of the last pull is kept for the next one as `<db>` + kSpareJournalSuffix.
inline constexpr std::string_view kSpareJournalSuffix = "-journal-spare";

enum class ApplyStep {
  Locked,          // exclusive lock held, nothing written
  JournalWritten,  // journal written, not yet fsynced
  JournalSynced,
  HalfWritten,     // about half of the new pages written
  PagesWritten,    // all pages written and the size set, not yet fsynced
  DatabaseSynced,  // new pages durable, journal still present
  Committed,       // journal deleted
};

// Test hook called after each step; it may throw (the apply then undoes itself) or end the
// process (the next open rolls back). Pass an empty function to remove it. Not thread-safe.
void set_apply_fault_hook(std::function<void(ApplyStep)> hook);

// Applies `reply` (finished) to `database` (created if missing). Page 1 is rewritten for local use:
// rollback-journal mode (header bytes 18/19 = 1), the file change counter bumped so that other
// connections drop their caches, the in-header size set to db_size. Throws Error on failure,
// leaving the old content. `save_state` records the new revision: it is called once the new
// content is durable and cannot be rolled back any more (for a bootstrap, just before the
// file is renamed into place, so that a file never exists without its sync state). With `key`
// the file is encrypted (docs/encryption.md): pages, journal records and page tags are written
// through the encryption VFS, so no plaintext page reaches the disk.
void apply_pull(const std::string& database, const PageSet& reply, int busy_timeout_ms,
                const std::function<void()>& save_state,
                std::optional<std::string_view> key = std::nullopt);

struct DbCloser {
  void operator()(sqlite3* db) const noexcept;
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// A private connection to a replica file: through the encryption VFS when there is a key, so
// that every page written to the file or its journal is encrypted as SQLite's would be (and
// temporary data kept in memory).
DbHandle open_private(const std::string& database, std::optional<std::string_view> key);
// Attaches `path` as `name` on `db`, through the encryption with `key`.
void attach_private(sqlite3* db, const std::string& path, const std::string& name,
                    std::optional<std::string_view> key);

// A private connection to a replica file (through the encryption VFS when there is a key)
// holding SQLite's SHARED lock (a stable view whose pages can be read) or EXCLUSIVE lock (local
// readers and writers wait; pages can be applied). Released on destruction.
class ReplicaFile {
 public:
  // Throws Error (SQLITE_BUSY after `busy_timeout_ms`) when the lock cannot be had. The key
  // must outlive the object.
  ReplicaFile(const std::string& path, std::optional<std::string_view> key, int busy_timeout_ms,
              bool exclusive);
  ~ReplicaFile();
  ReplicaFile(const ReplicaFile&) = delete;
  ReplicaFile& operator=(const ReplicaFile&) = delete;

  [[nodiscard]] std::uint64_t page_count() const;
  // Page `pgno` (1-based) as SQLite reads it (decrypted); zeros past the end.
  [[nodiscard]] std::string read(std::uint64_t pgno) const;
  // The file change counter (header bytes 24..27): every write transaction increments it.
  [[nodiscard]] std::uint32_t change_counter() const;
  // Applies `pages` (finished) atomically, as apply_pull does; page 1 is localised and the
  // change counter incremented by one. Exclusive lock only. On failure the old content is
  // restored, the lock released, and the error thrown.
  void apply(const PageSet& pages);
  // The connection (e.g. to ATTACH another file and compare).
  [[nodiscard]] sqlite3* handle() const;
  void release() noexcept;

 private:
  [[nodiscard]] sqlite3_file* file() const;
  struct Impl;
  std::string path_;
  std::optional<std::string_view> key_;
  std::unique_ptr<Impl> impl_;
  bool exclusive_ = false;
};

}  // namespace ecto_libsql::replica
