// The sync protocols' HTTP client, over the remote client's HttpClient (Boost.Beast; https://
// and libsql:// use its TLS stack: OpenSSL, the system CA store or tls_ca_file, host name
// checks). One SyncClient keeps its connection alive between requests when the server allows
// it (tursodb's sync server closes it after every request).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "remote/http_client.hpp"

namespace ecto_libsql::replica {

using SyncEndpoint = remote::Url;
using HttpReply = remote::HttpResponse;

// Parses http://, https:// or libsql:// (which means https://) host[:port][/path]. Throws Error.
SyncEndpoint parse_sync_url(const std::string& url);

struct SyncClientOptions {
  std::string auth_token;
  std::chrono::milliseconds timeout{30000};
  std::string ca_file;
  // ConnectOptions::remote_encryption_key: sent with every sync request (empty: none).
  std::string encryption_key;
};

class SyncClient {
 public:
  SyncClient(SyncEndpoint endpoint, const SyncClientOptions& options);

  // Throw Error(SQLITE_IOERR) "sync server host:port unreachable: …" on network or TLS failure
  // or timeout; HTTP error statuses are answered, not thrown.
  HttpReply get(std::string_view path, const remote::HttpExtras& extras = {});
  HttpReply post(std::string_view path, std::string_view body, std::string_view content_type,
                 const remote::HttpExtras& extras = {});

  // "host:port", for messages.
  [[nodiscard]] std::string where() const;
  [[nodiscard]] const SyncEndpoint& endpoint() const noexcept { return endpoint_; }
  // At most 200 bytes of `body` for an error message, with the auth token (if a server echoed
  // it) replaced, and control characters shown as spaces.
  [[nodiscard]] std::string excerpt(std::string_view body) const;

 private:
  HttpReply exchange(bool post, std::string_view path, std::string_view body,
                     std::string_view content_type, const remote::HttpExtras& extras);
  SyncEndpoint endpoint_;
  std::string token_;
  remote::HttpClient client_;
};

// One POST on a fresh client (tursodb closes every connection).
HttpReply http_post(const SyncEndpoint& endpoint, const std::string& path, const std::string& body,
                    const std::string& content_type, const std::string& auth_token,
                    std::chrono::milliseconds timeout, const std::string& ca_file = {});

}  // namespace ecto_libsql::replica
