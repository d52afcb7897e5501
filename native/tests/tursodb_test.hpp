// A test with a tursodb server of its own, on a file of its own, and remote connections to it;
// skipped, with the reason, when tursodb is not installed.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "test_support.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql::testing {

class TursodbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = tursodb_path();
    if (binary_.empty()) {
      GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt to install the npm peers "
                      "(turso) into _build/peers, or set ECTO_LIBSQL_TURSODB";
    }
    server_ = std::make_unique<TursoServer>(binary_, dir_.file("server.db"));
    port_ = server_->port();
  }

  // A remote connection to `url` (by default the server's).
  [[nodiscard]] std::shared_ptr<Connection> connect(const std::string& url = "") const {
    ConnectOptions options;
    options.mode = Mode::Remote;
    options.uri = url.empty() ? server_->url() : url;
    options.request_timeout = std::chrono::seconds(10);
    return open_connection(options);
  }

  // The server killed (kill -9), and started again on its port and file.
  void stop_server() { server_.reset(); }
  void start_server_again() {
    server_ = std::make_unique<TursoServer>(binary_, dir_.file("server.db"), port_);
  }
  void restart_server() {
    stop_server();
    start_server_again();
  }

  TempDir dir_;
  std::string binary_;
  int port_ = 0;
  std::unique_ptr<TursoServer> server_;
};

}  // namespace ecto_libsql::testing
