// Encryption at rest, file-compatible with libSQL: SQLite3 Multiple Ciphers' "aes256cbc", the
// cipher libSQL uses for `encryption_key`. Files written here open in libSQL with the same key
// and the other way round. Encrypted databases use a rollback journal (never WAL) and keep
// temporary data in memory. docs/encryption.md has the details.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ecto_libsql/local/local_connection.hpp"
#include "ecto_libsql/open.hpp"

namespace ecto_libsql::crypto {

// The documented contract for new keys: at least this many bytes. libSQL accepts any non-empty
// key and uses its first 32 bytes only (longer keys are truncated).
inline constexpr std::size_t kMinKeyLength = 32;

enum class KeyPolicy {
  Connect,       // at least kMinKeyLength bytes: connect/1 and keys that encrypt new data
  AnyLibsqlKey,  // any non-empty key libSQL accepts: for reading files written elsewhere
};

// Throws Error (SQLITE_MISUSE) naming `what` when `key` does not meet `policy`. Messages never
// contain the key.
void check_key(std::string_view key, KeyPolicy policy, std::string_view what = "encryption_key");

// Opens the local database options.database encrypted with *options.encryption_key. A wrong key,
// or a file that is not an encrypted database, gives SQLITE_NOTADB with a message that says so,
// before anything is written. In-memory databases are accepted and not encrypted (they never
// reach the disk).
std::shared_ptr<local::LocalConnection> open_encrypted(const ConnectOptions& options,
                                                       KeyPolicy policy = KeyPolicy::Connect);

// Wipes a copy of a key (ConnectOptions::encryption_key) when it goes out of scope.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::optional<std::string>& key) noexcept : key_(key) {}
  ~WipeOnExit();
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::optional<std::string>& key_;
};

// For connections without a key: throws SQLITE_NOTADB when `database` is a file that looks
// encrypted (page 1 keeps its plaintext header bytes 16..23 but not the "SQLite format 3"
// magic). Besides a clearer error, this keeps SQLite from discarding the hot journal of an
// encrypted database it cannot read.
void refuse_encrypted_without_key(const std::string& database);

// Key management. Each writes a complete copy next to the destination, then renames it into
// place, so a crash leaves either the old or the new file. `destination` may equal `source`
// (converted in place: no connection may have it open, in any process); otherwise it must not
// exist. Source keys may be any key libSQL accepts; new keys need kMinKeyLength bytes.
void encrypt_database(const std::string& source, const std::string& destination,
                      std::string_view key);
void decrypt_database(const std::string& source, const std::string& destination,
                      std::string_view key);
void rekey_database(const std::string& database, std::string_view old_key,
                    std::string_view new_key);

}  // namespace ecto_libsql::crypto
