#include "replica/sync_driver.hpp"

#include <boost/json.hpp>

#include "ecto_libsql/error.hpp"
#include "replica/grpc_web.hpp"

namespace ecto_libsql::replica {

std::string_view protocol_name(ProtocolKind kind) noexcept {
  switch (kind) {
    case ProtocolKind::LibsqlHttp:
      return "libsql_http";
    case ProtocolKind::LibsqlGrpc:
      return "libsql_grpc";
    case ProtocolKind::Turso:
      break;
  }
  return "turso";
}

std::string_view protocol_title(ProtocolKind kind) noexcept {
  switch (kind) {
    case ProtocolKind::LibsqlHttp:
      return "libSQL HTTP sync";
    case ProtocolKind::LibsqlGrpc:
      return "libSQL gRPC replication log";
    case ProtocolKind::Turso:
      break;
  }
  return "Turso sync protocol";
}

std::optional<ProtocolKind> parse_protocol(std::string_view name) {
  if (name.empty() || name == "auto") return std::nullopt;
  for (const ProtocolKind kind :
       {ProtocolKind::Turso, ProtocolKind::LibsqlHttp, ProtocolKind::LibsqlGrpc}) {
    if (name == protocol_name(kind)) return kind;
  }
  throw Error(kCodeMisuse,
              "Failed to connect: option :sync_protocol must be :auto, :libsql_http, "
              ":libsql_grpc or :turso, got: " +
                  std::string(name));
}

Error answer_error(ProtocolKind kind, std::string_view request, const HttpReply& reply,
                   const SyncClient& client, std::string_view what) {
  std::string message = std::string(protocol_title(kind)) + ": " + std::string(request) +
                        " answered HTTP " + std::to_string(reply.status);
  if (!what.empty()) message += " (" + std::string(what) + ")";
  const std::string body = client.excerpt(reply.body);
  if (!body.empty()) message += ": " + body;
  if (reply.status == 401 || reply.status == 403) {
    return Error(kCodeAuth, message + " — the server refused the auth token");
  }
  return Error(kCodeIoErr, message);
}

std::unique_ptr<SyncDriver> make_driver(ProtocolKind kind, const SyncTarget& target) {
  switch (kind) {
    case ProtocolKind::LibsqlHttp:
      return make_libsql_http_driver(target);
    case ProtocolKind::LibsqlGrpc:
      return make_libsql_grpc_driver(target);
    case ProtocolKind::Turso:
      break;
  }
  return make_turso_driver(target);
}

ProtocolKind probe_protocol(const SyncTarget& target) {
  SyncClient client(target.endpoint, target.client);
  // libsql: GET /info; 401 is an error, 2xx selects the HTTP sync protocol.
  const HttpReply info = client.get("/info");
  if (info.status == 401 || info.status == 403) {
    throw answer_error(ProtocolKind::LibsqlHttp, "GET /info", info, client);
  }
  if (info.status >= 200 && info.status < 300) return ProtocolKind::LibsqlHttp;
  // Then the gRPC replication log: a Hello that is answered in gRPC selects it.
  const HttpReply hello = client.post(
      "/wal_log.ReplicationLog/Hello", grpc::frame_message(grpc::encode_hello_request()),
      grpc::kContentType,
      grpc::call_headers(target.endpoint.host, target.client.auth_token, std::string()));
  if (hello.status == 401 || hello.status == 403) {
    throw answer_error(ProtocolKind::LibsqlGrpc, "POST /wal_log.ReplicationLog/Hello", hello,
                       client);
  }
  if (hello.status == 200) {
    grpc::Answer answer;
    try {
      answer = grpc::read_answer(hello);
    } catch (const Error&) {
      return ProtocolKind::Turso;  // not a gRPC-web answer
    }
    if (answer.status == grpc::kUnauthenticated || answer.status == grpc::kPermissionDenied) {
      throw Error(kCodeAuth, std::string(protocol_title(ProtocolKind::LibsqlGrpc)) +
                                 ": Hello answered gRPC status " + std::to_string(answer.status) +
                                 ": " + client.excerpt(answer.message) +
                                 " — the server refused the auth token");
    }
    // Any gRPC answer (NAMESPACE_DOESNT_EXIST included) means the server speaks it.
    if (answer.status >= 0 || !answer.messages.empty()) return ProtocolKind::LibsqlGrpc;
  }
  return ProtocolKind::Turso;
}

}  // namespace ecto_libsql::replica
