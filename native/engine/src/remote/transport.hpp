// Opening the connection under a Hrana transport (HttpClient, WsClient): the host resolved, TCP
// connected and, for https and wss, the TLS handshake made, each within a deadline.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <string>

#include "http_client.hpp"
#include "url.hpp"

namespace ecto_libsql::remote {

// When a connection attempt must have ended: `connect_timeout` from now, or the request's
// deadline when that is sooner (a reconnect for a retried request has only what is left of it).
Clock::time_point connect_deadline(const Deadline& deadline,
                                   std::chrono::milliseconds connect_timeout);

// A TCP connection to the URL's host and port, Nagle's algorithm off (a large message goes out
// in several segments: without this, the last one waits for the server's delayed acknowledgement,
// about 40 ms). Runs `ioc` until done; throws TransportError (never processed) when the host
// cannot be resolved or reached by `until`.
boost::beast::tcp_stream connect_tcp(boost::asio::io_context& ioc, const Url& url,
                                     Clock::time_point until);

// The TLS handshake over a connected `stream`: the server name sent (SNI) and the certificate
// verified, its host name too (a mismatch is named as the reason). Runs `ioc` until done; throws
// TransportError (never processed) when it fails or `until` passes.
void tls_handshake(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                   boost::asio::io_context& ioc, const std::string& host, Clock::time_point until);

}  // namespace ecto_libsql::remote
