#include "ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <optional>
#include <type_traits>
#include <utility>

#include "tls_context.hpp"
#include "transport.hpp"

namespace ecto_libsql::remote {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl_ctx;
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;
  beast::flat_buffer buffer;

  int fd() {
    if (secure) return beast::get_lowest_layer(*secure).socket().native_handle();
    if (plain) return beast::get_lowest_layer(*plain).socket().native_handle();
    return -1;
  }

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
};

WsClient::WsClient(Url url, std::chrono::milliseconds connect_timeout,
                   std::chrono::milliseconds request_timeout, const std::string& ca_file)
    : url_(std::move(url)),
      connect_timeout_(connect_timeout),
      request_timeout_(request_timeout),
      impl_(std::make_unique<Impl>()) {
  if (url_.tls) impl_->ssl_ctx.emplace(make_tls_context(ca_file));
}

WsClient::~WsClient() {
  disconnect();
}

bool WsClient::connected() const noexcept {
  return impl_->plain.has_value() || impl_->secure.has_value();
}

void WsClient::disconnect() noexcept {
  beast::error_code ec;
  if (impl_->plain) beast::get_lowest_layer(*impl_->plain).socket().close(ec);
  if (impl_->secure) beast::get_lowest_layer(*impl_->secure).socket().close(ec);
  impl_->plain.reset();
  impl_->secure.reset();
  impl_->buffer.clear();
}

void WsClient::connect(const Deadline& deadline) {
  Impl& impl = *impl_;
  const auto until = connect_deadline(deadline, connect_timeout_);
  beast::tcp_stream stream = connect_tcp(impl.ioc, url_, until);
  const std::string target = url_.path.empty() ? "/" : url_.path;
  const std::string host = url_.host + ":" + url_.port;
  beast::error_code ec;
  auto handshake = [&](auto& ws) {
    if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>,
                                  websocket::stream<beast::tcp_stream>>) {
      tls_handshake(ws.next_layer(), impl.ioc, url_.host, until);
    }
    ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, "hrana3");
      req.set(beast::http::field::user_agent, "ecto_libsql");
      for (const auto& [name, value] : headers_)
        req.set(name, value);
    }));
    ws.read_message_max(max_response_size_);
    websocket::response_type res;
    ws.async_handshake(res, url_.host, target, [&](beast::error_code e) { ec = e; });
    impl.drive();
    if (ec) {
      throw TransportError(
          "Failed to connect: WebSocket handshake with " + host + " failed: " + ec.message(),
          false);
    }
    ws.text(true);
  };
  if (url_.tls) {
    impl.secure.emplace(std::move(stream), *impl.ssl_ctx);
    try {
      handshake(*impl.secure);
    } catch (...) {
      impl.secure.reset();
      throw;
    }
  } else {
    impl.plain.emplace(std::move(stream));
    try {
      handshake(*impl.plain);
    } catch (...) {
      impl.plain.reset();
      throw;
    }
  }
}

namespace {

// Starts `deadline` when empty; answers false when it has passed.
bool time_left(Deadline& deadline, std::chrono::milliseconds timeout) {
  if (!deadline) deadline = Clock::now() + timeout;
  return Clock::now() < *deadline;
}

}  // namespace

void WsClient::send(const std::string& text, Deadline* deadline) {
  Deadline own;
  Deadline& until = deadline != nullptr ? *deadline : own;
  if (!connected()) connect(until);
  Impl& impl = *impl_;
  if (!time_left(until, request_timeout_)) {
    disconnect();
    throw TransportError("remote server " + url_.host + ":" + url_.port + ": request timed out",
                         false);
  }
  beast::error_code ec;
  auto run = [&](auto& ws) {
    beast::get_lowest_layer(ws).expires_at(*until);
    ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) { ec = e; });
    impl.drive();
  };
  run_interruptible(
      interrupter_, impl.fd(), [&] { impl.on_stream(run); }, [&] { disconnect(); });
  if (ec) {
    disconnect();
    throw TransportError(
        "remote server " + url_.host + ":" + url_.port + ": connection lost: " + ec.message(),
        false);
  }
}

std::string WsClient::receive(Deadline* deadline) {
  Impl& impl = *impl_;
  if (!connected()) throw TransportError("remote server: connection lost", true);
  Deadline own;
  Deadline& until = deadline != nullptr ? *deadline : own;
  if (!time_left(until, request_timeout_)) {
    disconnect();
    throw TransportError("remote server " + url_.host + ":" + url_.port + ": request timed out",
                         true);
  }
  beast::error_code ec;
  impl.buffer.clear();
  auto run = [&](auto& ws) {
    beast::get_lowest_layer(ws).expires_at(*until);
    // Piece by piece, so that the deadline holds however the server trickles the message.
    do {
      if (Clock::now() >= *until) {
        ec = beast::error::timeout;
        return;
      }
      beast::get_lowest_layer(ws).expires_at(*until);
      ws.async_read_some(impl.buffer, 0, [&](beast::error_code e, std::size_t) { ec = e; });
      impl.drive();
    } while (!ec && !ws.is_message_done());
  };
  run_interruptible(
      interrupter_, impl.fd(), [&] { impl.on_stream(run); }, [&] { disconnect(); });
  if (ec == websocket::error::message_too_big) {
    disconnect();
    throw too_big(url_.host + ":" + url_.port, max_response_size_);
  }
  if (ec) {
    disconnect();
    throw TransportError("remote server " + url_.host + ":" + url_.port + ": " +
                             (ec == beast::error::timeout ? std::string("request timed out")
                                                          : "connection lost: " + ec.message()),
                         true);
  }
  return beast::buffers_to_string(impl.buffer.data());
}

}  // namespace ecto_libsql::remote
