#include <openssl/crypto.h>

#include "ecto_libsql/crypto/encryption.hpp"

namespace ecto_libsql::crypto {

WipeOnExit::~WipeOnExit() {
  if (!key_) return;
  std::string& key = *key_;
  if (!key.empty()) OPENSSL_cleanse(key.data(), key.size());
}

}  // namespace ecto_libsql::crypto
