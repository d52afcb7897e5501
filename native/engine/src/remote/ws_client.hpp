// A WebSocket client over Boost.Beast for Hrana 3 (`hrana3` subprotocol, JSON text frames),
// plain or TLS, with connect and request timeouts. Not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http_client.hpp"

namespace ecto_libsql::remote {

class WsClient {
 public:
  // `ca_file`: PEM certificate authorities trusted for wss:// instead of the system's.
  WsClient(Url url, std::chrono::milliseconds connect_timeout,
           std::chrono::milliseconds request_timeout, const std::string& ca_file = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Throws TransportError. `deadline` (when set) bounds the connect too: a reconnect for a
  // retried request has only what is left of its time.
  void connect(const Deadline& deadline = {});
  // `deadline`: when the exchange must have ended (set here when empty; null: request_timeout
  // for this call alone). A message over max_response_size throws Error(kCodeTooBig).
  void send(const std::string& text, Deadline* deadline = nullptr);
  std::string receive(Deadline* deadline = nullptr);
  // The largest message read (0: no limit, the default).
  void set_max_response_size(std::size_t bytes) noexcept { max_response_size_ = bytes; }
  void disconnect() noexcept;
  [[nodiscard]] bool connected() const noexcept;
  // Sends and receives after this can be aborted through `interrupter` (it must outlive the
  // client); an aborted exchange closes the socket and throws Error with kCodeInterrupt.
  void set_interrupter(Interrupter* interrupter) noexcept { interrupter_ = interrupter; }
  // A header sent with the upgrade request of every (re)connection from now on.
  void add_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
  }

 private:
  struct Impl;
  Url url_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds request_timeout_;
  std::size_t max_response_size_ = 0;
  Interrupter* interrupter_ = nullptr;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecto_libsql::remote
