// What one encrypted database connection shares between its main file and its rollback journal:
// the cipher with the derived key, the page size, and what the first read of page 1 found.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "crypto/integrity_file.hpp"
#include "crypto/page_cipher.hpp"

namespace ecto_libsql::crypto {

enum class HeaderState {
  Unread,   // page 1 not read yet (a new or empty file)
  Valid,    // page 1 decrypted to its plaintext header copy
  Invalid,  // it did not: wrong key, not an encrypted database, or a torn page 1
};

struct EncryptedDb {
  explicit EncryptedDb(std::string_view passphrase) : cipher(passphrase) {}

  PageCipher cipher;
  int page_size = 0;  // 0 until learnt from the header or the first write of page 1
  // Set once page 1, or the hot journal's copy of it, decrypted correctly: the key is right.
  bool key_verified = false;
  HeaderState header = HeaderState::Unread;
  bool plain_header = false;          // page 1 starts with "SQLite format 3": a plain database
  bool wal_header = false;            // header bytes 18-19 say the database is in WAL mode
  std::vector<std::uint8_t> scratch;  // page-sized work buffer (one thread at a time)
  std::uint32_t change_counter = 0;   // page 1's, as last read
  // The start of page 1 as last read and decrypted: SQLite reads bytes 24..39 at the start of
  // every transaction to see whether the file changed, which needs no decryption when the
  // ciphertext is the same.
  static constexpr std::size_t kHeadSize = 112;
  std::array<std::uint8_t, kHeadSize> head_raw{};
  std::array<std::uint8_t, kHeadSize> head_plain{};
  std::size_t head_size = 0;
  // While the main file is open: its page tags (null when they cannot be kept) and the file of
  // the default VFS under it.
  std::unique_ptr<IntegrityFile> integrity;
  sqlite3_file* real_main = nullptr;

  std::uint8_t* scratch_for(std::size_t size) {
    if (scratch.size() < size) scratch.resize(size);
    return scratch.data();
  }
};

// A SQLite page size: a power of two from 512 to 65536.
constexpr bool valid_page_size(std::int64_t size) {
  return size >= 512 && size <= 65536 && (size & (size - 1)) == 0;
}

// The page size stored big-endian in header bytes 16-17 (1 means 65536), or 0 when the header
// bytes 16..23 cannot belong to a SQLite database (payload fractions 64/32/32, versions 1-2).
constexpr int header_page_size(const std::uint8_t* header16) {
  const int raw = (header16[0] << 8) | header16[1];
  const int size = raw == 1 ? 65536 : raw;
  if (!valid_page_size(size)) return 0;
  if (header16[2] < 1 || header16[2] > 2 || header16[3] < 1 || header16[3] > 2) return 0;
  if (header16[5] != 64 || header16[6] != 32 || header16[7] != 32) return 0;
  return size;
}

}  // namespace ecto_libsql::crypto
