// The Turso sync protocol's pull request and reply (tursodb --sync-server, POST /pull-updates):
// protobuf messages, encoded and decoded by hand (only a handful of fields are used).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ecto_libsql::replica {

inline constexpr std::size_t kPageSize = 4096;

// PullUpdatesReqProtoBody with client_revision (field 3) set, or an empty body to bootstrap.
std::string encode_pull_request(const std::string& client_revision);

struct PulledPage {
  std::uint64_t page_id = 0;  // 0-based
  std::string data;           // kPageSize bytes
};

struct PullReply {
  std::string server_revision;
  std::uint64_t db_size = 0;  // pages
  std::vector<PulledPage> pages;
};

// Decodes the varint-length-delimited reply: a PullUpdatesRespProtoBody, then PageData
// messages. Throws Error(SQLITE_PROTOCOL) on malformed input, a non-raw encoding or a page
// that is not kPageSize bytes or lies beyond db_size.
PullReply decode_pull_reply(std::string_view body);

}  // namespace ecto_libsql::replica
