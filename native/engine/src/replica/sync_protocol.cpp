#include "replica/sync_protocol.hpp"

#include <memory>
#include <optional>

#include "ecto_libsql/error.hpp"
#include "replica/protobuf.hpp"

namespace ecto_libsql::replica {
namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw Error(kCodeProtocol, "sync server sent a malformed pull reply: " + what);
}

const proto::FailFn kMalformed = [](const std::string& what) { malformed(what); };

}  // namespace

std::string encode_pull_request(const std::string& client_revision) {
  std::string out;
  if (client_revision.empty()) return out;
  proto::put_bytes(out, 3, client_revision);
  return out;
}

PullReply decode_pull_reply(std::string body_bytes) {
  auto owned = std::make_shared<const std::string>(std::move(body_bytes));
  const std::string_view body = *owned;
  proto::Reader messages(body, &kMalformed);
  if (messages.done()) malformed("empty reply");
  PullReply reply;
  reply.pages.hold(owned);
  std::uint64_t db_size = 0;
  bool header = true;
  while (!messages.done()) {
    proto::Reader msg(messages.delimited(), &kMalformed);
    if (header) {
      bool zstd = false;
      while (!msg.done()) {
        const std::uint64_t tag = msg.varint();
        const std::uint64_t field = tag >> 3;
        if (field == 1 && (tag & 7) == 2) {
          reply.server_revision = std::string(msg.delimited());
        } else if (field == 2 && (tag & 7) == 0) {
          db_size = msg.varint();
        } else if (field == 4) {
          zstd = true;
          msg.skip(tag & 7);
        } else {
          msg.skip(tag & 7);
        }
      }
      if (zstd) malformed("zstd page encoding is not supported");
      if (reply.server_revision.empty()) malformed("no server revision");
      reply.pages.set_db_size(db_size);
      header = false;
      continue;
    }
    std::uint64_t page_id = 0;
    std::optional<std::string_view> data;
    while (!msg.done()) {
      const std::uint64_t tag = msg.varint();
      const std::uint64_t field = tag >> 3;
      if (field == 1 && (tag & 7) == 0) {
        page_id = msg.varint();
      } else if (field == 2 && (tag & 7) == 2) {
        data = msg.delimited();
      } else {
        msg.skip(tag & 7);
      }
    }
    if (!data || data->size() != kPageSize) malformed("page is not 4096 bytes");
    if (page_id >= db_size) malformed("page beyond the database size");
    reply.pages.put(page_id + 1, *data);
  }
  return reply;
}

}  // namespace ecto_libsql::replica
