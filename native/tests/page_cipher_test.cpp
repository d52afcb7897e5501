#include "crypto/page_cipher.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "crypto_support.hpp"
#include "test_support.hpp"

using namespace ecto_libsql;
using namespace ecto_libsql::testing;
using crypto::PageCipher;

namespace {

constexpr std::size_t kPage = 4096;

// Decrypts every page of an oracle file, checks that re-encrypting gives the file byte for byte,
// and answers the plaintext database.
std::vector<std::uint8_t> decrypt_and_reencrypt(const std::string& name, const char* key) {
  const std::vector<std::uint8_t> raw = read_bytes(oracle_path(name));
  EXPECT_EQ(raw.size() % kPage, 0u);
  PageCipher cipher(key);
  std::vector<std::uint8_t> plain = raw;
  std::vector<std::uint8_t> again(kPage);
  for (std::size_t p = 0; p < raw.size() / kPage; ++p) {
    const auto pgno = static_cast<std::uint32_t>(p + 1);
    EXPECT_EQ(cipher.decrypt(pgno, plain.data() + p * kPage, kPage), PageCipher::Result::Ok)
        << "page " << pgno;
    EXPECT_TRUE(cipher.encrypt(pgno, plain.data() + p * kPage, again.data(), kPage));
    EXPECT_EQ(std::memcmp(again.data(), raw.data() + p * kPage, kPage), 0) << "page " << pgno;
  }
  return plain;
}

}  // namespace

TEST(PageCipher, OracleFilesDecryptAndReencryptByteForByte) {
  for (const auto& [name, key] : {std::pair{"encrypted_by_libsql.db", kOracleKey},
                                  std::pair{"encrypted_multipage_by_libsql.db", kMultipageKey}}) {
    const std::vector<std::uint8_t> plain = decrypt_and_reencrypt(name, key);
    ASSERT_GE(plain.size(), kPage);
    EXPECT_EQ(std::memcmp(plain.data(), "SQLite format 3", 16), 0);
    EXPECT_EQ(plain[16], 0x10);  // page size 4096
    EXPECT_EQ(plain[17], 0x00);
  }
}

TEST(PageCipher, DecryptedOracleIsTheDatabaseItsReadmeDescribes) {
  TempDir dir;
  write_bytes(dir.file("plain.db"),
              decrypt_and_reencrypt("encrypted_multipage_by_libsql.db", kMultipageKey));
  auto conn = open_local(dir.file("plain.db"));
  EXPECT_EQ(rows(*conn, "SELECT count(*), sum(score), sum(length(body)) FROM docs"),
            (std::vector<std::vector<std::string>>{{"500", "15656.250000", "51742"}}));
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(PageCipher, WrongKeyFailsThePageOneCheck) {
  std::vector<std::uint8_t> raw = read_bytes(oracle_path("encrypted_by_libsql.db"));
  PageCipher wrong("peer-test-key-0123456780");
  EXPECT_EQ(wrong.decrypt(1, raw.data(), kPage), PageCipher::Result::BadHeader);
  EXPECT_NE(std::memcmp(raw.data(), "SQLite format 3", 16), 0);
}

TEST(PageCipher, OnlyTheFirst32BytesOfTheKeyCount) {
  // libSQL wrote the multipage file with a 33-character key: its first 32 are enough.
  std::vector<std::uint8_t> raw = read_bytes(oracle_path("encrypted_multipage_by_libsql.db"));
  PageCipher truncated(std::string_view(kMultipageKey, 32));
  EXPECT_EQ(truncated.decrypt(1, raw.data(), kPage), PageCipher::Result::Ok);
  PageCipher longer(std::string(kMultipageKey) + "-and-more");
  raw = read_bytes(oracle_path("encrypted_multipage_by_libsql.db"));
  EXPECT_EQ(longer.decrypt(1, raw.data(), kPage), PageCipher::Result::Ok);
}

TEST(PageCipher, PrefixesDecryptLikeWholePages) {
  const std::vector<std::uint8_t> raw = read_bytes(oracle_path("encrypted_multipage_by_libsql.db"));
  PageCipher cipher(kMultipageKey);
  for (const std::uint32_t pgno : {1u, 5u, 31u}) {
    const auto start = static_cast<std::ptrdiff_t>((pgno - 1) * kPage);
    std::vector<std::uint8_t> whole(raw.begin() + start,
                                    raw.begin() + start + static_cast<std::ptrdiff_t>(kPage));
    std::vector<std::uint8_t> prefix = whole;
    ASSERT_EQ(cipher.decrypt(pgno, whole.data(), kPage), PageCipher::Result::Ok);
    ASSERT_EQ(cipher.decrypt(pgno, prefix.data(), 112), PageCipher::Result::Ok);
    EXPECT_EQ(std::memcmp(whole.data(), prefix.data(), 112), 0) << "page " << pgno;
  }
}

TEST(PageCipher, DeterministicPerPageNumber) {
  PageCipher cipher(kMultipageKey);
  std::vector<std::uint8_t> page(kPage, 0x5a);
  std::vector<std::uint8_t> a(kPage), b(kPage), c(kPage);
  ASSERT_TRUE(cipher.encrypt(7, page.data(), a.data(), kPage));
  ASSERT_TRUE(cipher.encrypt(7, page.data(), b.data(), kPage));
  ASSERT_TRUE(cipher.encrypt(8, page.data(), c.data(), kPage));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(cipher.decrypt(7, a.data(), kPage), PageCipher::Result::Ok);
  EXPECT_EQ(a, page);
}
