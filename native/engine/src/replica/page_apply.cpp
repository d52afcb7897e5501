#include "replica/page_apply.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "crypto/vfs.hpp"
#include "ecto_libsql/error.hpp"

namespace ecto_libsql::replica {
namespace {

std::function<void(ApplyStep)>& fault_hook() {
  static std::function<void(ApplyStep)> hook;
  return hook;
}

void reached(ApplyStep step) {
  if (fault_hook()) fault_hook()(step);
}

constexpr std::array<unsigned char, 8> kJournalMagic = {0xd9, 0xd5, 0x05, 0xf9,
                                                        0x20, 0xa1, 0x63, 0xd7};
constexpr std::uint32_t kJournalSector = 4096;
// The spare journal (kSpareJournalSuffix) is kept up to this size.
constexpr sqlite3_int64 kSpareJournalLimit = sqlite3_int64{16} << 20;

void put_be32(unsigned char* out, std::uint32_t v) {
  out[0] = static_cast<unsigned char>(v >> 24);
  out[1] = static_cast<unsigned char>(v >> 16);
  out[2] = static_cast<unsigned char>(v >> 8);
  out[3] = static_cast<unsigned char>(v);
}

std::uint32_t get_be32(const unsigned char* in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) |
         std::uint32_t{in[3]};
}

void check(int rc, const char* what) {
  if (rc != SQLITE_OK) {
    throw Error(
        rc, std::string("sync: cannot apply pulled pages (") + what + "): " + sqlite3_errstr(rc));
  }
}

// A file opened through a VFS (the journal). `name` is SQLite's own name for it
// (sqlite3_filename_journal), through which the encryption VFS finds the database's key.
class VfsFile {
 public:
  VfsFile(sqlite3_vfs* vfs, const char* name) : vfs_(vfs), name_(name) {
    storage_ = std::make_unique<unsigned char[]>(static_cast<std::size_t>(vfs_->szOsFile));
    file_ = reinterpret_cast<sqlite3_file*>(storage_.get());
    int out = 0;
    check(vfs_->xOpen(vfs_, name_, file_,
                      SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE, &out),
          "open journal");
    open_ = true;
  }
  ~VfsFile() { close(); }
  VfsFile(const VfsFile&) = delete;
  VfsFile& operator=(const VfsFile&) = delete;
  sqlite3_file* get() const noexcept { return file_; }
  // Closes and deletes the file, without syncing its directory.
  void remove() {
    close();
    check(vfs_->xDelete(vfs_, name_, 0), "delete journal");
  }
  void close() noexcept {
    if (open_) file_->pMethods->xClose(file_);
    open_ = false;
  }

 private:
  sqlite3_vfs* vfs_;
  const char* name_;
  std::unique_ptr<unsigned char[]> storage_;
  sqlite3_file* file_ = nullptr;
  bool open_ = false;
};

}  // namespace

void DbCloser::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

DbHandle open_private(const std::string& database, std::optional<std::string_view> key) {
  constexpr int kFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  sqlite3* raw = nullptr;
  int rc = SQLITE_OK;
  std::shared_ptr<crypto::EncryptedDb> encrypted;
  if (key) {
    encrypted = std::make_shared<crypto::EncryptedDb>(*key);
    const crypto::PendingOpen pending(encrypted);
    rc = sqlite3_open_v2(database.c_str(), &raw, kFlags, crypto::vfs_name());
  } else {
    rc = sqlite3_open_v2(database.c_str(), &raw, kFlags, nullptr);
  }
  DbHandle db(raw);
  check(rc, "open");
  if (encrypted && crypto::encrypted_main(db.get()) != encrypted) {
    throw Error(kCodeCantOpen, "sync: cannot open the replica file through the encryption");
  }
  if (key) sqlite3_exec(db.get(), "PRAGMA temp_store = MEMORY", nullptr, nullptr, nullptr);
  return db;
}

void attach_private(sqlite3* db, const std::string& path, const std::string& name,
                    std::optional<std::string_view> key) {
  const std::string sql = "ATTACH DATABASE ?1 AS \"" + name + "\"";
  sqlite3_stmt* raw = nullptr;
  check(sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr), "attach");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  sqlite3_bind_text(raw, 1, path.c_str(), -1, SQLITE_TRANSIENT);
  int rc = SQLITE_OK;
  if (key) {
    const crypto::PendingOpen pending(std::make_shared<crypto::EncryptedDb>(*key));
    rc = sqlite3_step(raw);
  } else {
    rc = sqlite3_step(raw);
  }
  if (rc != SQLITE_DONE) {
    throw Error(sqlite3_extended_errcode(db),
                "sync: cannot attach " + path + ": " + sqlite3_errmsg(db));
  }
}

namespace {

void write_at(sqlite3_file* f, const void* data, std::size_t n, std::int64_t offset,
              const char* what) {
  check(f->pMethods->xWrite(f, data, static_cast<int>(n), offset), what);
}

std::string read_page(sqlite3_file* f, std::uint64_t pgno) {
  std::string page(kPageSize, '\0');
  const int rc = f->pMethods->xRead(f, page.data(), static_cast<int>(kPageSize),
                                    static_cast<std::int64_t>((pgno - 1) * kPageSize));
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) check(rc, "read page");
  return page;
}

// Rolls a journal left by a failed apply back at once (any read does it).
void roll_back_now(const std::string& database, std::optional<std::string_view> key) noexcept {
  try {
    DbHandle db = open_private(database, key);
    sqlite3_busy_timeout(db.get(), 5000);
    sqlite3_exec(db.get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  } catch (...) {
    // The journal stays hot: the next connection to open the file rolls it back.
  }
}

void localise_header(std::string& first, std::uint32_t counter, std::uint64_t db_size);

void apply_locked(sqlite3* db, const PageSet& reply, bool encrypted) {
  sqlite3_file* file = nullptr;
  check(sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file), "file pointer");
  sqlite3_vfs* vfs = nullptr;
  check(sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs), "vfs pointer");
  sqlite3_int64 size = 0;
  check(file->pMethods->xFileSize(file, &size), "file size");
  if (size % static_cast<sqlite3_int64>(kPageSize) != 0) {
    throw Error(kCodeNotADb, "sync: the replica file's size is not a multiple of 4096 bytes");
  }
  const auto old_pages = static_cast<std::uint64_t>(size) / kPageSize;

  // New content by 1-based page number.
  std::map<std::uint64_t, std::string_view> pages = reply.pages();
  std::string old_first = old_pages > 0 ? read_page(file, 1) : std::string();
  if (old_pages > 0) {
    const auto* h = reinterpret_cast<const unsigned char*>(old_first.data());
    if (((h[16] << 8) | h[17]) != 4096) {
      throw Error(kCodeNotADb, "sync: the replica file does not use 4096-byte pages");
    }
  }
  std::string first = pages.count(1) ? std::string(pages[1]) : old_first;
  if (first.empty() || reply.db_size() == 0) {
    throw Error(kCodeProtocol, "sync: the server's reply has no database header page");
  }
  localise_header(first,
                  old_pages > 0
                      ? get_be32(reinterpret_cast<const unsigned char*>(old_first.data()) + 24) + 1
                      : 1,
                  reply.db_size());
  pages[1] = first;
  reached(ApplyStep::Locked);

  // Hot journal: the original content of every existing page about to change. The file of the
  // last pull's journal is reused (its blocks are allocated already): it waits under another
  // name, which SQLite does not look at, and takes the journal's name now. Under the exclusive
  // lock, a file already under that name is nobody's hot journal (taking the lock played any
  // back), so it may be replaced.
  const char* journal_name = sqlite3_filename_journal(sqlite3_db_filename(db, "main"));
  const std::string spare =
      std::string(sqlite3_db_filename(db, "main")) + std::string(kSpareJournalSuffix);
  std::rename(spare.c_str(), journal_name);  // none yet: a new file is made
  VfsFile journal(vfs, journal_name);
  std::vector<unsigned char> header(kJournalSector, 0);
  std::uint32_t records = 0;
  for (const auto& [pgno, _] : pages)
    records += pgno <= old_pages ? 1 : 0;
  constexpr std::uint32_t kChecksumInit = 0x5a17c0de;
  std::memcpy(header.data(), kJournalMagic.data(), kJournalMagic.size());
  put_be32(header.data() + 8, records);
  put_be32(header.data() + 12, kChecksumInit);
  put_be32(header.data() + 16, static_cast<std::uint32_t>(old_pages));
  put_be32(header.data() + 20, kJournalSector);
  put_be32(header.data() + 24, static_cast<std::uint32_t>(kPageSize));
  write_at(journal.get(), header.data(), header.size(), 0, "write journal");
  constexpr std::size_t kRecord = 4 + kPageSize + 4;
  // Plain files are read and written in runs of up to kRun bytes (SQLite's unix VFS handles at
  // most 128 KiB per call); through the encryption VFS page by page, as SQLite does (it
  // encrypts one page image per write, and reads whole pages).
  constexpr std::size_t kRun = std::size_t{64} * 1024;
  std::string buffer;
  std::int64_t offset = kJournalSector;
  auto flush_journal = [&] {
    if (buffer.empty()) return;
    write_at(journal.get(), buffer.data(), buffer.size(), offset, "write journal");
    offset += static_cast<std::int64_t>(buffer.size());
    buffer.clear();
  };
  std::vector<std::uint64_t> existing;
  for (const auto& [pgno, _] : pages) {
    if (pgno <= old_pages) existing.push_back(pgno);
  }
  std::string originals;
  for (std::size_t i = 0; i < existing.size();) {
    // A run of consecutive pages, read at once when the file is plain.
    std::size_t n = 1;
    while (!encrypted && i + n < existing.size() && existing[i + n] == existing[i] + n &&
           (n + 1) * kPageSize <= kRun) {
      ++n;
    }
    originals.resize(n * kPageSize);
    const int rc = file->pMethods->xRead(file, originals.data(), static_cast<int>(n * kPageSize),
                                         static_cast<std::int64_t>((existing[i] - 1) * kPageSize));
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) check(rc, "read page");
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t at = buffer.size();
      buffer.resize(at + kRecord);
      auto* r = reinterpret_cast<unsigned char*>(buffer.data() + at);
      put_be32(r, static_cast<std::uint32_t>(existing[i + k]));
      std::memcpy(r + 4, originals.data() + k * kPageSize, kPageSize);
      std::uint32_t sum = kChecksumInit;  // SQLite's pager_cksum()
      for (auto j = static_cast<std::int64_t>(kPageSize) - 200; j > 0; j -= 200)
        sum += r[4 + j];
      put_be32(r + 4 + kPageSize, sum);
      if (encrypted) {
        // In three writes, as SQLite makes them: the encryption VFS encrypts the page image
        // that follows a page number.
        write_at(journal.get(), r, 4, offset, "write journal");
        write_at(journal.get(), r + 4, kPageSize, offset + 4, "write journal");
        write_at(journal.get(), r + 4 + kPageSize, 4, offset + 4 + kPageSize, "write journal");
        offset += static_cast<std::int64_t>(kRecord);
        buffer.clear();
      } else if (buffer.size() + kRecord > kRun) {
        flush_journal();
      }
    }
    i += n;
  }
  flush_journal();
  // A journal kept from an earlier pull may be longer: nothing of it may follow the records.
  sqlite3_int64 journal_size = 0;
  check(journal.get()->pMethods->xFileSize(journal.get(), &journal_size), "journal size");
  if (journal_size > offset)
    check(journal.get()->pMethods->xTruncate(journal.get(), offset), "cut journal");
  reached(ApplyStep::JournalWritten);
  check(journal.get()->pMethods->xSync(journal.get(), SQLITE_SYNC_NORMAL), "sync journal");
  reached(ApplyStep::JournalSynced);

  std::size_t written = 0;
  const std::size_t half = pages.size() / 2;
  for (auto it = pages.begin(); it != pages.end();) {
    const std::uint64_t first_pgno = it->first;
    buffer.clear();
    auto next = it;
    std::size_t index = written;
    // Consecutive pages in one write when the file is plain (a run ends at the half, where the
    // fault tests stop).
    do {
      buffer.append(next->second.data(), kPageSize);
      ++next;
      ++index;
    } while (!encrypted && next != pages.end() &&
             next->first == first_pgno + buffer.size() / kPageSize &&
             buffer.size() + kPageSize <= kRun && index != half);
    write_at(file, buffer.data(), buffer.size(),
             static_cast<std::int64_t>((first_pgno - 1) * kPageSize), "write page");
    for (; it != next; ++it) {
      if (++written == pages.size() / 2) reached(ApplyStep::HalfWritten);
    }
  }
  check(file->pMethods->xTruncate(file, static_cast<sqlite3_int64>(reply.db_size()) *
                                            static_cast<sqlite3_int64>(kPageSize)),
        "set size");
  reached(ApplyStep::PagesWritten);
  check(file->pMethods->xSync(file, SQLITE_SYNC_NORMAL), "sync database");
  reached(ApplyStep::DatabaseSynced);
  // The commit point: the journal's header is zeroed and synced (a journal whose first byte is
  // 0 is not hot, as in SQLite's journal_mode=PERSIST), then the file is deleted without
  // syncing its directory: should the deletion be lost, the journal left is not hot. (Deleting
  // as the commit point needs the directory synced, which cost as much as the rest of a pull;
  // keeping the file would make every local read open it to look at its first byte.)
  const std::array<unsigned char, 28> zero{};
  write_at(journal.get(), zero.data(), zero.size(), 0, "commit");
  check(journal.get()->pMethods->xSync(journal.get(), SQLITE_SYNC_NORMAL), "commit");
  if (offset > kSpareJournalLimit) journal.get()->pMethods->xTruncate(journal.get(), 0);
  journal.close();
  if (std::rename(journal_name, spare.c_str()) != 0) journal.remove();
  reached(ApplyStep::Committed);
}

// Page 1 as the local file keeps it: rollback-journal mode, the change counter set to
// `counter`, the in-header size to the server's size.
void localise_header(std::string& first, std::uint32_t counter, std::uint64_t db_size) {
  auto* h = reinterpret_cast<unsigned char*>(first.data());
  if (std::memcmp(h, "SQLite format 3", 16) != 0 || ((h[16] << 8) | h[17]) != 4096) {
    throw Error(kCodeNotADb,
                "sync: the server's database is not a SQLite file with 4096-byte "
                "pages");
  }
  h[18] = 1;  // rollback journal, not WAL
  h[19] = 1;
  put_be32(h + 24, counter);
  put_be32(h + 28, static_cast<std::uint32_t>(db_size));
  put_be32(h + 92, counter);
}

[[noreturn]] void os_error(const std::string& what, const std::string& path) {
  throw Error(kCodeIoErr, "sync: cannot " + what + " " + path + ": " + std::strerror(errno));
}

void remove_bootstrap_files(const std::string& tmp) noexcept {
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  std::filesystem::remove(tmp + "-integrity", ec);
  std::filesystem::remove(tmp + "-journal", ec);
}

// Writes the bootstrap's pages to `tmp` (a new file) and makes them durable.
void write_plain(const std::string& tmp, const std::vector<std::string_view>& pages) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) os_error("create", tmp);
  const std::string zero(kPageSize, '\0');
  bool ok = true;
  for (std::size_t i = 0; ok && i < pages.size(); ++i) {
    const std::string_view data = pages[i].empty() ? std::string_view(zero) : pages[i];
    ok = ::pwrite(fd, data.data(), kPageSize, static_cast<off_t>(i * kPageSize)) ==
         static_cast<ssize_t>(kPageSize);
    if (ok && i == pages.size() / 2) reached(ApplyStep::HalfWritten);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) os_error("write", tmp);
}

// The same through the encryption VFS: the pages (and their tags, in `tmp`-integrity) reach the
// disk encrypted only.
void write_encrypted(const std::string& tmp, const std::vector<std::string_view>& pages,
                     std::string_view key) {
  DbHandle db = open_private(tmp, key);
  sqlite3_file* file = nullptr;
  check(sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_FILE_POINTER, &file), "file pointer");
  const std::string zero(kPageSize, '\0');
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const std::string_view data = pages[i].empty() ? std::string_view(zero) : pages[i];
    write_at(file, data.data(), kPageSize, static_cast<std::int64_t>(i * kPageSize), "write page");
    if (i == pages.size() / 2) reached(ApplyStep::HalfWritten);
  }
  check(file->pMethods->xSync(file, SQLITE_SYNC_NORMAL), "sync database");
}

// A new replica: the whole file is written aside and renamed into place.
void bootstrap(const std::string& database, const PageSet& reply,
               const std::function<void()>& save_state, std::optional<std::string_view> key) {
  std::vector<std::string_view> pages(reply.db_size());
  for (const auto& [pgno, data] : reply.pages()) {
    if (pgno <= pages.size()) pages[pgno - 1] = data;
  }
  if (pages.empty() || pages[0].empty()) {
    throw Error(kCodeProtocol, "sync: the server's reply has no database header page");
  }
  std::string first(pages[0]);
  localise_header(first, 1, reply.db_size());
  pages[0] = first;
  const std::string tmp = database + ".bootstrap";
  remove_bootstrap_files(tmp);
  try {
    if (key) {
      write_encrypted(tmp, pages, *key);
    } else {
      write_plain(tmp, pages);
    }
    reached(ApplyStep::DatabaseSynced);
    save_state();
    // The page tags first: tags without their database are replaced by the next bootstrap.
    if (key && std::rename((tmp + "-integrity").c_str(), (database + "-integrity").c_str()) != 0) {
      os_error("rename", tmp + "-integrity");
    }
    if (std::rename(tmp.c_str(), database.c_str()) != 0) os_error("rename", tmp);
  } catch (...) {
    remove_bootstrap_files(tmp);
    throw;
  }
  const auto slash = database.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : database.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  reached(ApplyStep::Committed);
}

}  // namespace

void set_apply_fault_hook(std::function<void(ApplyStep)> hook) {
  fault_hook() = std::move(hook);
}

struct ReplicaFile::Impl {
  DbHandle db;
};

ReplicaFile::ReplicaFile(const std::string& path, std::optional<std::string_view> key,
                         int busy_timeout_ms, bool exclusive)
    : path_(path), key_(key), impl_(std::make_unique<Impl>()) {
  impl_->db = open_private(path, key);
  sqlite3* db = impl_->db.get();
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // A read takes SQLite's SHARED lock (and rolls a hot journal back); BEGIN EXCLUSIVE its
  // EXCLUSIVE lock at once.
  const char* sql = exclusive ? "BEGIN EXCLUSIVE" : "BEGIN; SELECT count(*) FROM sqlite_schema";
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw Error(sqlite3_extended_errcode(db),
                "sync: cannot lock the replica file " + path + ": " + sqlite3_errmsg(db));
  }
  exclusive_ = exclusive;
}

ReplicaFile::~ReplicaFile() {
  release();
}

void ReplicaFile::release() noexcept {
  if (impl_->db) {
    // SQLite itself changed nothing: ending its transaction only releases the lock.
    sqlite3_exec(impl_->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    impl_->db.reset();
  }
}

sqlite3* ReplicaFile::handle() const {
  if (!impl_->db) throw Error(kCodeMisuse, "sync: " + path_ + " is no longer locked");
  return impl_->db.get();
}

sqlite3_file* ReplicaFile::file() const {
  sqlite3_file* f = nullptr;
  check(sqlite3_file_control(handle(), "main", SQLITE_FCNTL_FILE_POINTER, &f), "file pointer");
  return f;
}

std::uint64_t ReplicaFile::page_count() const {
  sqlite3_int64 size = 0;
  sqlite3_file* f = file();
  check(f->pMethods->xFileSize(f, &size), "file size");
  return static_cast<std::uint64_t>(size) / kPageSize;
}

std::string ReplicaFile::read(std::uint64_t pgno) const {
  return read_page(file(), pgno);
}

std::uint32_t ReplicaFile::change_counter() const {
  const std::string first = read(1);
  return get_be32(reinterpret_cast<const unsigned char*>(first.data()) + 24);
}

void ReplicaFile::apply(const PageSet& pages) {
  if (!exclusive_) throw Error(kCodeMisuse, "sync: pages applied without the exclusive lock");
  try {
    apply_locked(handle(), pages, key_.has_value());
  } catch (...) {
    impl_->db.reset();  // releases the lock; a journal left behind is hot now
    roll_back_now(path_, key_);
    throw;
  }
}

void apply_pull(const std::string& database, const PageSet& reply, int busy_timeout_ms,
                const std::function<void()>& save_state, std::optional<std::string_view> key) {
  struct stat st {};
  if (::stat(database.c_str(), &st) != 0 || st.st_size == 0) {
    bootstrap(database, reply, save_state, key);
    return;
  }
  ReplicaFile file(database, key, busy_timeout_ms, true);
  file.apply(reply);
  // Recorded before the lock is released: no other writer can come in between.
  save_state();
}

}  // namespace ecto_libsql::replica
