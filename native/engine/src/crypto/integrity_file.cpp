#include "crypto/integrity_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace ecto_libsql::crypto {
namespace {

// Header (64 bytes): magic, version, valid flag, change counter, page size, key check.
// Entries (32 bytes per page, page 1 first): nonce (12), GCM tag (16), zero (4).
constexpr std::array<std::uint8_t, 16> kMagic = {'e', 'c', 't', 'o', '_', 'l', 'i', 'b',
                                                 's', 'q', 'l', '-', 't', 'a', 'g', 's'};
constexpr std::uint32_t kVersion = 1;
constexpr off_t kHeaderSize = 64;
constexpr off_t kEntrySize = 32;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::uint32_t kBlockEntries = 128;
constexpr std::size_t kBlockSize = kBlockEntries * kEntrySize;

void put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

off_t entry_offset(std::uint32_t pgno) {
  return kHeaderSize + static_cast<off_t>(pgno - 1) * kEntrySize;
}

// Moves up to `size` bytes at `offset` with `op` (pread or pwrite), resuming after a signal
// or a short transfer; answers how many moved (fewer at the end of the file or on an error).
template <typename Byte, typename Op>
std::size_t transfer(Byte* bytes, std::size_t size, off_t offset, Op op) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = op(bytes + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

std::size_t read_up_to(int fd, void* out, std::size_t size, off_t offset) {
  return transfer(static_cast<std::uint8_t*>(out), size, offset,
                  [fd](std::uint8_t* p, std::size_t n, off_t at) { return ::pread(fd, p, n, at); });
}

bool read_all(int fd, void* out, std::size_t size, off_t offset) {
  return read_up_to(fd, out, size, offset) == size;
}

bool write_all(int fd, const void* data, std::size_t size, off_t offset) {
  const auto write = [fd](const std::uint8_t* p, std::size_t n, off_t at) {
    return ::pwrite(fd, p, n, at);
  };
  return transfer(static_cast<const std::uint8_t*>(data), size, offset, write) == size;
}

const EVP_CIPHER* gcm_cipher() {
  struct Fetched {
    EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    ~Fetched() { EVP_CIPHER_free(cipher); }
  };
  static const Fetched fetched;
  return fetched.cipher;
}

}  // namespace

std::unique_ptr<IntegrityFile> IntegrityFile::open(const std::string& database,
                                                   const std::array<std::uint8_t, kKeySize>& key,
                                                   bool read_only, bool new_database) noexcept {
  try {
    std::string path = database + "-integrity";
    const int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0 && (errno != ENOENT || read_only)) return nullptr;
    auto file = std::make_unique<IntegrityFile>(std::move(path), fd, read_only, new_database);
    struct stat st {};
    if (::stat(database.c_str(), &st) == 0) file->mode_ = st.st_mode & 0777;
    file->gcm_.reset(EVP_CIPHER_CTX_new());
    if (!file->gcm_ || gcm_cipher() == nullptr ||
        EVP_EncryptInit_ex2(file->gcm_.get(), gcm_cipher(), key.data(), nullptr, nullptr) != 1 ||
        RAND_bytes(file->nonce_prefix_.data(), static_cast<int>(file->nonce_prefix_.size())) != 1) {
      return nullptr;
    }
    // Tells a tag file made with another key apart: the tag of the magic under a zero nonce,
    // which entries never use (their counter starts at 1).
    const std::array<std::uint8_t, kNonceSize> zero{};
    if (!file->tag(zero.data(), 0, kMagic.data(), kMagic.size(), file->key_check_.data())) {
      return nullptr;
    }
    return file;
  } catch (...) {
    return nullptr;
  }
}

IntegrityFile::~IntegrityFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool IntegrityFile::create() noexcept {
  if (fd_ >= 0) return true;
  if (read_only_) return false;
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, mode_);
  return fd_ >= 0;
}

bool IntegrityFile::tag(const std::uint8_t* nonce, std::uint32_t pgno, const std::uint8_t* data,
                        std::size_t size, std::uint8_t* out) noexcept {
  EVP_CIPHER_CTX* ctx = gcm_.get();
  const std::array<std::uint8_t, 4> le = {
      static_cast<std::uint8_t>(pgno), static_cast<std::uint8_t>(pgno >> 8),
      static_cast<std::uint8_t>(pgno >> 16), static_cast<std::uint8_t>(pgno >> 24)};
  std::array<std::uint8_t, 16> none{};
  int length = 0;
  // GMAC: the page number and the ciphertext are authenticated data, nothing is encrypted.
  return EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) == 1 &&
         EVP_EncryptUpdate(ctx, nullptr, &length, le.data(), static_cast<int>(le.size())) == 1 &&
         EVP_EncryptUpdate(ctx, nullptr, &length, data, static_cast<int>(size)) == 1 &&
         EVP_EncryptFinal_ex(ctx, none.data(), &length) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), out) == 1;
}

IntegrityFile::Header IntegrityFile::read_header() noexcept {
  std::array<std::uint8_t, kHeaderSize> raw{};
  Header header;
  if (fd_ < 0 || !read_all(fd_, raw.data(), raw.size(), 0)) return header;
  header.valid = std::memcmp(raw.data(), kMagic.data(), kMagic.size()) == 0 &&
                 get32(raw.data() + 16) == kVersion && get32(raw.data() + 20) == 1 &&
                 CRYPTO_memcmp(raw.data() + 32, key_check_.data(), key_check_.size()) == 0;
  header.change_counter = get32(raw.data() + 24);
  header.page_size = static_cast<int>(get32(raw.data() + 28));
  return header;
}

bool IntegrityFile::write_header(bool valid, std::uint32_t change_counter, int page_size) noexcept {
  if (!create()) return false;
  std::array<std::uint8_t, kHeaderSize> raw{};
  std::memcpy(raw.data(), kMagic.data(), kMagic.size());
  put32(raw.data() + 16, kVersion);
  put32(raw.data() + 20, valid ? 1 : 0);
  put32(raw.data() + 24, change_counter);
  put32(raw.data() + 28, static_cast<std::uint32_t>(page_size));
  std::memcpy(raw.data() + 32, key_check_.data(), key_check_.size());
  dirty_ = true;
  return write_all(fd_, raw.data(), raw.size(), 0);
}

void IntegrityFile::distrust() noexcept {
  trust_ = Trust::Untrusted;
  forget_entries();
  // Other connections must not trust the stale tags either, until a rebuild.
  if (!read_only_ && fd_ >= 0) write_header(false, 0, 0);
}

void IntegrityFile::page_one_read(std::uint32_t change_counter, int page_size) noexcept {
  if (trust_ == Trust::Untrusted) return;
  if (trust_ == Trust::Trusted && change_counter == checked_counter_ && page_size == page_size_) {
    return;
  }
  forget_entries();  // another connection committed: its entries replaced some of ours
  const Header header = read_header();
  if (header.valid && header.change_counter == change_counter && header.page_size == page_size) {
    trust_ = Trust::Trusted;
    checked_counter_ = change_counter;
    page_size_ = page_size;
  } else {
    distrust();
  }
}

bool IntegrityFile::verify(std::uint32_t pgno, const std::uint8_t* ciphertext,
                           std::size_t size) noexcept {
  if (trust_ != Trust::Trusted || static_cast<int>(size) != page_size_) return true;
  std::array<std::uint8_t, kTagSize> expected{};
  // In a trusted file every page of the database has its entry: a missing one (all zero) is a
  // failure.
  const std::uint8_t* entry = cached_entry(pgno);
  if (entry == nullptr || !tag(entry, pgno, ciphertext, size, expected.data())) return false;
  return CRYPTO_memcmp(expected.data(), entry + kNonceSize, kTagSize) == 0;
}

const std::uint8_t* IntegrityFile::cached_entry(std::uint32_t pgno) noexcept {
  const std::size_t block = (pgno - 1) / kBlockEntries;
  try {
    if (blocks_.size() <= block) blocks_.resize(block + 1);
    std::vector<std::uint8_t>& entries = blocks_[block];
    if (entries.empty()) {
      entries.assign(kBlockSize, 0);
      const off_t at = entry_offset(static_cast<std::uint32_t>(block * kBlockEntries + 1));
      read_up_to(fd_, entries.data(), kBlockSize, at);  // past the end: entries stay zero
    }
    return entries.data() + ((pgno - 1) % kBlockEntries) * kEntrySize;
  } catch (...) {
    return nullptr;
  }
}

void IntegrityFile::cache_entry(std::uint32_t pgno, const std::uint8_t* entry) noexcept {
  const std::size_t block = (pgno - 1) / kBlockEntries;
  if (block < blocks_.size() && !blocks_[block].empty()) {
    std::memcpy(blocks_[block].data() + ((pgno - 1) % kBlockEntries) * kEntrySize, entry,
                kEntrySize);
  }
}

bool IntegrityFile::write_entry(std::uint32_t pgno, const std::uint8_t* ciphertext,
                                std::size_t size) noexcept {
  std::array<std::uint8_t, kEntrySize> entry{};
  if (!create()) return false;
  if (++nonce_counter_ == 0 &&
      RAND_bytes(nonce_prefix_.data(), static_cast<int>(nonce_prefix_.size())) != 1) {
    return false;
  }
  std::memcpy(entry.data(), nonce_prefix_.data(), nonce_prefix_.size());
  put32(entry.data() + nonce_prefix_.size(), nonce_counter_);
  if (!tag(entry.data(), pgno, ciphertext, size, entry.data() + kNonceSize)) return false;
  dirty_ = true;
  if (!write_all(fd_, entry.data(), entry.size(), entry_offset(pgno))) return false;
  cache_entry(pgno, entry.data());
  return true;
}

void IntegrityFile::record(std::uint32_t pgno, const std::uint8_t* ciphertext,
                           std::size_t size) noexcept {
  if (read_only_ || trust_ == Trust::Untrusted) return;
  if (trust_ == Trust::Unchecked && new_database_) {
    // The first write to a database that was empty: this connection creates it (anyone else
    // creating it first would have made this connection read page 1). Tags of an older file
    // by that name go.
    new_database_ = false;
    forget_entries();
    if (!create() || ::ftruncate(fd_, 0) != 0) {
      distrust();
      return;
    }
    trust_ = Trust::Trusted;
    page_size_ = static_cast<int>(size);
  }
  // Still unchecked: a hot journal played back before anything was read (page_one_written).
  if (!write_entry(pgno, ciphertext, size)) distrust();
}

void IntegrityFile::page_one_written(std::uint32_t change_counter, int page_size) noexcept {
  if (read_only_ || trust_ == Trust::Untrusted) return;
  if (trust_ == Trust::Unchecked) {
    // The tags stay valid only if they matched the database as the crash left it.
    const Header header = read_header();
    if (!header.valid || !opened_counter_known_ || header.change_counter != opened_counter_) {
      distrust();
      return;
    }
    opened_counter_ = change_counter;
  } else {
    checked_counter_ = change_counter;
    page_size_ = page_size;
  }
  if (!write_header(true, change_counter, page_size)) distrust();
}

void IntegrityFile::truncate(std::int64_t pages) noexcept {
  if (read_only_ || trust_ == Trust::Untrusted || fd_ < 0) return;
  forget_entries();
  if (::ftruncate(fd_, kHeaderSize + pages * kEntrySize) != 0) distrust();
}

int IntegrityFile::sync(int flags) noexcept {
  if (!dirty_ || read_only_ || fd_ < 0) return SQLITE_OK;
  dirty_ = false;
  const int rc = (flags & SQLITE_SYNC_DATAONLY) != 0 ? ::fdatasync(fd_) : ::fsync(fd_);
  return rc == 0 ? SQLITE_OK : SQLITE_IOERR_FSYNC;
}

bool IntegrityFile::rebuild(sqlite3_file* database, int page_size,
                            std::uint32_t change_counter) noexcept {
  if (read_only_) return false;
  try {
    sqlite3_int64 size = 0;
    if (database->pMethods->xFileSize(database, &size) != SQLITE_OK) return false;
    const auto pages = static_cast<std::uint32_t>(size / page_size);
    if (!write_header(false, 0, 0) || ::ftruncate(fd_, kHeaderSize) != 0) {
      distrust();
      return false;
    }
    std::vector<std::uint8_t> page(static_cast<std::size_t>(page_size));
    trust_ = Trust::Unchecked;
    forget_entries();
    for (std::uint32_t pgno = 1; pgno <= pages; ++pgno) {
      if (database->pMethods->xRead(database, page.data(), page_size,
                                    static_cast<sqlite3_int64>(pgno - 1) * page_size) !=
              SQLITE_OK ||
          !write_entry(pgno, page.data(), page.size())) {
        distrust();
        return false;
      }
    }
    if (!write_header(true, change_counter, page_size) || sync(0) != SQLITE_OK) {
      distrust();
      return false;
    }
    trust_ = Trust::Trusted;
    checked_counter_ = change_counter;
    page_size_ = page_size;
    return true;
  } catch (...) {
    distrust();
    return false;
  }
}

}  // namespace ecto_libsql::crypto
