#include "replica/sync_http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::replica {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

SyncEndpoint parse_sync_url(const std::string& url) {
  constexpr std::string_view kHttp = "http://";
  if (url.rfind(kHttp, 0) != 0) {
    throw Error(kCodeMisuse,
                "replica sync URL must start with http:// (TLS is not supported by "
                "the sync client yet): " +
                    url);
  }
  std::string rest = url.substr(kHttp.size());
  SyncEndpoint endpoint;
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) endpoint.base_path = rest.substr(slash);
  while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') {
    endpoint.base_path.pop_back();
  }
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    endpoint.host = authority.substr(0, colon);
    endpoint.port = authority.substr(colon + 1);
  } else {
    endpoint.host = authority;
    endpoint.port = "80";
  }
  if (endpoint.host.empty()) throw Error(kCodeMisuse, "replica sync URL has no host: " + url);
  return endpoint;
}

HttpReply http_post(const SyncEndpoint& endpoint, const std::string& path, const std::string& body,
                    const std::string& content_type, const std::string& auth_token,
                    std::chrono::milliseconds timeout) {
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(endpoint.host, endpoint.port));

    http::request<http::string_body> req{http::verb::post, endpoint.base_path + path, 11};
    req.set(http::field::host, endpoint.host);
    req.set(http::field::content_type, content_type);
    req.set(http::field::accept, content_type);
    req.set(http::field::connection, "close");
    if (!auth_token.empty()) req.set(http::field::authorization, "Bearer " + auth_token);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    http::read(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    HttpReply reply;
    reply.status = parser.get().result_int();
    reply.body = std::move(parser.get().body());
    return reply;
  } catch (const boost::system::system_error& e) {
    throw Error(kCodeIoErr, "sync server " + endpoint.host + ":" + endpoint.port +
                                " unreachable: " + e.code().message());
  }
}

}  // namespace ecto_libsql::replica
