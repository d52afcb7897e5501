// Page tags kept next to an encrypted database, in "<database>-integrity": an AES-256-GCM tag
// over each page's ciphertext and number. libSQL's cipher has no MAC, so a changed byte would
// otherwise decrypt to garbage that SQLite often reads as valid data; with the tags it gives
// SQLITE_CORRUPT. libSQL neither reads nor writes this file: when a database changed without it
// (a commit by libSQL), its tags are no longer trusted and are rebuilt by the next connection.
#pragma once

#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ecto_libsql::crypto {

class IntegrityFile {
 public:
  static constexpr std::size_t kKeySize = 32;

  enum class Trust {
    Unchecked,  // not compared with the database yet: nothing is verified
    Trusted,    // tags match the database's last commit: every page read is verified
    Untrusted,  // stale or missing: nothing is verified or recorded until rebuilt
  };

  // Opens the tag file of `database` (created by the first write, never by reads). `new_database`:
  // the database file is empty; if this connection writes it first, the tags start afresh. Answers
  // null when the file cannot be opened (then nothing is verified).
  static std::unique_ptr<IntegrityFile> open(const std::string& database,
                                             const std::array<std::uint8_t, kKeySize>& key,
                                             bool read_only, bool new_database) noexcept;
  ~IntegrityFile();
  IntegrityFile(const IntegrityFile&) = delete;
  IntegrityFile& operator=(const IntegrityFile&) = delete;

  [[nodiscard]] Trust trust() const noexcept { return trust_; }
  [[nodiscard]] bool read_only() const noexcept { return read_only_; }

  // Page 1 was read and decrypted: compares the tag file with the database's change counter and
  // page size. A mismatch means someone changed the database without updating the tags.
  void page_one_read(std::uint32_t change_counter, int page_size) noexcept;
  // The change counter page 1 held when the database was opened (before any hot journal was
  // played back).
  void opened_at(std::uint32_t change_counter) noexcept {
    opened_counter_ = change_counter;
    opened_counter_known_ = true;
  }
  // False when page `pgno` does not match its tag (only checked while trusted).
  [[nodiscard]] bool verify(std::uint32_t pgno, const std::uint8_t* ciphertext,
                            std::size_t size) noexcept;
  // Records the tag of a page just written (while trusted).
  void record(std::uint32_t pgno, const std::uint8_t* ciphertext, std::size_t size) noexcept;
  // Page 1 was written: the tags now describe this commit.
  void page_one_written(std::uint32_t change_counter, int page_size) noexcept;
  void truncate(std::int64_t pages) noexcept;
  int sync(int flags) noexcept;
  // Recomputes every tag from the database file (the caller holds a SHARED lock, so no one
  // writes meanwhile). Answers false when it could not.
  bool rebuild(sqlite3_file* database, int page_size, std::uint32_t change_counter) noexcept;

  // Use open().
  IntegrityFile(std::string path, int fd, bool read_only, bool new_database)
      : path_(std::move(path)), fd_(fd), read_only_(read_only), new_database_(new_database) {}

 private:
  struct Header {
    bool valid = false;
    std::uint32_t change_counter = 0;
    int page_size = 0;
  };
  [[nodiscard]] Header read_header() noexcept;
  bool tag(const std::uint8_t* nonce, std::uint32_t pgno, const std::uint8_t* data,
           std::size_t size, std::uint8_t* out) noexcept;
  bool write_header(bool valid, std::uint32_t change_counter, int page_size) noexcept;
  bool write_entry(std::uint32_t pgno, const std::uint8_t* ciphertext, std::size_t size) noexcept;
  void distrust() noexcept;
  bool create() noexcept;
  // The entry of page `pgno`, from the cache of entry blocks (read on first use).
  const std::uint8_t* cached_entry(std::uint32_t pgno) noexcept;
  void cache_entry(std::uint32_t pgno, const std::uint8_t* entry) noexcept;
  void forget_entries() noexcept { blocks_.clear(); }

  struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
  };

  std::string path_;
  mode_t mode_ = 0644;
  int fd_;  // -1 until the file exists
  bool read_only_;
  bool new_database_;
  bool dirty_ = false;
  std::uint32_t opened_counter_ = 0;
  bool opened_counter_known_ = false;
  Trust trust_ = Trust::Unchecked;
  std::uint32_t checked_counter_ = 0;
  int page_size_ = 0;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> gcm_;
  std::array<std::uint8_t, 16> key_check_{};
  // Entries read so far, by blocks of 128 (4 KiB); valid while the database's change counter
  // stays what this connection last checked (other writers change it with every commit).
  std::vector<std::vector<std::uint8_t>> blocks_;
  // Nonces: a random prefix per connection and a counter, never repeated under one key.
  std::array<std::uint8_t, 8> nonce_prefix_{};
  std::uint32_t nonce_counter_ = 0;
};

}  // namespace ecto_libsql::crypto
