// A minimal HTTP/1.1 client for the sync protocol: one POST per TCP connection, as tursodb's
// sync server closes the connection after every request. Plain http:// only.
#pragma once

#include <chrono>
#include <string>

namespace ecto_libsql::replica {

struct SyncEndpoint {
  std::string host;
  std::string port;
  std::string base_path;  // without a trailing slash
};

// Parses http://host[:port][/path]; libsql:// and https:// are refused with a clear error.
SyncEndpoint parse_sync_url(const std::string& url);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// POSTs `body` to `path` under the endpoint. Throws Error(SQLITE_IOERR) on network failure or
// timeout; HTTP error statuses are returned, not thrown.
HttpReply http_post(const SyncEndpoint& endpoint, const std::string& path, const std::string& body,
                    const std::string& content_type, const std::string& auth_token,
                    std::chrono::milliseconds timeout);

}  // namespace ecto_libsql::replica
