#include "tls_context.hpp"

#include <openssl/x509.h>
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <filesystem>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::remote {

namespace {

constexpr std::array<const char*, 5> kCaBundles = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Arch, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL, CentOS
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/ssl/cert.pem",                                  // macOS, Alpine, OpenBSD
};

bool is_file(const char* path) {
  struct stat st {};
  return path != nullptr && ::stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool is_non_empty_directory(const char* path) {
  if (path == nullptr) return false;
  std::error_code ec;
  const std::filesystem::directory_iterator it(path, ec);
  return !ec && it != std::filesystem::directory_iterator();
}

}  // namespace

std::span<const char* const> known_ca_bundles() {
  return kCaBundles;
}

std::string fallback_ca_bundle(std::span<const char* const> candidates, const char* openssl_file,
                               const char* openssl_dir) {
  if (std::getenv(X509_get_default_cert_file_env()) != nullptr ||
      std::getenv(X509_get_default_cert_dir_env()) != nullptr || is_file(openssl_file) ||
      is_non_empty_directory(openssl_dir)) {
    return {};
  }
  for (const char* candidate : candidates) {
    if (is_file(candidate)) return candidate;
  }
  return {};
}

boost::asio::ssl::context make_tls_context(const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_client);
  boost::system::error_code ec;
  std::string loaded = ca_file;
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    if (!ec) {
      loaded = fallback_ca_bundle(known_ca_bundles(), X509_get_default_cert_file(),
                                  X509_get_default_cert_dir());
      if (!loaded.empty()) ctx.load_verify_file(loaded, ec);
    }
  } else {
    ctx.load_verify_file(ca_file, ec);
  }
  if (ec) {
    throw Error(kCodeMisuse, "Failed to connect: cannot load the trusted certificates" +
                                 (loaded.empty() ? std::string() : " from " + loaded) + ": " +
                                 ec.message());
  }
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace ecto_libsql::remote
