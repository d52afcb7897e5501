// gRPC-web over HTTP/1.1 as libSQL's replicas use it for the replication log
// (`wal_log.ReplicationLog`, libsql-replication/proto/replication_log.proto): a request body is
// one length-prefixed message (flag byte 0, big-endian u32 length); an answer is data frames
// (flag 0) then a trailer frame (flag 0x80) of `name: value` lines carrying grpc-status and
// grpc-message, or a trailers-only answer with those in the HTTP headers. The messages are
// encoded by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote/http_client.hpp"

namespace ecto_libsql::replica::grpc {

// The body of a unary or server-streaming call: one message in a frame.
std::string frame_message(std::string_view message);

struct Answer {
  std::vector<std::string_view> messages;  // into the HTTP body
  int status = -1;                         // grpc-status; -1: none found
  std::string message;                     // grpc-message, percent-decoded
};

// Reads an HTTP answer of status 200 (its headers, and its body, which the messages point
// into). Throws Error(SQLITE_PROTOCOL) on a malformed body.
Answer read_answer(const remote::HttpResponse& response, std::string_view body);
inline Answer read_answer(const remote::HttpResponse& response) {
  return read_answer(response, response.body);
}

// gRPC status codes used by libSQL servers.
inline constexpr int kOk = 0;
inline constexpr int kPermissionDenied = 7;
inline constexpr int kFailedPrecondition = 9;
inline constexpr int kUnauthenticated = 16;

// --- wal_log messages -------------------------------------------------------------------------

// HelloRequest { optional uint64 handshake_version = 1 } (libsql sends 1).
std::string encode_hello_request();

struct HelloResponse {
  std::string generation_id;
  std::uint64_t generation_start_index = 0;
  std::string log_id;
  std::string session_token;
  std::optional<std::uint64_t> current_replication_index;
};
HelloResponse decode_hello_response(std::string_view message);

// LogOffset { uint64 next_offset = 1 } (wal_flavor left out: SQLite frames).
std::string encode_log_offset(std::uint64_t next_offset);

// Frames { repeated Frame frames = 1 } with Frame { bytes data = 1; ... }: the frames' data.
std::vector<std::string_view> decode_frames(std::string_view message);
// One Frame message (a Snapshot stream item): its data.
std::string_view decode_frame(std::string_view message);

// The request headers of a call: x-authorization (not Authorization: the HttpClient must be
// told not to send it), x-namespace-bin, x-libsql-client-version and, after Hello,
// x-session-token.
remote::HttpExtras call_headers(std::string_view host, const std::string& auth_token,
                                const std::string& session_token);

inline constexpr std::string_view kContentType = "application/grpc-web";

// The namespace libsql sends in x-namespace-bin: the host's first label when the host has a
// dot, else "default"; base64 without padding, as tonic encodes binary metadata.
std::string namespace_metadata(std::string_view host);

}  // namespace ecto_libsql::replica::grpc
