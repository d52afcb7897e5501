// Opening a connection in any mode.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ecto_libsql/connection.hpp"

namespace ecto_libsql {

struct ConnectOptions {
  Mode mode = Mode::Local;
  std::string database;  // a file path, a "file:" URI or ":memory:"
  std::string uri;       // libsql://, https://, http://, wss://, ws://
  std::string auth_token;
  std::optional<std::string> encryption_key;
  std::optional<std::string> remote_encryption_key;
  bool sync_on_connect = false;
  std::optional<std::chrono::milliseconds> sync_interval;
  bool read_your_writes = true;
  // Replica mode: "auto" (or empty), "libsql_http", "libsql_grpc" or "turso".
  std::string sync_protocol;
  // Replica mode: writes go to the local file and sync() pushes them (offline writes).
  bool offline = false;
  int busy_timeout_ms = 5000;
  bool read_only = false;  // open the file read-only
  std::chrono::milliseconds connect_timeout{30000};
  std::chrono::milliseconds request_timeout{30000};
  // The largest reply read into memory in remote mode (a cursor's answer as a whole is not
  // limited, each of its rows is); 0: no limit.
  std::size_t max_response_size = std::size_t{256} * 1024 * 1024;
  std::string transport;  // "http" (default) or "websocket" for remote mode
  // PEM file of the certificate authorities trusted for https:// and libsql:// (HTTP, replica
  // sync) instead of the system store; empty: the system store (SSL_CERT_FILE honoured).
  std::string tls_ca_file;
};

// Opens a connection. Throws Error with a message that names the problem.
std::shared_ptr<Connection> open_connection(const ConnectOptions& options);

}  // namespace ecto_libsql
