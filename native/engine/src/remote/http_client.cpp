#include "http_client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>
#include <utility>

#include "tls_context.hpp"
#include "transport.hpp"

namespace ecto_libsql::remote {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Error too_big(const std::string& where, std::size_t limit) {
  return Error(kCodeTooBig, "remote server " + where + ": the reply exceeds max_response_size (" +
                                std::to_string(limit) +
                                " bytes); raise the option, or read large results with a cursor");
}

void Interrupter::arm(int fd) noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  fd_ = fd;
  interrupted_ = false;
}

bool Interrupter::disarm() noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  fd_ = -1;
  const bool was = interrupted_;
  interrupted_ = false;
  return was;
}

void Interrupter::interrupt() noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++count_;
  if (fd_ < 0) return;  // nothing in flight: no effect, as in local mode
  interrupted_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

std::uint64_t Interrupter::count() const noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  return count_;
}

struct HttpClient::Impl {
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::string authorization;
  std::string host_header;
  // The answer being read piece by piece (start_streaming), if any.
  std::optional<http::response_parser<http::buffer_body>> streaming;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  [[nodiscard]] bool connected() const { return plain.has_value() || secure.has_value(); }

  // Runs the io_context until the started operation completes.
  void drive() {
    ioc.restart();
    ioc.run();
  }

  // Runs `op` on the open stream, TLS or plain.
  template <class Op>
  void on_stream(Op&& op) {
    if (secure) {
      op(*secure);
    } else {
      op(*plain);
    }
  }

  // Reads into `parser` until the answer (or only its header) is complete, piece by piece, so
  // that `deadline` holds however the server trickles it: the stream's timer only ends a read
  // that waits, not one that keeps receiving.
  template <class Stream, class Parser>
  void read_until(Stream& stream, Parser& parser, bool header_only, Clock::time_point deadline,
                  beast::error_code& ec) {
    while (header_only ? !parser.is_header_done() : !parser.is_done()) {
      if (Clock::now() >= deadline) {
        ec = beast::error::timeout;
        return;
      }
      lowest().expires_at(deadline);
      http::async_read_some(stream, buffer, parser,
                            [&](beast::error_code e, std::size_t) { ec = e; });
      drive();
      if (ec) return;
    }
  }
};

HttpClient::HttpClient(Url url, const std::string& auth_token,
                       std::chrono::milliseconds connect_timeout,
                       std::chrono::milliseconds request_timeout, const std::string& ca_file)
    : url_(std::move(url)), impl_(std::make_unique<Impl>()) {
  connect_timeout_ = connect_timeout;
  request_timeout_ = request_timeout;
  require_header_safe(auth_token, "auth_token");
  if (!auth_token.empty()) impl_->authorization = "Bearer " + auth_token;
  const bool default_port = url_.port == (url_.tls ? "443" : "80");
  impl_->host_header = default_port ? url_.host : url_.host + ":" + url_.port;
  if (url_.tls) impl_->ssl_ctx.emplace(make_tls_context(ca_file));
  // Beast reads as much as the buffer's free capacity: 512 bytes when it is empty, which made a
  // 2.5 MB answer (a replica pull) take 5,000 reads and timer resets.
  impl_->buffer.reserve(std::size_t{64} * 1024);
}

HttpClient::~HttpClient() {
  disconnect();
}

void HttpClient::disconnect() noexcept {
  beast::error_code ec;
  if (impl_->secure) {
    beast::get_lowest_layer(*impl_->secure).socket().close(ec);
    impl_->secure.reset();
  }
  if (impl_->plain) {
    impl_->plain->socket().close(ec);
    impl_->plain.reset();
  }
  impl_->buffer.clear();
  impl_->streaming.reset();
}

bool HttpClient::streaming() const noexcept {
  return impl_->streaming.has_value();
}

namespace {

// True when the kept-alive socket was closed by the peer (readable with nothing to read).
bool peer_closed(tcp::socket& socket) {
  pollfd pfd{socket.native_handle(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) <= 0) return false;
  if ((pfd.revents & (POLLHUP | POLLERR)) != 0) return true;
  char byte = 0;
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n <= 0;
}

}  // namespace

void HttpClient::connect(const Deadline& deadline) {
  Impl& impl = *impl_;
  beast::tcp_stream stream =
      connect_tcp(impl.ioc, url_, connect_deadline(deadline, connect_timeout_));
  if (!url_.tls) {
    impl.plain.emplace(std::move(stream));
    return;
  }
  impl.secure.emplace(std::move(stream), *impl.ssl_ctx);
  try {
    // The handshake has a connect timeout of its own.
    tls_handshake(*impl.secure, impl.ioc, url_.host, connect_deadline(deadline, connect_timeout_));
  } catch (...) {
    impl.secure.reset();
    throw;
  }
}

void HttpClient::prepare_exchange(Deadline& deadline) {
  Impl& impl = *impl_;
  if (impl.streaming) disconnect();  // an unfinished streamed answer
  if (impl.connected() && peer_closed(impl.lowest().socket())) disconnect();
  if (!impl.connected()) connect(deadline);
  if (!deadline) deadline = Clock::now() + request_timeout_;
  if (Clock::now() >= *deadline) fail("request timed out", false);
  impl.lowest().expires_at(*deadline);
}

std::string_view HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

HttpResponse HttpClient::request(bool post, std::string_view path, std::string_view body,
                                 std::string_view content_type, Deadline* deadline) {
  static const HttpExtras kNone;
  return request(post, path, body, content_type, kNone, deadline);
}

HttpResponse HttpClient::request(bool post, std::string_view path, std::string_view body,
                                 std::string_view content_type, const HttpExtras& extras,
                                 Deadline* deadline) {
  Impl& impl = *impl_;
  Deadline own;
  Deadline& until = deadline != nullptr ? *deadline : own;
  prepare_exchange(until);

  const std::string target = url_.path + std::string(path);
  http::request<http::string_body> req(post ? http::verb::post : http::verb::get, target, 11);
  req.set(http::field::host, impl.host_header);
  req.set(http::field::user_agent, "ecto_libsql");
  req.keep_alive(true);
  if (!impl.authorization.empty() && extras.authorization) {
    req.set(http::field::authorization, impl.authorization);
  }
  for (const auto& [name, value] : headers_)
    req.set(name, value);
  for (const auto& [name, value] : extras.headers)
    req.set(name, value);
  if (post) {
    req.set(http::field::content_type, content_type);
    req.body() = std::string(body);
    req.prepare_payload();
  }

  beast::error_code ec;
  bool reading = false;
  http::response_parser<http::string_body> parser;
  if (max_response_size_ != 0) {
    parser.body_limit(max_response_size_);
  } else {
    parser.body_limit(boost::none);
  }
  parser.header_limit(64 * 1024);
  auto run = [&](auto& stream) {
    http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
    impl.drive();
    if (ec) return;
    reading = true;
    impl.read_until(stream, parser, false, *until, ec);
  };
  Armed armed(interrupter_, impl.lowest().socket().native_handle());
  impl.on_stream(run);
  if (armed.release()) {
    // The socket was shut down: an answer read in full still stands, the connection does not.
    disconnect();
    if (ec) throw Error(kCodeInterrupt, "interrupted");
    auto res = parser.release();
    return HttpResponse{res.result_int(), std::move(res.body()), {}};
  }
  if (ec == http::error::body_limit) {
    disconnect();
    throw too_big(url_.host + ":" + url_.port, max_response_size_);
  }
  if (ec) {
    // A request written in full may have run even though its answer was lost.
    fail(ec == beast::error::timeout ? "request timed out" : "connection lost: " + ec.message(),
         reading);
  }
  auto res = parser.release();
  HttpResponse out;
  out.status = res.result_int();
  out.body = std::move(res.body());
  if (extras.keep_headers) {
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers.emplace_back(std::move(name), std::string(field.value()));
    }
  }
  if (!res.keep_alive()) disconnect();
  return out;
}

void HttpClient::fail(const std::string& what, bool sent) {
  disconnect();
  throw TransportError("remote server " + url_.host + ":" + url_.port + ": " + what, sent);
}

unsigned HttpClient::start_streaming(std::string_view path, std::string_view body,
                                     std::string& error_body, Deadline* until) {
  Impl& impl = *impl_;
  Deadline own;
  Deadline& deadline = until != nullptr ? *until : own;
  prepare_exchange(deadline);

  http::request<http::string_body> req(http::verb::post, url_.path + std::string(path), 11);
  req.set(http::field::host, impl.host_header);
  req.set(http::field::user_agent, "ecto_libsql");
  req.keep_alive(true);
  if (!impl.authorization.empty()) req.set(http::field::authorization, impl.authorization);
  for (const auto& [name, value] : headers_)
    req.set(name, value);
  req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();

  beast::error_code ec;
  bool reading = false;
  impl.streaming.emplace();
  impl.streaming->body_limit(boost::none);
  impl.streaming->header_limit(64 * 1024);
  auto run = [&](auto& stream) {
    http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
    impl.drive();
    if (ec) return;
    reading = true;
    impl.read_until(stream, *impl.streaming, true, *deadline, ec);
  };
  run_interruptible(
      interrupter_, impl.lowest().socket().native_handle(), [&] { impl.on_stream(run); },
      [&] { disconnect(); });
  if (ec) {
    fail(ec == beast::error::timeout ? "request timed out" : "connection lost: " + ec.message(),
         reading);
  }
  const unsigned status = impl.streaming->get().result_int();
  if (status != 200) {
    // An error answer is read whole, within the request's time and the size limit.
    error_body.clear();
    while (read_streaming(error_body, std::size_t{64} * 1024, &deadline)) {
      if (max_response_size_ != 0 && error_body.size() > max_response_size_) {
        disconnect();
        throw too_big(url_.host + ":" + url_.port, max_response_size_);
      }
    }
  }
  return status;
}

bool HttpClient::read_streaming(std::string& out, std::size_t max, Deadline* deadline) {
  Impl& impl = *impl_;
  if (!impl.streaming) return false;
  auto& parser = *impl.streaming;
  if (parser.is_done()) {
    const bool keep = parser.keep_alive();
    impl.streaming.reset();
    if (!keep) disconnect();
    return false;
  }
  const std::size_t old = out.size();
  out.resize(old + max);
  parser.get().body().data = out.data() + old;
  parser.get().body().size = max;
  beast::error_code ec;
  Deadline own;
  Deadline& until = deadline != nullptr ? *deadline : own;
  if (!until) until = Clock::now() + request_timeout_;
  if (Clock::now() >= *until) {
    out.resize(old);
    fail("request timed out", true);
  }
  auto run = [&](auto& stream) {
    impl.lowest().expires_at(*until);
    http::async_read_some(stream, impl.buffer, parser,
                          [&](beast::error_code e, std::size_t) { ec = e; });
    impl.drive();
  };
  run_interruptible(
      interrupter_, impl.lowest().socket().native_handle(), [&] { impl.on_stream(run); },
      [&] {
        out.resize(old);
        disconnect();
      });
  out.resize(old + (max - parser.get().body().size));
  if (ec == http::error::need_buffer) ec = {};
  if (ec) {
    out.resize(old);
    fail(ec == beast::error::timeout ? "request timed out" : "connection lost: " + ec.message(),
         true);
  }
  return true;
}

}  // namespace ecto_libsql::remote
