// Embedded replicas syncing over TLS (https:// and libsql://) through a real HTTPS endpoint on
// loopback: a Node reverse proxy (test/support/tls_proxy.js) with a certificate made for the
// test by `openssl req`, in front of tursodb --sync-server. The certificate is trusted through
// the tls_ca_file option, or SSL_CERT_FILE (read by OpenSSL's default verify paths).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "crypto_support.hpp"
#include "ecto_libsql/replica/replica_connection.hpp"
#include "test_support.hpp"
#include "tursodb_server.hpp"

namespace ecto_libsql {
namespace {

using testing::error_of;
using testing::rows;
using testing::TempDir;
using testing::TursoServer;

std::filesystem::path repository_root() {
  return std::filesystem::path(ECTO_LIBSQL_TESTDATA).parent_path().parent_path().parent_path();
}

bool have_program(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

// The HTTPS proxy, stopped (and its standard input closed) when the test ends.
class TlsProxy {
 public:
  // Another free port is tried when the proxy exits at start (its port taken meanwhile).
  TlsProxy(const std::string& cert, const std::string& key, int target_port) {
    for (int attempt = 1; !start(cert, key, target_port); ++attempt) {
      if (attempt == 3) throw std::runtime_error("the TLS proxy exited at start");
    }
  }
  ~TlsProxy() { stop(); }
  TlsProxy(const TlsProxy&) = delete;
  TlsProxy& operator=(const TlsProxy&) = delete;
  void stop() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  [[nodiscard]] int port() const { return port_; }

 private:
  // Starts the proxy on a free port and waits until it listens itself (up to 30 s); false when
  // it exits first.
  bool start(const std::string& cert, const std::string& key, int target_port) {
    port_ = testing::free_port();
    const std::string script = (repository_root() / "test/support/tls_proxy.js").string();
    const std::string listen = std::to_string(port_);
    const std::string target = std::to_string(target_port);
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[0], 0);
      ::close(fds[0]);
      ::close(fds[1]);
      ::freopen("/dev/null", "w", stdout);
      ::execlp("node", "node", script.c_str(), cert.c_str(), key.c_str(), listen.c_str(),
               target.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    stdin_ = fds[1];
    switch (testing::await_listening(pid_, port_)) {
      case testing::ChildStart::listening:
        return true;
      case testing::ChildStart::exited:
        pid_ = -1;
        stop();
        return false;
      case testing::ChildStart::silent:
        break;
    }
    stop();
    throw std::runtime_error("the TLS proxy did not start");
  }

  int port_ = 0;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

class ReplicaTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bin = testing::tursodb_path();
    if (bin.empty()) GTEST_SKIP() << "tursodb not found: run scripts/setup --no-apt";
    if (!have_program("node") || !have_program("openssl")) {
      GTEST_SKIP() << "node and openssl are needed for the TLS endpoint";
    }
    // A self-signed certificate for "localhost" only (not for 127.0.0.1).
    cert_ = dir_.file("cert.pem");
    key_ = dir_.file("key.pem");
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout '" +
        key_ + "' -out '" + cert_ + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    server_ = std::make_unique<TursoServer>(bin, dir_.file("server.db"));
    server_->exec_all({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                       "INSERT INTO t(v) VALUES ('one'), ('two'), ('three')"});
    proxy_ = std::make_unique<TlsProxy>(cert_, key_, server_->port());
  }

  [[nodiscard]] ConnectOptions options(const std::string& uri,
                                       const std::string& name = "replica.db") const {
    ConnectOptions o;
    o.mode = Mode::Replica;
    o.database = dir_.file(name);
    o.uri = uri;
    o.auth_token = "token";
    o.tls_ca_file = cert_;
    return o;
  }
  [[nodiscard]] std::string url(const std::string& scheme, const std::string& host) const {
    return scheme + "://" + host + ":" + std::to_string(proxy_->port());
  }

  TempDir dir_;
  std::string cert_;
  std::string key_;
  std::unique_ptr<TursoServer> server_;
  std::unique_ptr<TlsProxy> proxy_;
};

TEST_F(ReplicaTlsTest, SyncsOverHttpsAndLibsqlUrls) {
  for (const char* scheme : {"https", "libsql"}) {
    SCOPED_TRACE(scheme);
    const std::string name = std::string(scheme) + ".db";
    auto conn = open_connection(options(url(scheme, "localhost"), name));
    EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "3");
    server_->exec("INSERT INTO t(v) VALUES ('more')");
    {
      Connection::Guard guard(*conn);
      EXPECT_GT(conn->sync().frames_synced, 0);
    }
    EXPECT_EQ(rows(*conn, "SELECT v FROM t ORDER BY id DESC LIMIT 1")[0][0], "more");
    server_->exec("DELETE FROM t WHERE v = 'more'");
  }
}

TEST_F(ReplicaTlsTest, ForwardedWritesUseTlsToo) {
  auto conn = open_connection(options(url("https", "localhost")));
  try {
    testing::run(*conn, "INSERT INTO t(v) VALUES ('written')");
  } catch (const Error& e) {
    if (e.message().find("not available in this build") != std::string::npos) {
      GTEST_SKIP() << "remote mode is not in this build";
    }
    throw;
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t WHERE v = 'written'")[0][0], "1");
}

TEST_F(ReplicaTlsTest, EncryptedReplicaOverTls) {
  auto o = options(url("libsql", "localhost"));
  o.encryption_key = std::string(testing::kKey);
  auto conn = open_connection(o);
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "3");
  EXPECT_EQ(rows(*conn, "PRAGMA integrity_check")[0][0], "ok");
}

TEST_F(ReplicaTlsTest, SslCertFileIsHonouredWithoutTheOption) {
  ::setenv("SSL_CERT_FILE", cert_.c_str(), 1);
  auto o = options(url("https", "localhost"));
  o.tls_ca_file.clear();
  auto conn = open_connection(o);
  ::unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "3");
}

TEST_F(ReplicaTlsTest, UntrustedCertificateIsRefused) {
  // The system store: the self-signed certificate has no trusted issuer.
  ::unsetenv("SSL_CERT_FILE");
  auto system_store = options(url("https", "localhost"));
  system_store.tls_ca_file.clear();
  const Error e = error_of([&] { open_connection(system_store); });
  EXPECT_EQ(e.code() & 0xff, kCodeIoErr);
  EXPECT_NE(e.message().find("TLS handshake with localhost failed"), std::string::npos)
      << e.message();
  EXPECT_NE(e.message().find("self-signed certificate"), std::string::npos) << e.message();
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db-sync")));

  // A CA file that cannot be read is an error of its own.
  auto missing = options(url("https", "localhost"));
  missing.tls_ca_file = dir_.file("missing.pem");
  EXPECT_NE(error_of([&] { open_connection(missing); }).message().find("trusted certificates"),
            std::string::npos);

  // Another CA: an existing replica keeps serving reads; sync reports the error.
  const std::string other_key = dir_.file("other_key.pem");
  const std::string other_cert = dir_.file("other_cert.pem");
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-nodes -days 1 -subj /CN=localhost -keyout '" +
                         other_key + "' -out '" + other_cert + "' >/dev/null 2>&1")
                            .c_str()),
            0);
  { auto conn = open_connection(options(url("https", "localhost"))); }
  auto o = options(url("https", "localhost"));
  o.tls_ca_file = other_cert;
  auto conn = open_connection(o);
  {
    Connection::Guard guard(*conn);
    const Error sync_error = error_of([&] { conn->sync(); });
    EXPECT_NE(sync_error.message().find("TLS handshake"), std::string::npos)
        << sync_error.message();
  }
  EXPECT_EQ(rows(*conn, "SELECT count(*) FROM t")[0][0], "3");
}

TEST_F(ReplicaTlsTest, WrongHostNameIsRefused) {
  // The certificate names localhost, not 127.0.0.1.
  const Error e = error_of([&] { open_connection(options(url("https", "127.0.0.1"))); });
  EXPECT_EQ(e.code() & 0xff, kCodeIoErr);
  EXPECT_NE(e.message().find("TLS handshake with 127.0.0.1 failed"), std::string::npos)
      << e.message();
  EXPECT_NE(e.message().find("hostname mismatch"), std::string::npos) << e.message();
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db")));
}

TEST_F(ReplicaTlsTest, PlainHttpToATlsPortFailsClearly) {
  const Error e = error_of([&] { open_connection(options(url("http", "localhost"))); });
  EXPECT_FALSE(e.message().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.file("replica.db")));
}

}  // namespace
}  // namespace ecto_libsql
