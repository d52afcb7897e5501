// Starts a real `tursodb --sync-server` (npm package `turso`, installed into _build/peers by
// scripts/setup) on a free loopback port for the duration of a test, and runs SQL on it over
// its /v2/pipeline endpoint.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "replica/sync_http.hpp"

namespace ecto_libsql::testing {

// Path of the tursodb binary, or empty when the npm peers are not installed.
inline std::string tursodb_path() {
  if (const char* env = std::getenv("ECTO_LIBSQL_TURSODB")) return env;
  const std::filesystem::path root =
      std::filesystem::path(ECTO_LIBSQL_TESTDATA).parent_path().parent_path().parent_path();
  const auto bin = root / "_build/peers/node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb";
  return std::filesystem::exists(bin) ? bin.string() : std::string();
}

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Whether process `pid` itself listens on loopback port `port`: the listening socket's inode
// (state 0A in /proc/net/tcp) is one of its open files. A connection that succeeds proves only
// that something listens there.
inline bool listens(pid_t pid, int port) {
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, ":%04X", port);
  std::set<std::string> sockets;
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (state == "0A" && local.ends_with(suffix)) sockets.insert("socket:[" + inode + "]");
  }
  const std::filesystem::path fds = "/proc/" + std::to_string(pid) + "/fd";
  try {
    for (const auto& fd : std::filesystem::directory_iterator(fds)) {
      std::error_code ec;
      const auto target = std::filesystem::read_symlink(fd.path(), ec);
      if (!ec && sockets.contains(target.string())) return true;
    }
  } catch (const std::filesystem::filesystem_error&) {
    // the process exited meanwhile
  }
  return false;
}

// What became of a child started to listen on `port`, watched for up to 30 s.
enum class ChildStart { listening, exited, silent };

// Waits until child `pid` itself listens on `port`, or exits (then reaped), or 30 s pass.
inline ChildStart await_listening(pid_t pid, int port) {
  for (int i = 0; i < 1200; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return ChildStart::exited;
    if (listens(pid, port)) return ChildStart::listening;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return ChildStart::silent;
}

class TursoServer {
 public:
  // `port` 0: a free one (a server restarted on its predecessor's port passes that port). A
  // free port can be taken by another process before tursodb binds it; tursodb then exits at
  // start, and another free port is tried.
  TursoServer(const std::string& binary, const std::string& db_path, int port = 0)
      : db_path_(db_path) {
    for (int attempt = 1;; ++attempt) {
      port_ = port != 0 ? port : free_port();
      if (start(binary)) return;
      if (port != 0 || attempt == 3) {
        throw std::runtime_error("tursodb exited at start (port " + std::to_string(port_) +
                                 " in use?)");
      }
    }
  }
  ~TursoServer() { stop(); }
  TursoServer(const TursoServer&) = delete;
  TursoServer& operator=(const TursoServer&) = delete;

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int port() const { return port_; }

  // Runs statements (no parameters) on the server; throws when one fails.
  void exec_all(const std::vector<std::string>& statements) const {
    std::string body = R"({"baton":null,"requests":[)";
    for (std::size_t i = 0; i < statements.size(); ++i) {
      if (i) body += ",";
      body += R"({"type":"execute","stmt":{"sql":")" + escape(statements[i]) + R"("}})";
    }
    body += "]}";
    auto reply = replica::http_post(replica::parse_sync_url(url()), "/v2/pipeline", body,
                                    "application/json", "", std::chrono::seconds(30));
    if (reply.status != 200 || reply.body.find(R"("type":"error")") != std::string::npos) {
      throw std::runtime_error("server SQL failed: " + reply.body.substr(0, 300));
    }
  }
  void exec(const std::string& statement) const { exec_all({statement}); }

 private:
  // Starts tursodb on port_ and waits until it listens itself (up to 30 s); false when it exits
  // first, which it does when the port is taken.
  bool start(const std::string& binary) {
    const std::string address = "127.0.0.1:" + std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::freopen("/dev/null", "w", stdout);
      ::freopen("/dev/null", "w", stderr);
      ::execl(binary.c_str(), binary.c_str(), db_path_.c_str(), "--sync-server", address.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    switch (await_listening(pid_, port_)) {
      case ChildStart::listening:
        return true;
      case ChildStart::exited:
        pid_ = -1;
        return false;
      case ChildStart::silent:
        break;
    }
    stop();
    throw std::runtime_error("tursodb did not start on port " + std::to_string(port_));
  }
  static std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }
  std::string db_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ecto_libsql::testing
