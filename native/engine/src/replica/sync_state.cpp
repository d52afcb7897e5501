#include "replica/sync_state.hpp"

#include <fcntl.h>
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

void fsync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

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
    if (key == "revision") state.revision = value;
    if (key == "client_id") state.client_id = value;
    if (key == "max_write_revision") state.max_write_revision = value;
  }
  return state;
}

void save_sync_state(const std::string& database, const SyncState& state) {
  const std::string path = sync_state_path(database);
  const std::string tmp = path + ".tmp";
  std::ostringstream text;
  text << kMagic << "\nrevision " << state.revision << "\nclient_id " << state.client_id
       << "\nmax_write_revision " << state.max_write_revision << "\n";
  const std::string bytes = text.str();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot write", tmp);
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    io_error("cannot write", path);
  }
  fsync_directory_of(path);
}

void remove_sync_state(const std::string& database) {
  const std::string path = sync_state_path(database);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) io_error("cannot remove", path);
  fsync_directory_of(path);
}

}  // namespace ecto_libsql::replica
