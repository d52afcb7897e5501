// The three sync protocols behind one interface, and the choice between them as the libsql
// crate makes it (libsql/src/database/builder.rs): `GET /info` answering 2xx selects libSQL's
// HTTP sync, else a gRPC-web `Hello` that is answered selects libSQL's gRPC replication log,
// else the Turso sync protocol (`POST /pull-updates`, tursodb --sync-server).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "replica/page_set.hpp"
#include "replica/sync_http.hpp"
#include "replica/sync_state.hpp"

namespace ecto_libsql::replica {

enum class ProtocolKind { Turso, LibsqlHttp, LibsqlGrpc };

// The name in `<db>-sync` and in the sync_protocol option: turso, libsql_http, libsql_grpc.
std::string_view protocol_name(ProtocolKind kind) noexcept;
// For messages: "Turso sync protocol", "libSQL HTTP sync", "libSQL gRPC replication log".
std::string_view protocol_title(ProtocolKind kind) noexcept;
// nullopt for "auto" (or an empty string); throws Error(SQLITE_MISUSE) for an unknown name.
std::optional<ProtocolKind> parse_protocol(std::string_view name);

struct SyncTarget {
  SyncEndpoint endpoint;
  SyncClientOptions client;
};

// Applies a finished page set atomically (an empty one only records `next`), then records
// `next` once the pages are durable.
using ApplyFn = std::function<void(const PageSet& pages, const SyncState& next)>;

class SyncDriver {
 public:
  virtual ~SyncDriver() = default;
  [[nodiscard]] virtual ProtocolKind kind() const noexcept = 0;
  // Brings the local file up to the server's latest position (creates it when `bootstrap`),
  // applying committed transactions in atomic batches through `apply`; `state` follows each
  // batch. Answers how many frames (Turso: pages) were received.
  virtual std::int64_t pull(SyncState& state, bool bootstrap, const ApplyFn& apply) = 0;
};

std::unique_ptr<SyncDriver> make_driver(ProtocolKind kind, const SyncTarget& target);

// Asks the server which protocol it serves, as the libsql crate does. Throws Error when the
// server is unreachable or refuses the token.
ProtocolKind probe_protocol(const SyncTarget& target);

// Implementations (one file each).
std::unique_ptr<SyncDriver> make_turso_driver(const SyncTarget& target);
std::unique_ptr<SyncDriver> make_libsql_http_driver(const SyncTarget& target);
std::unique_ptr<SyncDriver> make_libsql_grpc_driver(const SyncTarget& target);

// Shared by the drivers: an Error naming the protocol, the request and the server's answer
// (status and an excerpt of the body, never the token). 401 and 403 give SQLITE_AUTH.
Error answer_error(ProtocolKind kind, std::string_view request, const HttpReply& reply,
                   const SyncClient& client, std::string_view what = {});

}  // namespace ecto_libsql::replica
