// Frames as libSQL's protocols carry them, grouped into committed transactions.
//
// * libSQL HTTP sync (`GET /sync/...`, `POST /sync/...`): SQLite WAL frames, a 24-byte
//   big-endian header {page number, database size after commit (0 inside a transaction),
//   salt-1, salt-2, checksum-1, checksum-2} and the page.
// * libSQL gRPC replication log (`Frames`, `Snapshot`): a 24-byte little-endian header
//   {frame_no u64, rolling checksum u64, page number u32, size after u32} and the page.
//
// A transaction ends with the frame whose size-after is not 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replica/page_set.hpp"

namespace ecto_libsql::replica {

inline constexpr std::size_t kFrameHeaderSize = 24;
inline constexpr std::size_t kFrameSize = kFrameHeaderSize + kPageSize;

struct WalFrameView {
  std::uint32_t page_no = 0;
  std::uint32_t size_after = 0;  // != 0: commit frame
  std::string_view page;
};

// Splits a pull reply of the HTTP sync protocol into frames. Throws Error(SQLITE_PROTOCOL)
// when its length is not a positive multiple of kFrameSize or a page number is 0.
std::vector<WalFrameView> split_wal_frames(std::string_view body);

struct LogFrameView {
  std::uint64_t frame_no = 0;
  std::uint32_t page_no = 0;
  std::uint32_t size_after = 0;
  std::string_view page;
};

// One frame of the gRPC replication log (`Frame.data`). Throws Error(SQLITE_PROTOCOL).
LogFrameView parse_log_frame(std::string_view data);

// Collects frames into committed transactions: a transaction's pages join the committed set
// only with its commit frame, so the set always holds whole transactions.
class TransactionAssembler {
 public:
  // Keeps `bytes` alive for the frames that point into it.
  void hold(std::shared_ptr<const std::string> bytes) { buffers_.push_back(std::move(bytes)); }
  // Adds a frame; answers true when it committed a transaction.
  bool add(std::uint32_t page_no, std::string_view page, std::uint32_t size_after);
  [[nodiscard]] bool has_committed() const noexcept { return committed_.committed(); }
  [[nodiscard]] bool in_transaction() const noexcept { return !pending_.empty(); }
  [[nodiscard]] std::size_t committed_bytes() const noexcept { return committed_.bytes(); }
  // The committed transactions as one finished set; frames of an unfinished transaction stay.
  PageSet take_committed();
  // Forgets an unfinished transaction (its frames will be fetched again).
  void drop_pending() noexcept { pending_.clear(); }

 private:
  std::vector<std::pair<std::uint32_t, std::string_view>> pending_;
  PageSet committed_;
  std::vector<std::shared_ptr<const std::string>> buffers_;
};

// Encodes `pages` (page number, content) as WAL frames for a push: one transaction, the last
// frame its commit frame carrying `db_size`. Checksums are chained as in a WAL file written on
// a little-endian machine, from a WAL header with the given salts.
std::string encode_wal_frames(const std::vector<std::pair<std::uint32_t, std::string_view>>& pages,
                              std::uint32_t db_size, std::uint32_t salt1, std::uint32_t salt2);

}  // namespace ecto_libsql::replica
