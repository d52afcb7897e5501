// Starts the libSQL sync test server (test/support/libsql_sync_server.js: libSQL's HTTP sync and
// gRPC-web replication log over a real SQLite database, Hrana on the same URL; proven against
// npm libsql by test/support/libsql_sync_server_client_check.js) for a test, and drives its
// debug routes. Needs node and the npm peers (libsql, ws) in _build/peers.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "replica/sync_http.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql::testing {

inline std::filesystem::path repo_root() {
  return std::filesystem::path(ECTO_LIBSQL_TESTDATA).parent_path().parent_path().parent_path();
}

// Empty when node or the npm peers are missing, else the reason tests are skipped.
inline std::string libsql_sync_server_missing() {
  if (std::system("command -v node >/dev/null 2>&1") != 0) return "node not found on PATH";
  const auto modules = repo_root() / "_build/peers/node_modules";
  if (!std::filesystem::exists(modules / "libsql") || !std::filesystem::exists(modules / "ws")) {
    return "npm libsql and ws not found in _build/peers (run scripts/setup --no-apt)";
  }
  return {};
}

class LibsqlSyncServer {
 public:
  // `mode`: "both" (HTTP sync and gRPC), "grpc" or "http". A `port` of 0 picks a free one.
  LibsqlSyncServer(std::string db_path, std::string mode, std::string token = {}, int port = 0)
      : db_path_(std::move(db_path)), mode_(std::move(mode)), token_(std::move(token)) {
    start(port);
  }
  ~LibsqlSyncServer() { kill(); }
  LibsqlSyncServer(const LibsqlSyncServer&) = delete;
  LibsqlSyncServer& operator=(const LibsqlSyncServer&) = delete;

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int port() const { return port_; }

  // Kills the process (the server is down); restart() carries on with its files.
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    for (int* fd : {&stdin_, &stdout_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }
  void restart() {
    kill();
    for (int i = 0; i < 50; ++i) {
      try {
        start(port_);
        return;
      } catch (const std::runtime_error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    start(port_);
  }
  // Whether the process has ended (after an "exit" fault).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  // POST /debug/exec: one statement with text/integer/null arguments; answers the JSON result.
  boost::json::value exec(const std::string& sql, const boost::json::array& args = {}) {
    return debug("/debug/exec",
                 boost::json::serialize(boost::json::object{{"sql", sql}, {"args", args}}));
  }
  std::int64_t count(const std::string& table) {
    return exec("SELECT count(*) FROM " + table).at("rows").at(0).at(0).to_number<std::int64_t>();
  }
  boost::json::value stats() { return get("/debug/stats"); }
  std::int64_t new_generation() {
    return debug("/debug/new-generation", "{}").at("generation").to_number<std::int64_t>();
  }
  std::int64_t compact() {
    return debug("/debug/compact", "{}").at("snapshot_frame_no").to_number<std::int64_t>();
  }
  void fault(const boost::json::object& spec) {
    debug("/debug/fault", boost::json::serialize(spec));
  }

  boost::json::value debug(const std::string& route, const std::string& body) {
    auto reply = replica::http_post(replica::parse_sync_url(url()), route, body, "application/json",
                                    "", std::chrono::seconds(60));
    if (reply.status != 200)
      throw std::runtime_error(route + ": HTTP " + std::to_string(reply.status) + " " + reply.body);
    return boost::json::parse(reply.body);
  }
  boost::json::value get(const std::string& route) {
    replica::SyncClient client(replica::parse_sync_url(url()), {});
    auto reply = client.get(route);
    if (reply.status != 200)
      throw std::runtime_error(route + ": HTTP " + std::to_string(reply.status));
    return boost::json::parse(reply.body);
  }

 private:
  void start(int port) {
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe");
    const std::string script = (repo_root() / "test/support/libsql_sync_server.js").string();
    const std::string modules = (repo_root() / "_build/peers/node_modules").string();
    const std::string port_text = std::to_string(port);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      ::freopen("/dev/null", "w", stderr);
      ::setenv("NODE_PATH", modules.c_str(), 1);
      std::vector<std::string> args = {"node",   script, "--db",   db_path_,
                                       "--mode", mode_,  "--port", port_text};
      if (!token_.empty()) {
        args.emplace_back("--token");
        args.push_back(token_);
      }
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("node", argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n')
      line.push_back(c);
    stdout_ = out[0];  // kept open: the server may write more
    if (!line.starts_with("listening ")) {
      kill();
      throw std::runtime_error("libsql_sync_server.js did not start: " + line);
    }
    port_ = std::stoi(line.substr(10));
  }

  std::string db_path_;
  std::string mode_;
  std::string token_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int port_ = 0;
};

}  // namespace ecto_libsql::testing
