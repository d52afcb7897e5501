#include <openssl/crypto.h>

#include "ecto_libsql/crypto/encryption.hpp"

namespace ecto_libsql::crypto {

WipeOnExit::~WipeOnExit() {
  if (key_ && !key_->empty()) OPENSSL_cleanse(key_->data(), key_->size());
}

}  // namespace ecto_libsql::crypto
