// The Turso sync protocol's pull request and reply (tursodb --sync-server, POST /pull-updates):
// protobuf messages, encoded and decoded by hand (only a handful of fields are used).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "replica/page_set.hpp"

namespace ecto_libsql::replica {

// PullUpdatesReqProtoBody with client_revision (field 3) set, or an empty body to bootstrap.
std::string encode_pull_request(const std::string& client_revision);

struct PullReply {
  std::string server_revision;
  PageSet pages;  // 1-based page numbers (the protocol's page ids are 0-based)
};

// Decodes the varint-length-delimited reply: a PullUpdatesRespProtoBody, then PageData
// messages. Throws Error(SQLITE_PROTOCOL) on malformed input, a non-raw encoding or a page
// that is not kPageSize bytes or lies beyond db_size. The pages point into `body`, which the
// reply keeps.
PullReply decode_pull_reply(std::string body);

}  // namespace ecto_libsql::replica
