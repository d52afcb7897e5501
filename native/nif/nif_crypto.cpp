// Key management: encrypt_database/3, decrypt_database/3, rekey/3. All dirty IO; the keys are
// read in place from their binaries and never copied here.
#include "ecto_libsql/crypto/encryption.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"

namespace ecto_libsql::nif {
namespace {

std::string path_arg(ErlNifEnv* env, ERL_NIF_TERM term) {
  const std::string_view path = binary_arg(env, term);
  if (path.find('\0') != std::string_view::npos) throw BadArg{};
  return std::string(path);
}

}  // namespace

// encrypt_database(source, destination, key) — dirty
ERL_NIF_TERM encrypt_database(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    crypto::encrypt_database(path_arg(env, argv[0]), path_arg(env, argv[1]),
                             binary_arg(env, argv[2]));
    return atoms::ok;
  });
}

// decrypt_database(source, destination, key) — dirty
ERL_NIF_TERM decrypt_database(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    crypto::decrypt_database(path_arg(env, argv[0]), path_arg(env, argv[1]),
                             binary_arg(env, argv[2]));
    return atoms::ok;
  });
}

// rekey(database, old_key, new_key) — dirty
ERL_NIF_TERM rekey(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    crypto::rekey_database(path_arg(env, argv[0]), binary_arg(env, argv[1]),
                           binary_arg(env, argv[2]));
    return atoms::ok;
  });
}

}  // namespace ecto_libsql::nif
