#include "ecto_libsql/open.hpp"

#include "ecto_libsql/crypto/encryption.hpp"
#include "ecto_libsql/local/local_connection.hpp"
#include "ecto_libsql/remote/remote.hpp"
#include "ecto_libsql/replica/replica_connection.hpp"

namespace ecto_libsql {

std::shared_ptr<Connection> open_connection(const ConnectOptions& options) {
  switch (options.mode) {
    case Mode::Local:
      if (options.encryption_key) return crypto::open_encrypted(options);
      crypto::refuse_encrypted_without_key(options.database);
      return std::make_shared<local::LocalConnection>(options);
    case Mode::Remote:
      return remote::open_remote(options);
    case Mode::Replica:
      return replica::ReplicaConnection::open(options);
  }
  throw Error(kCodeMisuse, "Unknown mode");
}

}  // namespace ecto_libsql
