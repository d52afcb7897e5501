// The TLS context of remote connections: the system's certificate authorities, found where OpenSSL
// was built to look or, for an OpenSSL linked into the precompiled NIF and run on another system,
// in the distribution's bundle.
#include "remote/tls_context.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "ecto_libsql/error.hpp"

namespace {

namespace fs = std::filesystem;
using ecto_libsql::remote::fallback_ca_bundle;

// Unsets a variable for the test's duration (OpenSSL reads SSL_CERT_FILE and SSL_CERT_DIR, which
// the machine running the tests may set).
class UnsetEnv {
 public:
  explicit UnsetEnv(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
    ::unsetenv(name);
  }
  ~UnsetEnv() {
    if (saved_) ::setenv(name_, saved_->c_str(), 1);
  }
  UnsetEnv(const UnsetEnv&) = delete;
  UnsetEnv& operator=(const UnsetEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

class CaBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ecto_libsql_ca_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "empty_dir");
    fs::create_directories(dir_ / "certs_dir");
    std::ofstream(dir_ / "certs_dir" / "ca.pem") << "pem";
    std::ofstream(dir_ / "bundle.pem") << "pem";
    std::ofstream(dir_ / "other.pem") << "pem";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const char* name) const { return (dir_ / name).string(); }

  UnsetEnv cert_file_{"SSL_CERT_FILE"};
  UnsetEnv cert_dir_{"SSL_CERT_DIR"};
  fs::path dir_;
};

TEST_F(CaBundleTest, FirstExistingFileWhenOpenSslLocationsHoldNothing) {
  const std::string missing = path("missing.pem");
  const std::string a_dir = path("certs_dir");
  const std::string bundle = path("bundle.pem");
  const std::string other = path("other.pem");
  const std::array candidates = {missing.c_str(), a_dir.c_str(), bundle.c_str(), other.c_str()};
  const std::string none = path("none");
  const std::string empty_dir = path("empty_dir");
  EXPECT_EQ(fallback_ca_bundle(candidates, none.c_str(), empty_dir.c_str()), bundle);
  EXPECT_EQ(fallback_ca_bundle(candidates, nullptr, nullptr), bundle);
}

TEST_F(CaBundleTest, NothingWhenOpenSslLocationsHoldCertificates) {
  const std::string bundle = path("bundle.pem");
  const std::array candidates = {bundle.c_str()};
  const std::string other = path("other.pem");
  const std::string certs_dir = path("certs_dir");
  const std::string none = path("none");
  EXPECT_EQ(fallback_ca_bundle(candidates, other.c_str(), none.c_str()), "");
  EXPECT_EQ(fallback_ca_bundle(candidates, none.c_str(), certs_dir.c_str()), "");
}

TEST_F(CaBundleTest, NothingWhenNoCandidateExists) {
  const std::string missing = path("missing.pem");
  const std::string a_dir = path("certs_dir");
  const std::array candidates = {missing.c_str(), a_dir.c_str()};
  EXPECT_EQ(fallback_ca_bundle(candidates, nullptr, nullptr), "");
  EXPECT_EQ(fallback_ca_bundle({}, nullptr, nullptr), "");
}

TEST_F(CaBundleTest, NothingWhenTheEnvironmentChoosesTheCertificates) {
  const std::string bundle = path("bundle.pem");
  const std::array candidates = {bundle.c_str()};
  for (const char* variable : {"SSL_CERT_FILE", "SSL_CERT_DIR"}) {
    ::setenv(variable, "/somewhere", 1);
    EXPECT_EQ(fallback_ca_bundle(candidates, nullptr, nullptr), "") << variable;
    ::unsetenv(variable);
  }
  EXPECT_EQ(fallback_ca_bundle(candidates, nullptr, nullptr), bundle);
}

TEST(TlsContext, KnownBundlesAreAbsolutePaths) {
  const auto bundles = ecto_libsql::remote::known_ca_bundles();
  ASSERT_FALSE(bundles.empty());
  for (const char* bundle : bundles)
    EXPECT_EQ(bundle[0], '/') << bundle;
}

TEST(TlsContext, SystemCertificatesLoad) {
  EXPECT_NO_THROW(ecto_libsql::remote::make_tls_context(""));
}

TEST(TlsContext, AMissingCaFileIsAnErrorNamingIt) {
  try {
    ecto_libsql::remote::make_tls_context("/nonexistent/ca.pem");
    FAIL() << "no error";
  } catch (const ecto_libsql::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
