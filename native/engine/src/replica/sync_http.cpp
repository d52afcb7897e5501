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

SyncClient::SyncClient(SyncEndpoint endpoint, const SyncClientOptions& options)
    : endpoint_(std::move(endpoint)),
      token_(options.auth_token),
      client_(endpoint_, options.auth_token, options.timeout, options.timeout, options.ca_file) {
  if (!options.encryption_key.empty()) {
    client_.add_header(std::string(remote::kEncryptionKeyHeader), options.encryption_key);
  }
}

std::string SyncClient::where() const {
  return endpoint_.host + ":" + endpoint_.port;
}

std::string SyncClient::excerpt(std::string_view body) const {
  std::string out(body.substr(0, 200));
  if (token_.size() >= 4) {
    for (auto at = out.find(token_); at != std::string::npos; at = out.find(token_, at)) {
      out.replace(at, token_.size(), "<token>");
    }
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > 200) out += "…";
  return out;
}

HttpReply SyncClient::get(std::string_view path, const remote::HttpExtras& extras) {
  return exchange(false, path, {}, {}, extras);
}

HttpReply SyncClient::post(std::string_view path, std::string_view body,
                           std::string_view content_type, const remote::HttpExtras& extras) {
  return exchange(true, path, body, content_type, extras);
}

HttpReply SyncClient::exchange(bool post, std::string_view path, std::string_view body,
                               std::string_view content_type, const remote::HttpExtras& extras) {
  const std::string where = this->where();
  try {
    return client_.request(post, path, body, content_type, extras);
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

HttpReply http_post(const SyncEndpoint& endpoint, const std::string& path, const std::string& body,
                    const std::string& content_type, const std::string& auth_token,
                    std::chrono::milliseconds timeout, const std::string& ca_file) {
  SyncClient client(endpoint, SyncClientOptions{auth_token, timeout, ca_file, {}});
  return client.post(path, body, content_type);
}

}  // namespace ecto_libsql::replica
