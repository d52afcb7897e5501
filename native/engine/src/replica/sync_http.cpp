#include "replica/sync_http.hpp"

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::replica {

SyncEndpoint parse_sync_url(const std::string& url) {
  const bool http =
      url.starts_with("http://") || url.starts_with("https://") || url.starts_with("libsql://");
  if (!http) {
    throw Error(kCodeMisuse,
                "Failed to connect: a replica sync URL must start with libsql://, https:// or "
                "http://: " +
                    url);
  }
  return remote::parse_url(url);
}

HttpReply http_post(const SyncEndpoint& endpoint, const std::string& path, const std::string& body,
                    const std::string& content_type, const std::string& auth_token,
                    std::chrono::milliseconds timeout, const std::string& ca_file) {
  const std::string where = endpoint.host + ":" + endpoint.port;
  try {
    remote::HttpClient client(endpoint, auth_token, timeout, timeout, ca_file);
    remote::HttpResponse response = client.request(true, path, body, content_type);
    return HttpReply{response.status, std::move(response.body)};
  } catch (const remote::TransportError& e) {
    // "Failed to connect: TLS handshake with … failed: certificate verify failed", "Failed to
    // connect to host:port: Connection refused", "remote server host:port: request timed out".
    std::string reason = e.message();
    for (const std::string& prefix :
         {"Failed to connect to " + where + ": ", std::string("Failed to connect: "),
          "remote server " + where + ": "}) {
      if (reason.starts_with(prefix)) {
        reason.erase(0, prefix.size());
        break;
      }
    }
    throw Error(kCodeIoErr, "sync server " + where + " unreachable: " + reason);
  }
}

}  // namespace ecto_libsql::replica
