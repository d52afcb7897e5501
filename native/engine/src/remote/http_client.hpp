// A minimal HTTP/1.1 client over Boost.Beast: one keep-alive connection, optional TLS (system CA
// store), connect and request timeouts. Not thread-safe; its owner serialises calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "url.hpp"

namespace ecto_libsql::remote {

using Clock = std::chrono::steady_clock;
// When an exchange must have ended: set as it starts (after connecting), kept by a retry of
// the same request, which so has only what is left of request_timeout.
using Deadline = std::optional<Clock::time_point>;

// The error for a reply larger than max_response_size (not retried: the next answer would be
// as large).
Error too_big(const std::string& where, std::size_t limit);

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
  // How many times interrupt() has been called: a streamed answer read between requests
  // (a cursor) compares it with the count when it opened, so an interrupt that falls between
  // two of its reads still stops it, as sqlite3_interrupt() stops an active statement.
  [[nodiscard]] std::uint64_t count() const noexcept;

 private:
  mutable std::mutex mutex_;
  int fd_ = -1;
  bool interrupted_ = false;
  std::uint64_t count_ = 0;
};

// Arms an interrupter for one exchange on `fd`; disarmed on every path before the socket can
// be closed.
class Armed {
 public:
  Armed(Interrupter* gate, int fd) : gate_(gate) {
    if (gate_ != nullptr) gate_->arm(fd);
  }
  // Answers whether interrupt() hit the exchange.
  bool release() noexcept {
    if (gate_ != nullptr) hit_ = gate_->disarm();
    gate_ = nullptr;
    return hit_;
  }
  ~Armed() { release(); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
  Armed(Armed&&) = delete;
  Armed& operator=(Armed&&) = delete;

 private:
  Interrupter* gate_;
  bool hit_ = false;
};

// Runs `exchange` with `gate` armed on `fd`. When interrupt() hit it, `on_interrupt` runs (it
// closes the connection) and Error(kCodeInterrupt, "interrupted") is thrown.
template <class Exchange, class OnInterrupt>
void run_interruptible(Interrupter* gate, int fd, Exchange&& exchange, OnInterrupt&& on_interrupt) {
  Armed armed(gate, fd);
  exchange();
  if (armed.release()) {
    on_interrupt();
    throw Error(kCodeInterrupt, "interrupted");
  }
}

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  // Response headers (names in lower case), filled only when asked for (HttpExtras).
  std::vector<std::pair<std::string, std::string>> headers;
  // The first header named `name` (lower case), or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
};

// The header that carries the key of a database encrypted on the server (Turso), on Hrana and
// sync requests alike.
inline constexpr std::string_view kEncryptionKeyHeader = "x-turso-encryption-key";

// What some requests need beyond the Hrana defaults (replica sync: gRPC-web metadata, other
// content types, response headers).
struct HttpExtras {
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  bool authorization = true;  // send the constructor's token as `Authorization: Bearer`
  bool keep_headers = false;  // fill HttpResponse::headers
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
  // `deadline`: the exchange's end (set here when empty; a retry passes the first attempt's).
  // A reply over max_response_size throws Error(kCodeTooBig).
  HttpResponse request(bool post, std::string_view path, std::string_view body,
                       std::string_view content_type = "application/json",
                       Deadline* deadline = nullptr);
  HttpResponse request(bool post, std::string_view path, std::string_view body,
                       std::string_view content_type, const HttpExtras& extras,
                       Deadline* deadline = nullptr);
  // A POST whose answer is read piece by piece (Hrana cursors). Answers the status; for a
  // status other than 200 the whole body is read into `error_body` and the answer is complete.
  // `deadline`: as for request(), up to the answer's status line and headers.
  unsigned start_streaming(std::string_view path, std::string_view body, std::string& error_body,
                           Deadline* deadline = nullptr);
  // Appends the next piece of the streamed body to `out` (up to `max` bytes); false once the
  // body has ended (the connection is then free for the next request). Throws TransportError.
  // `deadline`: when the read must have ended (set here when empty; null: request_timeout).
  bool read_streaming(std::string& out, std::size_t max = std::size_t{64} * 1024,
                      Deadline* deadline = nullptr);
  // The largest reply body read into memory (0: no limit, the default). A streamed answer as
  // a whole is not limited; its reader limits its own pieces.
  void set_max_response_size(std::size_t bytes) noexcept { max_response_size_ = bytes; }
  [[nodiscard]] std::size_t max_response_size() const noexcept { return max_response_size_; }
  [[nodiscard]] std::chrono::milliseconds request_timeout() const noexcept {
    return request_timeout_;
  }
  [[nodiscard]] bool streaming() const noexcept;
  void disconnect() noexcept;
  [[nodiscard]] const Url& url() const noexcept { return url_; }
  // Requests after this can be aborted through `interrupter` (it must outlive the client); an
  // aborted request throws Error with kCodeInterrupt.
  void set_interrupter(Interrupter* interrupter) noexcept { interrupter_ = interrupter; }
  // A header sent with every request from now on (e.g. `x-turso-encryption-key`). The value
  // must have been checked for control characters.
  void add_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
  }

 private:
  struct Impl;
  // Connects within connect_timeout, and within `deadline` when it is set.
  void connect(const Deadline& deadline);
  // Makes the kept-alive connection ready for a request (reconnecting when the server closed
  // it) and starts `deadline` when it is empty.
  void prepare_exchange(Deadline& deadline);
  // Closes the connection and throws TransportError for a failed exchange.
  [[noreturn]] void fail(const std::string& what, bool sent);
  Url url_;
  std::chrono::milliseconds connect_timeout_{};
  std::chrono::milliseconds request_timeout_{};
  std::size_t max_response_size_ = 0;
  Interrupter* interrupter_ = nullptr;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecto_libsql::remote
