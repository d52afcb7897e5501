// The sync protocol's HTTP client: one POST per connection (tursodb's sync server closes the
// connection after every request), over the remote client's HttpClient, so https:// and
// libsql:// use the same TLS stack (OpenSSL, the system CA store, host name checks).
#pragma once

#include <chrono>
#include <string>

#include "remote/http_client.hpp"

namespace ecto_libsql::replica {

using SyncEndpoint = remote::Url;

// Parses http://, https:// or libsql:// (which means https://) host[:port][/path]. Throws Error.
SyncEndpoint parse_sync_url(const std::string& url);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// POSTs `body` to `path` under the endpoint. Throws Error(SQLITE_IOERR) on network or TLS
// failure or timeout; HTTP error statuses are returned, not thrown.
HttpReply http_post(const SyncEndpoint& endpoint, const std::string& path, const std::string& body,
                    const std::string& content_type, const std::string& auth_token,
                    std::chrono::milliseconds timeout, const std::string& ca_file = {});

}  // namespace ecto_libsql::replica
