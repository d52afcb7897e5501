// A minimal HTTP/1.1 client over Boost.Beast: one keep-alive connection, optional TLS (system CA
// store), connect and request timeouts. Not thread-safe; its owner serialises calls.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::remote {

struct Url {
  bool tls = false;
  bool websocket = false;  // ws:// or wss://
  std::string host;
  std::string port;
  std::string path;  // prefix without a trailing '/', possibly empty
};

// Parses libsql://, https://, http://, wss://, ws:// (libsql:// means https://). Throws Error.
Url parse_url(std::string_view uri);

// The request never reached the server or its answer never came back.
class TransportError : public Error {
 public:
  TransportError(std::string message, bool maybe_processed)
      : Error(kCodeIoErr, std::move(message)), maybe_processed_(maybe_processed) {}
  // False when the request certainly was not sent (it is then safe to send it again).
  [[nodiscard]] bool maybe_processed() const noexcept { return maybe_processed_; }

 private:
  bool maybe_processed_;
};

// Lets another thread abort the request in flight: interrupt() shuts its socket down, so the
// blocked read or write fails at once. The request thread arms it with the socket and disarms
// it before the socket can be closed, so a descriptor is never shut down after reuse.
class Interrupter {
 public:
  void arm(int fd) noexcept;
  // Answers whether interrupt() hit the armed request.
  bool disarm() noexcept;
  void interrupt() noexcept;

 private:
  std::mutex mutex_;
  int fd_ = -1;
  bool interrupted_ = false;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `ca_file`: PEM certificate authorities trusted instead of the system store (empty: the
  // system store). Throws Error when it cannot be read.
  HttpClient(Url url, const std::string& auth_token, std::chrono::milliseconds connect_timeout,
             std::chrono::milliseconds request_timeout, const std::string& ca_file = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET when `body` is empty and `post` is false, POST otherwise. `path` starts with '/'.
  HttpResponse request(bool post, std::string_view path, std::string_view body,
                       std::string_view content_type = "application/json");
  void disconnect() noexcept;
  [[nodiscard]] const Url& url() const noexcept { return url_; }
  // Requests after this can be aborted through `interrupter` (it must outlive the client); an
  // aborted request throws Error with kCodeInterrupt.
  void set_interrupter(Interrupter* interrupter) noexcept { interrupter_ = interrupter; }

 private:
  struct Impl;
  void connect();
  Url url_;
  std::chrono::milliseconds connect_timeout_{};
  std::chrono::milliseconds request_timeout_{};
  Interrupter* interrupter_ = nullptr;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecto_libsql::remote
