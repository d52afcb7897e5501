#include "transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/error.hpp>
#include <utility>

namespace ecto_libsql::remote {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// Runs the io_context until the started operation completes.
void drive(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace

Clock::time_point connect_deadline(const Deadline& deadline,
                                   std::chrono::milliseconds connect_timeout) {
  const auto own = Clock::now() + connect_timeout;
  return deadline && *deadline < own ? *deadline : own;
}

beast::tcp_stream connect_tcp(asio::io_context& ioc, const Url& url, Clock::time_point until) {
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, url.port,
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                         });
  drive(ioc);
  if (ec)
    throw TransportError("Failed to connect: cannot resolve " + url.host + ": " + ec.message(),
                         false);
  beast::tcp_stream stream(ioc);
  stream.expires_at(until);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  drive(ioc);
  if (ec) {
    throw TransportError(
        "Failed to connect to " + url.host + ":" + url.port + ": " +
            (ec == beast::error::timeout ? std::string("timed out") : ec.message()),
        false);
  }
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  return stream;
}

void tls_handshake(beast::ssl_stream<beast::tcp_stream>& stream, asio::io_context& ioc,
                   const std::string& host, Clock::time_point until) {
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
    throw TransportError("Failed to connect: cannot set the TLS server name", false);
  stream.set_verify_callback([check = asio::ssl::host_name_verification(host)](
                                 bool preverified, asio::ssl::verify_context& ctx) mutable {
    const bool ok = check(preverified, ctx);
    // Recorded, so that the handshake error names the host name as the reason.
    if (preverified && !ok) {
      X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
    }
    return ok;
  });
  beast::get_lowest_layer(stream).expires_at(until);
  beast::error_code ec;
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  drive(ioc);
  if (ec) {
    std::string reason = ec.message();
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
      reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
    throw TransportError("Failed to connect: TLS handshake with " + host + " failed: " + reason,
                         false);
  }
}

}  // namespace ecto_libsql::remote
