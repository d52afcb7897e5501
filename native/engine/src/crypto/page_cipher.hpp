// The page cipher libSQL uses by default: SQLite3 Multiple Ciphers' "aes256cbc" (wxSQLite3
// AES-256-CBC, non-legacy scheme, no reserved bytes, no MAC). Key derivation, per-page keys and
// initial vectors, and page 1's plaintext header bytes follow FORMATS.md section B exactly.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace ecto_libsql::crypto {

class PageCipher {
 public:
  static constexpr std::size_t kKeySize = 32;

  enum class Result {
    Ok,
    BadHeader,  // page 1 did not decrypt to its plaintext header copy: wrong key or not ours
    Failed,     // OpenSSL failed (out of memory)
  };

  // Derives the key from a passphrase: only its first 32 bytes count, as in libSQL. Throws
  // Error when OpenSSL cannot provide AES-256-CBC, SHA-256 or MD5.
  explicit PageCipher(std::string_view passphrase);
  ~PageCipher();
  PageCipher(const PageCipher&) = delete;
  PageCipher& operator=(const PageCipher&) = delete;

  // Encrypts page `pgno` (`size` bytes, the page size) from `in` into `out`; the buffers must not
  // overlap.
  [[nodiscard]] bool encrypt(std::uint32_t pgno, const std::uint8_t* in, std::uint8_t* out,
                             std::size_t size) noexcept;

  // Decrypts in place the first `size` bytes of page `pgno`: a whole page, or a prefix (a
  // multiple of 16 bytes, at least 32 for page 1), since CBC decrypts any prefix on its own.
  [[nodiscard]] Result decrypt(std::uint32_t pgno, std::uint8_t* data, std::size_t size) noexcept;

  // A key for another purpose, derived from this one: SHA-256(key || label). Throws Error when
  // OpenSSL fails.
  [[nodiscard]] std::array<std::uint8_t, kKeySize> derive_key(std::string_view label);

 private:
  bool crypt(bool encrypting, std::uint32_t pgno, const std::uint8_t* in, std::uint8_t* out,
             std::size_t size) noexcept;

  struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
  };
  struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
  };

  std::array<std::uint8_t, kKeySize> key_{};
  // One context per direction and digest, set up once: re-keying a context that keeps its
  // algorithm costs a fraction of a fresh set-up, which matters at one key per page.
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> encrypt_ctx_;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> decrypt_ctx_;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> sha256_ctx_;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md5_ctx_;
};

}  // namespace ecto_libsql::crypto
