// Opens fuzzed files as an encrypted database, with a fuzzed rollback journal and page tag file
// next to it: the encryption VFS parses page 1's plaintext header bytes, hot journals (to check
// the key before playback) and the tag file. Nothing may crash, whatever the bytes.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/page_cipher.hpp"
#include "ecto_libsql/crypto/encryption.hpp"

namespace {

using namespace ecto_libsql;
constexpr const char* kKey = "fuzzing-key-with-at-least-32-characters";

void write(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

const std::string& directory() {
  static const std::string dir = [] {
    auto path = std::filesystem::temp_directory_path() /
                ("fuzz_encrypted_files_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path.string();
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const bool encrypt_pages = input.ConsumeBool();
  const bool valid_header = input.ConsumeBool();
  std::vector<std::uint8_t> db = input.ConsumeBytes<std::uint8_t>(
      input.ConsumeIntegralInRange<std::size_t>(0, std::size_t{4} * 4096));
  std::vector<std::uint8_t> journal = input.ConsumeBytes<std::uint8_t>(
      input.ConsumeIntegralInRange<std::size_t>(0, std::size_t{3} * 4096));
  std::vector<std::uint8_t> tags = input.ConsumeRemainingBytes<std::uint8_t>();

  if (valid_header && db.size() >= 24) {
    const std::uint8_t header[8] = {0x10, 0x00, 0x01, 0x01, 0x00, 0x40, 0x20, 0x20};
    std::copy(header, header + 8, db.begin() + 16);
  }
  if (encrypt_pages && db.size() >= 4096) {
    // Fuzzer-chosen plaintext pages, encrypted as libSQL would: SQLite itself reads them.
    static crypto::PageCipher cipher(kKey);
    db.resize(db.size() / 4096 * 4096);
    std::vector<std::uint8_t> page(4096);
    for (std::size_t p = 0; p < db.size() / 4096; ++p) {
      std::copy(db.begin() + static_cast<std::ptrdiff_t>(p * 4096),
                db.begin() + static_cast<std::ptrdiff_t>((p + 1) * 4096), page.begin());
      if (p == 0) {
        const char magic[16] = "SQLite format 3";
        std::copy(magic, magic + 16, page.begin());
      }
      if (!cipher.encrypt(static_cast<std::uint32_t>(p + 1), page.data(), db.data() + p * 4096,
                          4096)) {
        return 0;
      }
    }
  }
  const std::string path = directory() + "/f.db";
  write(path, db);
  write(path + "-journal", journal);
  write(path + "-integrity", tags);
  try {
    ConnectOptions options;
    options.database = path;
    options.encryption_key = std::string(kKey);
    auto conn = crypto::open_encrypted(options);
    conn->exec("SELECT * FROM sqlite_schema");
    conn->exec("PRAGMA integrity_check");
  } catch (const Error&) {
    // Refused or corrupt: fine.
  }
  std::error_code ec;
  std::filesystem::remove(path + "-journal", ec);
  return 0;
}
