#include "replica/wal_frames.hpp"

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::replica {
namespace {

std::uint32_t be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

std::uint32_t le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | (std::uint32_t{u[1]} << 8) | (std::uint32_t{u[2]} << 16) |
         (std::uint32_t{u[3]} << 24);
}

std::uint64_t le64(const char* p) {
  return std::uint64_t{le32(p)} | (std::uint64_t{le32(p + 4)} << 32);
}

void put_be32(std::string& out, std::size_t at, std::uint32_t v) {
  out[at] = static_cast<char>(v >> 24);
  out[at + 1] = static_cast<char>(v >> 16);
  out[at + 2] = static_cast<char>(v >> 8);
  out[at + 3] = static_cast<char>(v);
}

// SQLite's walChecksumBytes for native (little-endian) byte order; `n` is a multiple of 8.
void wal_checksum(const char* data, std::size_t n, std::uint32_t& s1, std::uint32_t& s2) {
  for (std::size_t i = 0; i < n; i += 8) {
    s1 += le32(data + i) + s2;
    s2 += le32(data + i + 4) + s1;
  }
}

}  // namespace

std::vector<WalFrameView> split_wal_frames(std::string_view body) {
  if (body.empty() || body.size() % kFrameSize != 0) {
    throw Error(kCodeProtocol, "the server sent " + std::to_string(body.size()) +
                                   " bytes of frames, not a multiple of " +
                                   std::to_string(kFrameSize));
  }
  std::vector<WalFrameView> frames;
  frames.reserve(body.size() / kFrameSize);
  for (std::size_t at = 0; at < body.size(); at += kFrameSize) {
    WalFrameView f;
    f.page_no = be32(body.data() + at);
    f.size_after = be32(body.data() + at + 4);
    f.page = body.substr(at + kFrameHeaderSize, kPageSize);
    if (f.page_no == 0) throw Error(kCodeProtocol, "the server sent a frame for page 0");
    frames.push_back(f);
  }
  return frames;
}

LogFrameView parse_log_frame(std::string_view data) {
  if (data.size() != kFrameSize) {
    throw Error(kCodeProtocol, "the server sent a replication frame of " +
                                   std::to_string(data.size()) + " bytes, not " +
                                   std::to_string(kFrameSize));
  }
  LogFrameView f;
  f.frame_no = le64(data.data());
  f.page_no = le32(data.data() + 16);
  f.size_after = le32(data.data() + 20);
  f.page = data.substr(kFrameHeaderSize);
  if (f.page_no == 0) throw Error(kCodeProtocol, "the server sent a frame for page 0");
  return f;
}

bool TransactionAssembler::add(std::uint32_t page_no, std::string_view page,
                               std::uint32_t size_after) {
  pending_.emplace_back(page_no, page);
  if (size_after == 0) return false;
  for (const auto& [pgno, data] : pending_)
    committed_.put(pgno, data);
  committed_.commit(size_after);
  pending_.clear();
  return true;
}

PageSet TransactionAssembler::take_committed() {
  PageSet out = std::move(committed_);
  committed_ = PageSet();
  for (const auto& b : buffers_)
    out.hold(b);
  if (pending_.empty()) buffers_.clear();
  out.finish();
  return out;
}

std::string encode_wal_frames(const std::vector<std::pair<std::uint32_t, std::string_view>>& pages,
                              std::uint32_t db_size, std::uint32_t salt1, std::uint32_t salt2) {
  // The WAL header's checksum starts the chain (magic 0x377f0682: little-endian checksums).
  std::string header(32, '\0');
  put_be32(header, 0, 0x377f0682);
  put_be32(header, 4, 3007000);
  put_be32(header, 8, static_cast<std::uint32_t>(kPageSize));
  put_be32(header, 12, 0);
  put_be32(header, 16, salt1);
  put_be32(header, 20, salt2);
  std::uint32_t s1 = 0;
  std::uint32_t s2 = 0;
  wal_checksum(header.data(), 24, s1, s2);

  std::string out;
  out.reserve(pages.size() * kFrameSize);
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const auto& [pgno, data] = pages[i];
    const std::size_t at = out.size();
    out.resize(at + kFrameHeaderSize);
    put_be32(out, at, pgno);
    put_be32(out, at + 4, i + 1 == pages.size() ? db_size : 0);
    put_be32(out, at + 8, salt1);
    put_be32(out, at + 12, salt2);
    out.append(data.data(), kPageSize);
    wal_checksum(out.data() + at, 8, s1, s2);
    wal_checksum(out.data() + at + kFrameHeaderSize, kPageSize, s1, s2);
    put_be32(out, at + 16, s1);
    put_be32(out, at + 20, s2);
  }
  return out;
}

}  // namespace ecto_libsql::replica
