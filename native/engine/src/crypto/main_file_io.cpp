// Reads and writes of an encrypted main database file. SQLite reads and writes whole pages,
// except the header reads inside page 1 (100 bytes at 0 when opening, 16 bytes at 24 to see
// whether the file changed); those decrypt only the prefix of page 1 they need.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "crypto/file_state.hpp"

namespace ecto_libsql::crypto {
namespace {

constexpr std::array<std::uint8_t, 16> kMagic = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                                 'o', 'r', 'm', 'a', 't', ' ', '3', 0};
constexpr sqlite3_int64 kHeaderProbe = 100;  // the header read SQLite makes when it opens a file

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Whole pages read from the file are checked against their tags before they are decrypted.
bool verified(FileState& file, std::uint32_t pgno, const std::uint8_t* ciphertext, int size) {
  IntegrityFile* tags = file.db->integrity.get();
  return tags == nullptr || tags->verify(pgno, ciphertext, static_cast<std::size_t>(size));
}

int raw_read(FileState& file, void* out, sqlite3_int64 amount, sqlite3_int64 offset) {
  return file.real->pMethods->xRead(file.real, out, static_cast<int>(amount), offset);
}

sqlite3_int64 raw_size(FileState& file) {
  sqlite3_int64 size = 0;
  if (file.real->pMethods->xFileSize(file.real, &size) != SQLITE_OK) return -1;
  return size;
}

// Whole pages after page 1, the common case: decrypted in the caller's buffer.
int read_pages(FileState& file, std::uint8_t* out, int amount, sqlite3_int64 offset,
               int page_size) {
  int rc = raw_read(file, out, amount, offset);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
  sqlite3_int64 available = amount;
  if (rc == SQLITE_IOERR_SHORT_READ) {
    available = std::clamp<sqlite3_int64>(raw_size(file) - offset, 0, amount);
  }
  for (sqlite3_int64 done = 0; done < amount; done += page_size) {
    std::uint8_t* page = out + done;
    if (done + page_size > available) {
      std::memset(page, 0, static_cast<std::size_t>(page_size));  // past the end, or torn
      continue;
    }
    const auto pgno = static_cast<std::uint32_t>((offset + done) / page_size + 1);
    if (!verified(file, pgno, page, page_size)) return SQLITE_CORRUPT;
    if (file.db->cipher.decrypt(pgno, page, static_cast<std::size_t>(page_size)) !=
        PageCipher::Result::Ok) {
      return SQLITE_IOERR_READ;
    }
  }
  return rc;
}

// Any other read: page by page through the scratch buffer. Reads touching page 1 check the key.
int read_any(FileState& file, std::uint8_t* out, int amount, sqlite3_int64 offset) {
  EncryptedDb& db = *file.db;
  const sqlite3_int64 end = offset + amount;
  if (end <= static_cast<sqlite3_int64>(EncryptedDb::kHeadSize) && db.head_size > 0) {
    // The start of page 1 again: decrypted already if its ciphertext did not change.
    const auto need = static_cast<std::size_t>(std::max<sqlite3_int64>(48, (end + 15) / 16 * 16));
    std::array<std::uint8_t, EncryptedDb::kHeadSize> head{};
    if (need <= db.head_size && raw_read(file, head.data(), need, 0) == SQLITE_OK &&
        std::memcmp(head.data(), db.head_raw.data(), need) == 0) {
      std::memcpy(out, db.head_plain.data() + offset, static_cast<std::size_t>(amount));
      return SQLITE_OK;
    }
  }
  std::array<std::uint8_t, 24> raw{};
  int rc = raw_read(file, raw.data(), raw.size(), 0);
  if (rc == SQLITE_IOERR_SHORT_READ) {
    if (raw_size(file) != 0) return SQLITE_NOTADB;  // too short to be a database
    std::memset(out, 0, static_cast<std::size_t>(amount));
    return SQLITE_IOERR_SHORT_READ;  // a new, empty database
  }
  if (rc != SQLITE_OK) return rc;
  const int page_size = header_page_size(raw.data() + 16);
  if (page_size == 0) {
    if (!db.key_verified) db.header = HeaderState::Invalid;
    return SQLITE_NOTADB;
  }
  db.page_size = page_size;
  db.wal_header = raw[18] == 2 || raw[19] == 2;

  int result = SQLITE_OK;
  for (sqlite3_int64 pos = offset; pos < end;) {
    const sqlite3_int64 pgno = pos / page_size + 1;
    const sqlite3_int64 start = (pgno - 1) * page_size;
    const sqlite3_int64 slice_end = std::min(end, start + page_size);
    sqlite3_int64 need = (slice_end - start + 15) / 16 * 16;
    if (pgno == 1) need = std::max<sqlite3_int64>(need, 32);
    std::uint8_t* page = db.scratch_for(static_cast<std::size_t>(page_size));
    std::uint8_t* dest = out + (pos - offset);
    const auto length = static_cast<std::size_t>(slice_end - pos);
    rc = raw_read(file, page, need, start);
    if (rc == SQLITE_IOERR_SHORT_READ) {
      std::memset(dest, 0, length);
      result = rc;
      pos = slice_end;
      continue;
    }
    if (rc != SQLITE_OK) return rc;
    const bool plain = pgno == 1 && std::memcmp(page, kMagic.data(), kMagic.size()) == 0;
    const bool whole = need == page_size;
    // The header read made while opening holds no lock: it cannot judge the tags.
    const bool open_probe = offset == 0 && amount == kHeaderProbe;
    if (pgno == 1 && whole && db.integrity && !open_probe) {
      // Whether the tags still describe the database decides how page 1 itself is checked:
      // read its change counter first.
      std::array<std::uint8_t, 48> head{};
      std::memcpy(head.data(), page, head.size());
      if (db.cipher.decrypt(1, head.data(), head.size()) == PageCipher::Result::Ok) {
        db.integrity->page_one_read(big_endian32(head.data() + 24), page_size);
      }
    }
    if (whole && !verified(file, static_cast<std::uint32_t>(pgno), page, page_size)) {
      return SQLITE_CORRUPT;
    }
    std::array<std::uint8_t, EncryptedDb::kHeadSize> head{};
    const std::size_t head_size = std::min<std::size_t>(head.size(), need);
    if (pgno == 1) std::memcpy(head.data(), page, head_size);
    const PageCipher::Result decrypted =
        db.cipher.decrypt(static_cast<std::uint32_t>(pgno), page, static_cast<std::size_t>(need));
    if (decrypted == PageCipher::Result::Failed) return SQLITE_IOERR_READ;
    if (pgno == 1 && decrypted == PageCipher::Result::Ok) {
      db.key_verified = true;
      db.header = HeaderState::Valid;
      db.change_counter = big_endian32(page + 24);
      db.head_raw = head;
      std::memcpy(db.head_plain.data(), page, head_size);
      db.head_size = head_size;
      if (db.integrity && open_probe) db.integrity->opened_at(db.change_counter);
      if (db.integrity && !open_probe && !whole) {
        db.integrity->page_one_read(db.change_counter, page_size);
      }
    } else if (pgno == 1) {
      if (db.key_verified) return SQLITE_NOTADB;  // changed under us: rekeyed or damaged
      db.header = HeaderState::Invalid;
      db.plain_header = plain;
      // The header read made while opening does not fail yet: page 1 may be torn by a crash and
      // about to be restored from the hot journal, which is checked against the key before it
      // is played back (journal_io.cpp). Answer the plaintext header bytes only.
      if (offset != 0 || amount > kHeaderProbe) return SQLITE_NOTADB;
      std::memset(page, 0, static_cast<std::size_t>(need));
      std::memcpy(page, kMagic.data(), kMagic.size());
      std::memcpy(page + 16, raw.data() + 16, 8);
    }
    std::memcpy(dest, page + (pos - start), length);
    pos = slice_end;
  }
  return result;
}

}  // namespace

int main_read(FileState& file, std::uint8_t* out, int amount, sqlite3_int64 offset) noexcept {
  const int page_size = file.db->page_size;
  if (page_size > 0 && offset >= page_size && offset % page_size == 0 && amount % page_size == 0) {
    return read_pages(file, out, amount, offset, page_size);
  }
  return read_any(file, out, amount, offset);
}

int main_write(FileState& file, const std::uint8_t* data, int amount,
               sqlite3_int64 offset) noexcept {
  EncryptedDb& db = *file.db;
  std::vector<std::uint8_t> page1;
  if (offset == 0 && amount >= 24) {
    const int size = header_page_size(data + 16);
    // Page 1 always comes whole: a header declaring another size means a copy between page sizes
    // (VACUUM or backup into a non-empty database), whose pages cannot be encrypted one by one.
    if (size != 0 && size != amount) return SQLITE_IOERR_WRITE;
    if (size != 0) db.page_size = size;
    // Encrypted databases always use a rollback journal: a page 1 copied from a WAL database
    // (by the backup API) is written with the rollback-journal version numbers.
    if (data[18] == 2 || data[19] == 2) {
      try {
        page1.assign(data, data + amount);
      } catch (...) {
        return SQLITE_NOMEM;
      }
      page1[18] = 1;
      page1[19] = 1;
      data = page1.data();
    }
  }
  int page_size = db.page_size;
  if (page_size == 0 && valid_page_size(amount) && offset % amount == 0) {
    page_size = db.page_size = amount;
  }
  // SQLite writes whole pages only; anything else would reach the disk unencrypted.
  if (page_size == 0 || offset % page_size != 0 || amount % page_size != 0) {
    return SQLITE_IOERR_WRITE;
  }
  std::uint8_t* buffer = db.scratch_for(static_cast<std::size_t>(page_size));
  for (sqlite3_int64 done = 0; done < amount; done += page_size) {
    const auto pgno = static_cast<std::uint32_t>((offset + done) / page_size + 1);
    if (!db.cipher.encrypt(pgno, data + done, buffer, static_cast<std::size_t>(page_size))) {
      return SQLITE_IOERR_WRITE;
    }
    const int rc = file.real->pMethods->xWrite(file.real, buffer, page_size, offset + done);
    if (rc != SQLITE_OK) return rc;
    if (db.integrity) db.integrity->record(pgno, buffer, static_cast<std::size_t>(page_size));
    if (pgno == 1) {
      db.key_verified = true;
      db.header = HeaderState::Valid;
      db.change_counter = big_endian32(data + done + 24);
      if (db.integrity) db.integrity->page_one_written(db.change_counter, page_size);
    }
  }
  return SQLITE_OK;
}

}  // namespace ecto_libsql::crypto
