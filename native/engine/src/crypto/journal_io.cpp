// Reads and writes of the rollback journal of an encrypted database. SQLite writes each record
// as a 4-byte page number, the page, a 4-byte checksum; the page image is encrypted as that page
// of the database, as SQLite3 Multiple Ciphers does. Journal headers and everything else stay
// plaintext (SQLite reads headers in small pieces, so they must).
#include <array>
#include <cstring>

#include "crypto/file_state.hpp"

namespace ecto_libsql::crypto {
namespace {

constexpr std::array<std::uint8_t, 8> kJournalMagic = {0xd9, 0xd5, 0x05, 0xf9,
                                                       0x20, 0xa1, 0x63, 0xd7};

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

int raw_read(FileState& file, void* out, sqlite3_int64 amount, sqlite3_int64 offset) {
  return file.real->pMethods->xRead(file.real, out, static_cast<int>(amount), offset);
}

bool page_image(const FileState& file, int amount, sqlite3_int64 offset) {
  return file.step == JournalStep::AfterPageNumber && offset == file.page_number_offset + 4 &&
         file.page_number != 0 && valid_page_size(amount);
}

void note_four_bytes(FileState& file, const std::uint8_t* bytes, sqlite3_int64 offset) {
  if (file.step == JournalStep::AfterPage) {
    file.step = JournalStep::Idle;  // the record's checksum
    return;
  }
  file.step = JournalStep::AfterPageNumber;
  file.page_number_offset = offset;
  file.page_number = big_endian32(bytes);
}

// Page 1 of the database did not decrypt with this key when it was opened. Before SQLite plays a
// hot journal back (writing to the database), make sure the key is right: page 1 can only have
// been torn by a crash if it was being written, and then the journal holds its original image,
// which must decrypt to its plaintext header copy. Answers SQLITE_NOTADB, which stops the
// playback before any write, when it does not.
int verify_key(FileState& file) {
  EncryptedDb& db = *file.db;
  sqlite3_int64 size = 0;
  if (file.real->pMethods->xFileSize(file.real, &size) != SQLITE_OK) return SQLITE_IOERR_FSTAT;
  std::array<std::uint8_t, 28> header{};
  if (size < static_cast<sqlite3_int64>(header.size()) ||
      raw_read(file, header.data(), header.size(), 0) != SQLITE_OK ||
      std::memcmp(header.data(), kJournalMagic.data(), kJournalMagic.size()) != 0) {
    return SQLITE_OK;  // SQLite plays nothing back from this journal
  }
  const std::uint32_t original_pages = big_endian32(header.data() + 16);
  const std::uint32_t sector = big_endian32(header.data() + 20);
  const std::uint32_t page_size = big_endian32(header.data() + 24);
  // A journal of a database that was empty only truncates it back to nothing.
  if (original_pages == 0) return SQLITE_OK;
  if (!valid_page_size(page_size) || sector < 32 || sector > 65536 ||
      (sector & (sector - 1)) != 0) {
    return SQLITE_OK;  // SQLite refuses this journal itself
  }
  const sqlite3_int64 record = page_size + 8;
  sqlite3_int64 header_offset = 0;
  while (header_offset + 12 <= size) {
    std::array<std::uint8_t, 12> segment{};
    if (raw_read(file, segment.data(), segment.size(), header_offset) != SQLITE_OK ||
        std::memcmp(segment.data(), kJournalMagic.data(), kJournalMagic.size()) != 0) {
      break;
    }
    sqlite3_int64 records = big_endian32(segment.data() + 8);
    sqlite3_int64 at = header_offset + sector;
    if (records == 0xffffffff) records = (size - at) / record;
    if (records == 0) break;
    for (sqlite3_int64 i = 0; i < records && at + record <= size; ++i, at += record) {
      std::array<std::uint8_t, 4> pgno{};
      if (raw_read(file, pgno.data(), pgno.size(), at) != SQLITE_OK) return SQLITE_IOERR_READ;
      if (big_endian32(pgno.data()) != 1) continue;
      std::uint8_t* page = db.scratch_for(page_size);
      if (raw_read(file, page, page_size, at + 4) != SQLITE_OK) return SQLITE_IOERR_READ;
      if (db.cipher.decrypt(1, page, page_size) != PageCipher::Result::Ok) return SQLITE_NOTADB;
      db.key_verified = true;
      return SQLITE_OK;
    }
    header_offset = (at + sector - 1) / sector * sector;
  }
  return SQLITE_NOTADB;
}

}  // namespace

int journal_read(FileState& file, std::uint8_t* out, int amount, sqlite3_int64 offset) noexcept {
  EncryptedDb& db = *file.db;
  if (!file.journal_checked && !db.key_verified && db.header == HeaderState::Invalid) {
    const int rc = verify_key(file);
    if (rc != SQLITE_OK) return rc;
  }
  file.journal_checked = true;
  const int rc = raw_read(file, out, amount, offset);
  if (rc != SQLITE_OK) {
    file.step = JournalStep::Idle;
    return rc;
  }
  if (amount == 4) {
    note_four_bytes(file, out, offset);
  } else if (page_image(file, amount, offset)) {
    file.step = JournalStep::AfterPage;
    // A page that does not decrypt fails SQLite's record checksum, which ends the playback.
    if (db.cipher.decrypt(file.page_number, out, static_cast<std::size_t>(amount)) ==
        PageCipher::Result::Failed) {
      return SQLITE_IOERR_READ;
    }
  } else {
    file.step = JournalStep::Idle;
  }
  return SQLITE_OK;
}

int journal_write(FileState& file, const std::uint8_t* data, int amount,
                  sqlite3_int64 offset) noexcept {
  if (amount == 4) {
    note_four_bytes(file, data, offset);
  } else if (page_image(file, amount, offset)) {
    file.step = JournalStep::AfterPage;
    std::uint8_t* buffer = file.db->scratch_for(static_cast<std::size_t>(amount));
    if (!file.db->cipher.encrypt(file.page_number, data, buffer,
                                 static_cast<std::size_t>(amount))) {
      return SQLITE_IOERR_WRITE;
    }
    return file.real->pMethods->xWrite(file.real, buffer, amount, offset);
  } else {
    file.step = JournalStep::Idle;
  }
  return file.real->pMethods->xWrite(file.real, data, amount, offset);
}

}  // namespace ecto_libsql::crypto
