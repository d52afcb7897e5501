// A minimal HTTP/1.1 client over Boost.Beast: one keep-alive connection, optional TLS (system CA
// store), connect and request timeouts. Not thread-safe; its owner serialises calls.
#pragma once

#include <chrono>
#include <memory>
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

 private:
  struct Impl;
  void connect();
  Url url_;
  std::chrono::milliseconds connect_timeout_{};
  std::chrono::milliseconds request_timeout_{};
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecto_libsql::remote
