// Helpers shared by the encryption tests: the libSQL oracle files and raw file access.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ecto_libsql::testing {

inline constexpr const char* kOracleKey = "peer-test-key-0123456789";              // 24 characters
inline constexpr const char* kMultipageKey = "a-32-character-encryption-key-000";  // 33 characters

inline std::string oracle_path(const std::string& name) {
  return std::string(ECTO_LIBSQL_TESTDATA) + "/" + name;
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Copies an oracle file into `path` (the originals are never opened for writing).
inline void copy_oracle(const std::string& name, const std::string& path) {
  std::filesystem::copy_file(oracle_path(name), path,
                             std::filesystem::copy_options::overwrite_existing);
}

inline bool contains(const std::vector<std::uint8_t>& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

}  // namespace ecto_libsql::testing

#include "ecto_libsql/crypto/encryption.hpp"
#include "test_support.hpp"

namespace ecto_libsql::testing {

inline constexpr const char* kKey = "0123456789abcdef0123456789abcdef-test";  // 37 characters

inline ConnectOptions encrypted_options(const std::string& path, std::string_view key = kKey) {
  ConnectOptions options;
  options.mode = Mode::Local;
  options.database = path;
  options.encryption_key = std::string(key);
  return options;
}

// Through open_connection, as connect/1 does.
inline std::shared_ptr<Connection> open_encrypted_local(const std::string& path,
                                                        std::string_view key = kKey) {
  return open_connection(encrypted_options(path, key));
}

// The error a call throws (fails the test when it throws none).
template <class F>
Error error_of(F&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an Error";
  return Error(0, "");
}

}  // namespace ecto_libsql::testing
