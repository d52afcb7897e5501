// The pages one atomic apply writes to a replica file: the latest content of every changed page
// and the database size after them. Filled from a Turso pull reply, or from WAL frames grouped
// into committed transactions (libSQL's protocols), several transactions at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ecto_libsql::replica {

inline constexpr std::size_t kPageSize = 4096;

class PageSet {
 public:
  // Keeps `bytes` alive for the views put() receives into it.
  void hold(std::shared_ptr<const std::string> bytes) { storage_.push_back(std::move(bytes)); }

  // Page `pgno` (1-based) gets `data` (kPageSize bytes, held by this set); a later put wins.
  void put(std::uint64_t pgno, std::string_view data) { pages_[pgno] = data; }

  // A transaction committed with the database `size_after` pages long: pages beyond it are
  // cut; if a later transaction grows the file again, the pages it does not write read as
  // zeros, as they would after applying the transactions one by one.
  void commit(std::uint64_t size_after) {
    pages_.erase(pages_.upper_bound(size_after), pages_.end());
    if (!committed_ || size_after < shrunk_to_) shrunk_to_ = size_after;
    db_size_ = size_after;
    committed_ = true;
  }

  // Sets the size without the cut (a Turso pull reply carries the size and the pages).
  void set_db_size(std::uint64_t db_size) {
    db_size_ = db_size;
    committed_ = true;
    shrunk_to_ = db_size;
  }

  // Adds the zero pages commit() implies. Call once, after the last commit().
  void finish() {
    static const std::string kZero(kPageSize, '\0');
    for (std::uint64_t p = shrunk_to_ + 1; p <= db_size_; ++p) {
      pages_.try_emplace(p, kZero);
    }
    shrunk_to_ = db_size_;
  }

  [[nodiscard]] std::uint64_t db_size() const noexcept { return db_size_; }
  [[nodiscard]] bool committed() const noexcept { return committed_; }
  [[nodiscard]] const std::map<std::uint64_t, std::string_view>& pages() const noexcept {
    return pages_;
  }
  [[nodiscard]] bool empty() const noexcept { return pages_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return pages_.size(); }
  // Bytes of page content referenced (an upper bound of what the set keeps alive).
  [[nodiscard]] std::size_t bytes() const noexcept { return pages_.size() * kPageSize; }

 private:
  std::map<std::uint64_t, std::string_view> pages_;
  std::vector<std::shared_ptr<const std::string>> storage_;
  std::uint64_t db_size_ = 0;
  std::uint64_t shrunk_to_ = 0;
  bool committed_ = false;
};

}  // namespace ecto_libsql::replica
