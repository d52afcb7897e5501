#include "crypto/page_cipher.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::crypto {
namespace {

// sqlite3mcPadPassword's padding: appended to passphrases shorter than 32 bytes.
constexpr std::array<std::uint8_t, 32> kPadding = {
    0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};
constexpr int kShaIterations = 4001;  // CODEC_SHA_ITER
constexpr std::array<std::uint8_t, 4> kPageSalt = {'s', 'A', 'l', 'T'};
constexpr std::array<std::uint8_t, 16> kSqliteMagic = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                                       'o', 'r', 'm', 'a', 't', ' ', '3', 0};

struct Algorithms {
  EVP_CIPHER* aes = nullptr;
  EVP_MD* sha256 = nullptr;
  EVP_MD* md5 = nullptr;
  Algorithms()
      : aes(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr)),
        sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr)),
        md5(EVP_MD_fetch(nullptr, "MD5", nullptr)) {}
  ~Algorithms() {
    EVP_CIPHER_free(aes);
    EVP_MD_free(sha256);
    EVP_MD_free(md5);
  }
  Algorithms(const Algorithms&) = delete;
  Algorithms& operator=(const Algorithms&) = delete;
  [[nodiscard]] bool complete() const {
    return aes != nullptr && sha256 != nullptr && md5 != nullptr;
  }
};

// Fetched once: implicit fetches on every page would cost more than the cipher itself.
const Algorithms& algorithms() {
  static const Algorithms instance;
  return instance;
}

// Wipes a secret when it goes out of scope.
template <std::size_t N>
struct Secret {
  std::array<std::uint8_t, N> bytes{};
  Secret() = default;
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  std::uint8_t* data() { return bytes.data(); }
};

// Digests with a context already set up for its algorithm.
bool digest(EVP_MD_CTX* ctx, std::initializer_list<std::pair<const void*, std::size_t>> parts,
            std::uint8_t* out) {
  if (EVP_DigestInit_ex2(ctx, nullptr, nullptr) != 1) return false;
  for (const auto& [data, size] : parts) {
    if (EVP_DigestUpdate(ctx, data, size) != 1) return false;
  }
  unsigned int length = 0;
  return EVP_DigestFinal_ex(ctx, out, &length) == 1;
}

// sqlite3mcGenerateInitialVector: four steps of a Park-Miller style generator seeded with the page
// number, little-endian, then MD5.
bool initial_vector(EVP_MD_CTX* md5, std::uint32_t pgno, std::uint8_t* iv) {
  std::array<std::uint8_t, 16> seed{};
  std::int64_t z = static_cast<std::int32_t>(pgno) + 1;
  for (std::size_t j = 0; j < 4; ++j) {
    const std::int64_t q = z / 52774;
    z = 40692 * (z - 52774 * q) - 3791 * q;
    if (z < 0) z += 2147483399;
    const auto v = static_cast<std::uint32_t>(z);
    for (std::size_t b = 0; b < 4; ++b)
      seed[4 * j + b] = static_cast<std::uint8_t>(v >> (8 * b));
  }
  return digest(md5, {{seed.data(), seed.size()}}, iv);
}

}  // namespace

PageCipher::PageCipher(std::string_view passphrase)
    : encrypt_ctx_(EVP_CIPHER_CTX_new()),
      decrypt_ctx_(EVP_CIPHER_CTX_new()),
      sha256_ctx_(EVP_MD_CTX_new()),
      md5_ctx_(EVP_MD_CTX_new()) {
  const Algorithms& a = algorithms();
  if (!a.complete() || !encrypt_ctx_ || !decrypt_ctx_ || !sha256_ctx_ || !md5_ctx_ ||
      EVP_CipherInit_ex2(encrypt_ctx_.get(), a.aes, nullptr, nullptr, 1, nullptr) != 1 ||
      EVP_CipherInit_ex2(decrypt_ctx_.get(), a.aes, nullptr, nullptr, 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(encrypt_ctx_.get(), 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(decrypt_ctx_.get(), 0) != 1 ||
      EVP_DigestInit_ex2(sha256_ctx_.get(), a.sha256, nullptr) != 1 ||
      EVP_DigestInit_ex2(md5_ctx_.get(), a.md5, nullptr) != 1) {
    throw Error(kCodeError, "encryption is unavailable: OpenSSL lacks AES-256-CBC, SHA-256 or MD5");
  }
  Secret<32> pad;
  const std::size_t n = std::min<std::size_t>(passphrase.size(), 32);
  std::memcpy(pad.data(), passphrase.data(), n);
  std::memcpy(pad.data() + n, kPadding.data(), 32 - n);
  Secret<32> k;
  bool ok = digest(sha256_ctx_.get(), {{pad.data(), 32}}, k.data());
  for (int i = 0; ok && i < kShaIterations; ++i) {
    ok = digest(sha256_ctx_.get(), {{k.data(), 32}}, k.data());
  }
  if (!ok) throw Error(kCodeError, "encryption key derivation failed");
  std::memcpy(key_.data(), k.data(), key_.size());
}

PageCipher::~PageCipher() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

bool PageCipher::crypt(bool encrypting, std::uint32_t pgno, const std::uint8_t* in,
                       std::uint8_t* out, std::size_t size) noexcept {
  std::array<std::uint8_t, 4> le = {
      static_cast<std::uint8_t>(pgno), static_cast<std::uint8_t>(pgno >> 8),
      static_cast<std::uint8_t>(pgno >> 16), static_cast<std::uint8_t>(pgno >> 24)};
  Secret<32> page_key;
  std::array<std::uint8_t, 16> iv{};
  if (!digest(sha256_ctx_.get(),
              {{key_.data(), key_.size()},
               {le.data(), le.size()},
               {kPageSalt.data(), kPageSalt.size()}},
              page_key.data()) ||
      !initial_vector(md5_ctx_.get(), pgno, iv.data())) {
    return false;
  }
  EVP_CIPHER_CTX* ctx = encrypting ? encrypt_ctx_.get() : decrypt_ctx_.get();
  if (EVP_CipherInit_ex2(ctx, nullptr, page_key.data(), iv.data(), -1, nullptr) != 1) {
    return false;
  }
  int written = 0;
  if (EVP_CipherUpdate(ctx, out, &written, in, static_cast<int>(size)) != 1) return false;
  return static_cast<std::size_t>(written) == size;
}

std::array<std::uint8_t, PageCipher::kKeySize> PageCipher::derive_key(std::string_view label) {
  std::array<std::uint8_t, kKeySize> out{};
  if (!digest(sha256_ctx_.get(), {{key_.data(), key_.size()}, {label.data(), label.size()}},
              out.data())) {
    throw Error(kCodeError, "key derivation failed");
  }
  return out;
}

bool PageCipher::encrypt(std::uint32_t pgno, const std::uint8_t* in, std::uint8_t* out,
                         std::size_t size) noexcept {
  if (pgno != 1) return crypt(true, pgno, in, out, size);
  // Page 1: bytes 0..15 are encrypted alone (only the first 8 bytes of that block are kept), then
  // bytes 16.. with a fresh chain; the ciphertext of bytes 16..23 moves to 8..15 so that the
  // plaintext header bytes 16..23 (page size, versions, payload fractions) stay readable.
  if (!crypt(true, 1, in, out, 16) || !crypt(true, 1, in + 16, out + 16, size - 16)) return false;
  std::memcpy(out + 8, out + 16, 8);
  std::memcpy(out + 16, in + 16, 8);
  return true;
}

PageCipher::Result PageCipher::decrypt(std::uint32_t pgno, std::uint8_t* data,
                                       std::size_t size) noexcept {
  if (pgno != 1) return crypt(false, pgno, data, data, size) ? Result::Ok : Result::Failed;
  std::array<std::uint8_t, 8> header{};
  std::memcpy(header.data(), data + 16, 8);
  std::memcpy(data + 16, data + 8, 8);
  if (!crypt(false, 1, data + 16, data + 16, size - 16)) return Result::Failed;
  if (std::memcmp(header.data(), data + 16, 8) != 0) return Result::BadHeader;
  std::memcpy(data, kSqliteMagic.data(), kSqliteMagic.size());
  return Result::Ok;
}

}  // namespace ecto_libsql::crypto
