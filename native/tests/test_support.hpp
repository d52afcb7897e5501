// Helpers shared by the engine tests.
#pragma once

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/open.hpp"

namespace ecto_libsql::testing {

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ecto_libsql_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::shared_ptr<Connection> open_local(const std::string& path, int busy_timeout = 5000) {
  ConnectOptions options;
  options.mode = Mode::Local;
  options.database = path;
  options.busy_timeout_ms = busy_timeout;
  return open_connection(options);
}

// Runs one statement with positional parameters and answers the rows as strings ("NULL" for
// null values), for compact assertions.
inline std::vector<std::vector<std::string>> rows(Connection& conn, std::string_view sql,
                                                  std::vector<ParamValue> params = {}) {
  Connection::Guard guard(conn);
  StatementLease stmt = conn.acquire(sql);
  Params p;
  p.positional = std::move(params);
  stmt->bind(p);
  std::vector<std::vector<std::string>> out;
  while (stmt->step(nullptr) == Step::Row) {
    std::vector<std::string> row;
    for (int i = 0; i < stmt->column_count(); ++i) {
      switch (stmt->column_type(i)) {
        case ValueType::Null:
          row.emplace_back("NULL");
          break;
        case ValueType::Integer:
          row.push_back(std::to_string(stmt->column_int64(i)));
          break;
        case ValueType::Float:
          row.push_back(std::to_string(stmt->column_double(i)));
          break;
        case ValueType::Text:
          row.emplace_back(stmt->column_text(i));
          break;
        case ValueType::Blob: {
          auto b = stmt->column_blob(i);
          row.emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
          break;
        }
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

inline void run(Connection& conn, std::string_view sql) {
  Connection::Guard guard(conn);
  conn.run(sql);
}

}  // namespace ecto_libsql::testing
