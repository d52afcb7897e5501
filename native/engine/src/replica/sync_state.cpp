#include "replica/sync_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::replica {
namespace {

constexpr std::string_view kMagic = "ecto_libsql-sync 1";

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw Error(kCodeIoErr, what + " " + path + ": " + std::strerror(errno));
}

std::uint64_t number(const std::string& value, const std::string& path) {
  try {
    std::size_t used = 0;
    const auto v = std::stoull(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(kCodeNotADb, "replica sync state " + path + " is not recognised");
}

}  // namespace

void fsync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_file_atomically(const std::string& path, const std::string& bytes, bool sync_directory) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot write", tmp);
  bool ok = true;
  for (std::size_t at = 0; ok && at < bytes.size();) {
    const auto n = ::write(fd, bytes.data() + at, bytes.size() - at);
    ok = n > 0;
    if (ok) at += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    io_error("cannot write", path);
  }
  if (sync_directory) fsync_directory_of(path);
}

SyncFileLock::SyncFileLock(const std::string& database) {
  const std::string path = database + "-sync.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) io_error("cannot open", path);
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd_);
      io_error("cannot lock", path);
    }
  }
}

SyncFileLock::~SyncFileLock() {
  ::close(fd_);  // releases the lock
}

std::string sync_state_path(const std::string& database) {
  return database + "-sync";
}

std::optional<SyncState> load_sync_state(const std::string& database) {
  const std::string path = sync_state_path(database);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  if (!std::getline(in, line) || line != kMagic) {
    throw Error(kCodeNotADb, "replica sync state " + path + " is not recognised");
  }
  SyncState state;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "protocol") state.protocol = value;
    if (key == "revision") state.revision = value;
    if (key == "client_id") state.client_id = value;
    if (key == "max_write_revision") state.max_write_revision = value;
    if (key == "generation") state.generation = number(value, path);
    if (key == "log_id") state.log_id = value;
    if (key == "offline") state.offline = value == "1";
    if (key == "synced_counter") state.synced_counter = number(value, path);
    if (key == "pushed_counter") state.pushed_counter = number(value, path);
    if (key == "push_id") state.push_id = number(value, path);
  }
  if (state.protocol.empty()) state.protocol = "turso";
  return state;
}

void save_sync_state(const std::string& database, const SyncState& state, bool sync_directory) {
  std::ostringstream text;
  text << kMagic << "\nprotocol " << state.protocol << "\nrevision " << state.revision
       << "\nclient_id " << state.client_id << "\nmax_write_revision " << state.max_write_revision
       << "\n";
  if (state.protocol == "libsql_http") text << "generation " << state.generation << "\n";
  if (!state.log_id.empty()) text << "log_id " << state.log_id << "\n";
  if (state.offline) {
    text << "offline 1\nsynced_counter " << state.synced_counter << "\npushed_counter "
         << state.pushed_counter << "\npush_id " << state.push_id << "\n";
  }
  write_file_atomically(sync_state_path(database), text.str(), sync_directory);
}

void remove_sync_state(const std::string& database) {
  const std::string path = sync_state_path(database);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) io_error("cannot remove", path);
  fsync_directory_of(path);
}

}  // namespace ecto_libsql::replica
