// Remote mode: a connection to a libSQL / Turso server over Hrana (HTTP, JSON).
#pragma once

#include <memory>

#include "ecto_libsql/open.hpp"

namespace ecto_libsql::remote {

// Opens a connection to `options.uri` with `options.auth_token`. Probes the server's Hrana
// version (v3, v2, or the execute/batch subset that tursodb serves). Throws Error.
std::shared_ptr<Connection> open_remote(const ConnectOptions& options);

}  // namespace ecto_libsql::remote
