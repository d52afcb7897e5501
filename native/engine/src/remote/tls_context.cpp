#include "tls_context.hpp"

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::remote {

boost::asio::ssl::context make_tls_context(const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_client);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.load_verify_file(ca_file, ec);
  }
  if (ec) {
    throw Error(kCodeMisuse, "Failed to connect: cannot load the trusted certificates" +
                                 (ca_file.empty() ? std::string() : " from " + ca_file) + ": " +
                                 ec.message());
  }
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace ecto_libsql::remote
