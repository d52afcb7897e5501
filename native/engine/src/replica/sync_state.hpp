// The replica's sync state, kept next to the database in `<db>-sync`: the server revision the
// local file holds, the highest revision seen after forwarded writes, and a client id.
// Text, one `key value` per line; replaced atomically (write aside, fsync, rename, fsync dir).
#pragma once

#include <optional>
#include <string>

namespace ecto_libsql::replica {

struct SyncState {
  std::string revision;  // server revision of the local pages (decimal), empty = none yet
  std::string client_id;
  std::string max_write_revision;
};

std::string sync_state_path(const std::string& database);
// nullopt when the file does not exist; throws Error on a malformed file.
std::optional<SyncState> load_sync_state(const std::string& database);
void save_sync_state(const std::string& database, const SyncState& state);
void remove_sync_state(const std::string& database);

}  // namespace ecto_libsql::replica
