// The TLS client context of remote connections (HTTPS and WSS): peers are verified against the
// system's certificate authorities, or against those of a PEM file (the tls_ca_file option).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <string>

namespace ecto_libsql::remote {

// Throws Error (misuse) naming the file when the certificates cannot be loaded.
boost::asio::ssl::context make_tls_context(const std::string& ca_file);

}  // namespace ecto_libsql::remote
