#include "replica/sync_protocol.hpp"

#include <optional>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::replica {
namespace {

constexpr int kCodeProtocol = 15;  // SQLITE_PROTOCOL

[[noreturn]] void malformed(const std::string& what) {
  throw Error(kCodeProtocol, "sync server sent a malformed pull reply: " + what);
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  [[nodiscard]] bool done() const noexcept { return pos_ >= data_.size(); }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) malformed("truncated varint");
      const auto byte = static_cast<unsigned char>(data_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    malformed("varint too long");
  }

  std::string_view bytes(std::uint64_t n) {
    if (n > data_.size() - pos_) malformed("truncated field");
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  // Skips a field of `wire_type` whose tag was read.
  void skip(std::uint64_t wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        break;
      case 1:
        bytes(8);
        break;
      case 2:
        bytes(varint());
        break;
      case 5:
        bytes(4);
        break;
      default:
        malformed("unknown wire type " + std::to_string(wire_type));
    }
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_pull_request(const std::string& client_revision) {
  std::string out;
  if (client_revision.empty()) return out;
  out.push_back(static_cast<char>((3 << 3) | 2));
  put_varint(out, client_revision.size());
  out += client_revision;
  return out;
}

PullReply decode_pull_reply(std::string_view body) {
  Reader messages(body);
  if (messages.done()) malformed("empty reply");
  PullReply reply;
  bool header = true;
  while (!messages.done()) {
    Reader msg(messages.bytes(messages.varint()));
    if (header) {
      bool zstd = false;
      while (!msg.done()) {
        const std::uint64_t tag = msg.varint();
        const std::uint64_t field = tag >> 3;
        if (field == 1 && (tag & 7) == 2) {
          reply.server_revision = std::string(msg.bytes(msg.varint()));
        } else if (field == 2 && (tag & 7) == 0) {
          reply.db_size = msg.varint();
        } else if (field == 4) {
          zstd = true;
          msg.skip(tag & 7);
        } else {
          msg.skip(tag & 7);
        }
      }
      if (zstd) malformed("zstd page encoding is not supported");
      if (reply.server_revision.empty()) malformed("no server revision");
      header = false;
      continue;
    }
    PulledPage page;
    std::optional<std::string_view> data;
    while (!msg.done()) {
      const std::uint64_t tag = msg.varint();
      const std::uint64_t field = tag >> 3;
      if (field == 1 && (tag & 7) == 0) {
        page.page_id = msg.varint();
      } else if (field == 2 && (tag & 7) == 2) {
        data = msg.bytes(msg.varint());
      } else {
        msg.skip(tag & 7);
      }
    }
    if (!data || data->size() != kPageSize) malformed("page is not 4096 bytes");
    if (page.page_id >= reply.db_size) malformed("page beyond the database size");
    page.data = std::string(*data);
    reply.pages.push_back(std::move(page));
  }
  return reply;
}

}  // namespace ecto_libsql::replica
