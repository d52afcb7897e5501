// The TLS client context of remote connections (HTTPS and WSS): peers are verified against the
// system's certificate authorities, or against those of a PEM file (the tls_ca_file option).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <span>
#include <string>

namespace ecto_libsql::remote {

// Throws Error (misuse) naming the file when the certificates cannot be loaded.
boost::asio::ssl::context make_tls_context(const std::string& ca_file);

// Where Linux distributions and macOS keep their bundle of certificate authorities.
std::span<const char* const> known_ca_bundles();

// The system's certificate bundle to load when OpenSSL's own locations hold none. Those are fixed
// when OpenSSL is built (/usr/lib/ssl on Debian, /etc/pki/tls on Fedora): the precompiled NIF,
// whose OpenSSL is linked in, runs on other systems than the one it was built on. Answers the
// first of `candidates` that is a regular file, or "" when `openssl_file` is a file,
// `openssl_dir` a non-empty directory, SSL_CERT_FILE or SSL_CERT_DIR is set (OpenSSL reads them),
// or no candidate exists.
std::string fallback_ca_bundle(std::span<const char* const> candidates, const char* openssl_file,
                               const char* openssl_dir);

}  // namespace ecto_libsql::remote
