#include "crypto/vfs.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "crypto/file_state.hpp"
#include "ecto_libsql/error.hpp"

namespace ecto_libsql::crypto {
namespace {

constexpr const char* kVfsName = "ecto_libsql_aes256cbc";

// Layout of the memory SQLite allocates for each file: handle, state, then the real file.
constexpr std::size_t align_up(std::size_t n, std::size_t a) {
  return (n + a - 1) / a * a;
}
constexpr std::size_t kStateOffset = align_up(sizeof(FileHandle), alignof(FileState));
constexpr std::size_t kRealOffset = align_up(kStateOffset + sizeof(FileState), 16);

sqlite3_vfs g_vfs{};
thread_local std::shared_ptr<EncryptedDb>* t_pending = nullptr;

sqlite3_vfs* real_vfs() {
  return static_cast<sqlite3_vfs*>(g_vfs.pAppData);
}

// Open encrypted main database files, for their journals to find.
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::vector<FileState*>& registry() {
  static std::vector<FileState*> files;
  return files;
}

std::shared_ptr<EncryptedDb> find_main(const char* database_name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (FileState* file : registry()) {
    if (file->name == database_name) return file->db;
  }
  return nullptr;
}

// --- I/O methods ------------------------------------------------------------------------------

int io_close(sqlite3_file* file) noexcept {
  FileState& state = state_of(file);
  if (state.role == FileRole::MainDb) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    std::erase(registry(), &state);
    state.db->integrity.reset();
    state.db->real_main = nullptr;
  }
  const int rc =
      state.real->pMethods != nullptr ? state.real->pMethods->xClose(state.real) : SQLITE_OK;
  std::destroy_at(&state);
  return rc;
}

int io_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) noexcept {
  FileState& state = state_of(file);
  auto* bytes = static_cast<std::uint8_t*>(out);
  switch (state.role) {
    case FileRole::MainDb:
      return main_read(state, bytes, amount, offset);
    case FileRole::Journal:
      return journal_read(state, bytes, amount, offset);
    case FileRole::Plain:
      break;
  }
  return state.real->pMethods->xRead(state.real, out, amount, offset);
}

int io_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) noexcept {
  FileState& state = state_of(file);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  switch (state.role) {
    case FileRole::MainDb:
      return main_write(state, bytes, amount, offset);
    case FileRole::Journal:
      return journal_write(state, bytes, amount, offset);
    case FileRole::Plain:
      break;
  }
  return state.real->pMethods->xWrite(state.real, data, amount, offset);
}

int io_truncate(sqlite3_file* file, sqlite3_int64 size) noexcept {
  FileState& state = state_of(file);
  state.step = JournalStep::Idle;
  const int rc = state.real->pMethods->xTruncate(state.real, size);
  if (rc == SQLITE_OK && state.role == FileRole::MainDb && state.db->integrity &&
      state.db->page_size > 0) {
    state.db->integrity->truncate(size / state.db->page_size);
  }
  return rc;
}

int io_sync(sqlite3_file* file, int flags) noexcept {
  FileState& state = state_of(file);
  const int rc = state.real->pMethods->xSync(state.real, flags);
  if (rc != SQLITE_OK || state.role != FileRole::MainDb || !state.db->integrity) return rc;
  return state.db->integrity->sync(flags);
}

int io_file_size(sqlite3_file* file, sqlite3_int64* size) noexcept {
  sqlite3_file* real = real_of(file);
  return real->pMethods->xFileSize(real, size);
}

int io_lock(sqlite3_file* file, int lock) noexcept {
  sqlite3_file* real = real_of(file);
  return real->pMethods->xLock(real, lock);
}

int io_unlock(sqlite3_file* file, int lock) noexcept {
  sqlite3_file* real = real_of(file);
  return real->pMethods->xUnlock(real, lock);
}

int io_check_reserved_lock(sqlite3_file* file, int* out) noexcept {
  sqlite3_file* real = real_of(file);
  return real->pMethods->xCheckReservedLock(real, out);
}

// A PRAGMA's page size value; 0 when it is not a whole number.
int page_size_of(const char* value) noexcept {
  const std::string_view text(value);
  int size = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  return (ec == std::errc() && end == text.data() + text.size()) ? size : 0;
}

// PRAGMAs that would silently defeat the encryption are refused with a message.
int refuse_pragma(const EncryptedDb& db, char** args) noexcept {
  const char* name = args[1];
  const char* value = args[2];
  auto is = [](const char* a, const char* b) { return a != nullptr && sqlite3_stricmp(a, b) == 0; };
  const char* message = nullptr;
  if (is(name, "journal_mode") && is(value, "wal")) {
    message =
        "journal_mode=WAL is not supported for encrypted databases: they use a rollback journal "
        "(DELETE, TRUNCATE, PERSIST, MEMORY or OFF)";
  } else if (is(name, "temp_store") && value != nullptr && !is(value, "memory") &&
             !is(value, "2")) {
    message =
        "temp_store must stay MEMORY for encrypted databases: temporary files are not encrypted";
  } else if (is(name, "page_size") && value != nullptr && db.page_size != 0 &&
             valid_page_size(page_size_of(value)) && page_size_of(value) != db.page_size) {
    // VACUUM would write the new layout in pages of the old size, which cannot be encrypted
    // page by page (SQLite3 Multiple Ciphers ignores the change for the same reason).
    message =
        "the page size of an existing encrypted database cannot change: write a new copy with "
        "EctoLibSql.Native.decrypt_database/3 and encrypt_database/3 instead";
  } else if (is(name, "key") || is(name, "hexkey") || is(name, "rekey") || is(name, "hexrekey") ||
             is(name, "textkey") || is(name, "textrekey")) {
    message =
        "this PRAGMA is not supported: give encryption_key when connecting, and change keys with "
        "EctoLibSql.Native.rekey/3";
  }
  if (message == nullptr) return SQLITE_NOTFOUND;
  args[0] = sqlite3_mprintf("%s", message);
  return SQLITE_ERROR;
}

int io_file_control(sqlite3_file* file, int op, void* arg) noexcept {
  FileState& state = state_of(file);
  if (state.role == FileRole::MainDb && op == SQLITE_FCNTL_PRAGMA) {
    const int rc = refuse_pragma(*state.db, static_cast<char**>(arg));
    if (rc != SQLITE_NOTFOUND) return rc;
  }
  return state.real->pMethods->xFileControl(state.real, op, arg);
}

int io_sector_size(sqlite3_file* file) noexcept {
  sqlite3_file* real = real_of(file);
  return real->pMethods->xSectorSize(real);
}

int io_device_characteristics(sqlite3_file* file) noexcept {
  sqlite3_file* real = real_of(file);
  return real->pMethods->xDeviceCharacteristics(real);
}

int io_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out) noexcept {
  sqlite3_file* real = real_of(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return real->pMethods->xShmMap(real, page, size, extend, out);
}

int io_shm_lock(sqlite3_file* file, int offset, int n, int flags) noexcept {
  sqlite3_file* real = real_of(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return real->pMethods->xShmLock(real, offset, n, flags);
}

void io_shm_barrier(sqlite3_file* file) noexcept {
  sqlite3_file* real = real_of(file);
  if (real->pMethods->iVersion >= 2) real->pMethods->xShmBarrier(real);
}

int io_shm_unmap(sqlite3_file* file, int delete_flag) noexcept {
  sqlite3_file* real = real_of(file);
  if (real->pMethods->iVersion < 2) return SQLITE_OK;
  return real->pMethods->xShmUnmap(real, delete_flag);
}

int io_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) noexcept {
  sqlite3_file* real = real_of(file);
  if (real->pMethods->iVersion < 3) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return real->pMethods->xFetch(real, offset, amount, out);
}

int io_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) noexcept {
  sqlite3_file* real = real_of(file);
  if (real->pMethods->iVersion < 3) return SQLITE_OK;
  return real->pMethods->xUnfetch(real, offset, page);
}

// Encrypted files: version 1, so SQLite neither maps them into memory (pages must pass through
// xRead) nor uses shared memory (no WAL).
const sqlite3_io_methods kEncryptedMethods = {1,
                                              io_close,
                                              io_read,
                                              io_write,
                                              io_truncate,
                                              io_sync,
                                              io_file_size,
                                              io_lock,
                                              io_unlock,
                                              io_check_reserved_lock,
                                              io_file_control,
                                              io_sector_size,
                                              io_device_characteristics,
                                              nullptr,
                                              nullptr,
                                              nullptr,
                                              nullptr,
                                              nullptr,
                                              nullptr};

const sqlite3_io_methods kPlainMethods = {3,
                                          io_close,
                                          io_read,
                                          io_write,
                                          io_truncate,
                                          io_sync,
                                          io_file_size,
                                          io_lock,
                                          io_unlock,
                                          io_check_reserved_lock,
                                          io_file_control,
                                          io_sector_size,
                                          io_device_characteristics,
                                          io_shm_map,
                                          io_shm_lock,
                                          io_shm_barrier,
                                          io_shm_unmap,
                                          io_fetch,
                                          io_unfetch};

// --- VFS methods ------------------------------------------------------------------------------

// The page tags of a main database file just opened (none when they cannot be kept).
void open_integrity(FileState& state, int flags, const int* out_flags) noexcept {
  EncryptedDb& db = *state.db;
  db.real_main = state.real;
  sqlite3_int64 size = 0;
  if (state.real->pMethods->xFileSize(state.real, &size) != SQLITE_OK) return;
  const int opened = out_flags != nullptr ? *out_flags : flags;
  const bool read_only = (opened & SQLITE_OPEN_READONLY) != 0;
  try {
    auto key = db.cipher.derive_key("ecto_libsql page tags");
    db.integrity = IntegrityFile::open(state.name, key, read_only, size == 0);
    OPENSSL_cleanse(key.data(), key.size());
  } catch (...) {
    db.integrity.reset();
  }
}

int vfs_open(sqlite3_vfs* /*vfs*/, sqlite3_filename name, sqlite3_file* file, int flags,
             int* out_flags) noexcept {
  auto* handle = reinterpret_cast<FileHandle*>(file);
  auto* memory = reinterpret_cast<unsigned char*>(file);
  handle->base.pMethods = nullptr;
  FileState* state = std::construct_at(reinterpret_cast<FileState*>(memory + kStateOffset));
  handle->state = state;
  state->real = reinterpret_cast<sqlite3_file*>(memory + kRealOffset);
  state->name = name;

  auto refuse = [&](int rc) {
    std::destroy_at(state);
    return rc;
  };
  constexpr int kTemporary = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
                             SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_SUBJOURNAL;
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0) {
    if (name != nullptr && t_pending != nullptr && *t_pending) {
      state->db = *t_pending;
      state->role = FileRole::MainDb;
      t_pending = nullptr;
    }
  } else if ((flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL)) != 0 && name != nullptr) {
    std::shared_ptr<EncryptedDb> db;
    try {
      db = find_main(sqlite3_filename_database(name));
    } catch (...) {
      return refuse(SQLITE_NOMEM);  // never open an encrypted database's journal as plain
    }
    if (db) {
      // A pure VFS cannot write WAL frames the way libSQL does (it encrypts them inside wal.c).
      if ((flags & SQLITE_OPEN_WAL) != 0) return refuse(SQLITE_CANTOPEN);
      state->db = std::move(db);
      state->role = FileRole::Journal;
    }
  } else if (name == nullptr || (flags & kTemporary) != 0) {
    // Connections through this VFS keep temporary data in memory (temp_store=MEMORY is
    // enforced): a temporary file would hold plaintext pages.
    return refuse(SQLITE_CANTOPEN);
  }

  const int rc = real_vfs()->xOpen(real_vfs(), name, state->real, flags, out_flags);
  if (rc != SQLITE_OK) return refuse(rc);
  handle->base.pMethods = state->role == FileRole::Plain ? &kPlainMethods : &kEncryptedMethods;
  if (state->role == FileRole::MainDb) {
    open_integrity(*state, flags, out_flags);
    try {
      std::lock_guard<std::mutex> lock(registry_mutex());
      registry().push_back(state);
    } catch (...) {
      io_close(file);
      handle->base.pMethods = nullptr;
      return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs* /*vfs*/, const char* name, int sync_dir) noexcept {
  return real_vfs()->xDelete(real_vfs(), name, sync_dir);
}
int vfs_access(sqlite3_vfs* /*vfs*/, const char* name, int flags, int* out) noexcept {
  return real_vfs()->xAccess(real_vfs(), name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs* /*vfs*/, const char* name, int size, char* out) noexcept {
  return real_vfs()->xFullPathname(real_vfs(), name, size, out);
}
void* vfs_dl_open(sqlite3_vfs* /*vfs*/, const char* name) noexcept {
  return real_vfs()->xDlOpen(real_vfs(), name);
}
void vfs_dl_error(sqlite3_vfs* /*vfs*/, int size, char* out) noexcept {
  real_vfs()->xDlError(real_vfs(), size, out);
}
void (*vfs_dl_sym(sqlite3_vfs* /*vfs*/, void* handle, const char* symbol) noexcept)(void) {
  return real_vfs()->xDlSym(real_vfs(), handle, symbol);
}
void vfs_dl_close(sqlite3_vfs* /*vfs*/, void* handle) noexcept {
  real_vfs()->xDlClose(real_vfs(), handle);
}
int vfs_randomness(sqlite3_vfs* /*vfs*/, int size, char* out) noexcept {
  return real_vfs()->xRandomness(real_vfs(), size, out);
}
int vfs_sleep(sqlite3_vfs* /*vfs*/, int microseconds) noexcept {
  return real_vfs()->xSleep(real_vfs(), microseconds);
}
int vfs_current_time(sqlite3_vfs* /*vfs*/, double* out) noexcept {
  return real_vfs()->xCurrentTime(real_vfs(), out);
}
int vfs_get_last_error(sqlite3_vfs* /*vfs*/, int size, char* out) noexcept {
  return real_vfs()->xGetLastError != nullptr ? real_vfs()->xGetLastError(real_vfs(), size, out)
                                              : 0;
}
int vfs_current_time_int64(sqlite3_vfs* /*vfs*/, sqlite3_int64* out) noexcept {
  return real_vfs()->xCurrentTimeInt64(real_vfs(), out);
}

void register_vfs() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (real == nullptr || real->iVersion < 2) {
    throw Error(kCodeError, "encryption is unavailable: no suitable default SQLite VFS");
  }
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(kRealOffset) + real->szOsFile;
  g_vfs.mxPathname = real->mxPathname;
  g_vfs.zName = kVfsName;
  g_vfs.pAppData = real;
  g_vfs.xOpen = vfs_open;
  g_vfs.xDelete = vfs_delete;
  g_vfs.xAccess = vfs_access;
  g_vfs.xFullPathname = vfs_full_pathname;
  g_vfs.xDlOpen = vfs_dl_open;
  g_vfs.xDlError = vfs_dl_error;
  g_vfs.xDlSym = vfs_dl_sym;
  g_vfs.xDlClose = vfs_dl_close;
  g_vfs.xRandomness = vfs_randomness;
  g_vfs.xSleep = vfs_sleep;
  g_vfs.xCurrentTime = vfs_current_time;
  g_vfs.xGetLastError = vfs_get_last_error;
  g_vfs.xCurrentTimeInt64 = vfs_current_time_int64;
  const int rc = sqlite3_vfs_register(&g_vfs, 0);
  if (rc != SQLITE_OK) {
    throw Error(rc, std::string("encryption is unavailable: ") + sqlite3_errstr(rc));
  }
}

}  // namespace

const char* vfs_name() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return kVfsName;
}

PendingOpen::PendingOpen(std::shared_ptr<EncryptedDb> db) : db_(std::move(db)) {
  t_pending = &db_;
}

PendingOpen::~PendingOpen() {
  t_pending = nullptr;
}

std::shared_ptr<EncryptedDb> encrypted_main(sqlite3* db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods != &kEncryptedMethods) {
    return nullptr;
  }
  FileState& state = state_of(file);
  return state.role == FileRole::MainDb ? state.db : nullptr;
}

}  // namespace ecto_libsql::crypto
