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
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

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

inline bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

class TursoServer {
 public:
  // `port` 0: a free one (a server restarted on its predecessor's port passes that port).
  TursoServer(const std::string& binary, const std::string& db_path, int port = 0)
      : db_path_(db_path) {
    port_ = port != 0 ? port : free_port();
    const std::string address = "127.0.0.1:" + std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::freopen("/dev/null", "w", stdout);
      ::freopen("/dev/null", "w", stderr);
      ::execl(binary.c_str(), binary.c_str(), db_path.c_str(), "--sync-server", address.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 400 && !port_open(port_); ++i) {
      // A server that exits (its port held by another process) has not started, whoever
      // answers on the port.
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("tursodb exited at start (port " + std::to_string(port_) +
                                 " in use?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!port_open(port_)) {
      stop();
      throw std::runtime_error("tursodb did not start");
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
