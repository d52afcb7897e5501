// Replaying the oracle files written by the real libSQL engine (tests/data/libsql/*.txt): each
// line is `SQL => result`, where the result is `ok`, `ERROR <CODE> (<n>): <message>`, a JSON
// array of rows, or `cols=["name:decltype", ...] rows=[...]`. Blobs are written as
// {"type":"Buffer","data":[...]}.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "ecto_libsql/connection.hpp"

namespace ecto_libsql::testing {

// A JSON value of the oracle files (numbers keep their text for exact comparison).
struct Json {
  enum class Kind { Null, Number, String, Array, Blob } kind = Kind::Null;
  std::string text;  // number text or string value
  std::vector<Json> items;
  std::string bytes;  // blob content
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}
  Json value() {
    skip();
    if (peek() == '[') return array();
    if (peek() == '"') return Json{Json::Kind::String, string(), {}, {}};
    if (peek() == '{') return buffer();
    if (s_.substr(pos_, 4) == "null") {
      pos_ += 4;
      return {};
    }
    const std::size_t start = pos_;
    // Numbers, and the bare Infinity / -Infinity the oracle writes for infinite results.
    while (pos_ < s_.size() &&
           std::string_view("+-.0123456789eEInfity").find(s_[pos_]) != std::string_view::npos)
      ++pos_;
    if (start == pos_) throw std::runtime_error("bad JSON at " + std::string(s_.substr(pos_)));
    return Json{Json::Kind::Number, std::string(s_.substr(start, pos_ - start)), {}, {}};
  }
  [[nodiscard]] std::size_t pos() const { return pos_; }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == ','))
      ++pos_;
  }
  Json array() {
    Json j{Json::Kind::Array, {}, {}, {}};
    ++pos_;
    skip();
    while (peek() != ']') {
      j.items.push_back(value());
      skip();
    }
    ++pos_;
    return j;
  }
  std::string string() {
    std::string out;
    ++pos_;
    while (peek() != '"') {
      if (peek() == '\\') ++pos_;
      out.push_back(s_[pos_++]);
    }
    ++pos_;
    return out;
  }
  Json buffer() {
    // {"type":"Buffer","data":[1,2,3]}
    const std::size_t data = s_.find("\"data\":", pos_);
    pos_ = data + 7;
    Json arr = array();
    Json j{Json::Kind::Blob, {}, {}, {}};
    for (const Json& b : arr.items)
      j.bytes.push_back(static_cast<char>(std::stoi(b.text)));
    pos_ = s_.find('}', pos_) + 1;
    return j;
  }
  std::string_view s_;
  std::size_t pos_ = 0;
};

struct OracleLine {
  std::string sql;
  std::string result;  // as written
};

inline std::vector<OracleLine> read_oracle(const std::string& path) {
  std::ifstream in(path);
  std::vector<OracleLine> lines;
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t at = line.find(" => ");
    if (at == std::string::npos) continue;
    lines.push_back({line.substr(0, at), line.substr(at + 4)});
  }
  return lines;
}

// Runs `sql` and renders what it answered in the oracle's notation.
inline std::string render_value(RowReader& r, int i) {
  switch (r.column_type(i)) {
    case ValueType::Null:
      return "null";
    case ValueType::Integer:
      return std::to_string(r.column_int64(i));
    case ValueType::Float: {
      std::ostringstream o;
      o.precision(17);
      o << r.column_double(i);
      return o.str();
    }
    case ValueType::Text:
      return "\"" + std::string(r.column_text(i)) + "\"";
    case ValueType::Blob: {
      std::string out = "{\"type\":\"Buffer\",\"data\":[";
      auto b = r.column_blob(i);
      for (std::size_t k = 0; k < b.size(); ++k) {
        if (k > 0) out += ",";
        out += std::to_string(static_cast<unsigned>(b[k]));
      }
      return out + "]}";
    }
  }
  return "?";
}

// Compares a value the engine produced with the oracle's JSON value: numbers by value (so 0 and
// 0.0 match; distances must be equal to the last bit), the rest exactly.
inline bool same_value(RowReader& r, int i, const Json& want) {
  switch (want.kind) {
    case Json::Kind::Null:
      return r.column_type(i) == ValueType::Null;
    case Json::Kind::Number: {
      const double w = std::strtod(want.text.c_str(), nullptr);
      if (r.column_type(i) == ValueType::Integer)
        return static_cast<double>(r.column_int64(i)) == w;
      if (r.column_type(i) == ValueType::Float) {
        // The oracle prints the shortest text that reads back as the same double.
        return r.column_double(i) == w;
      }
      return false;
    }
    case Json::Kind::String:
      return r.column_type(i) == ValueType::Text && r.column_text(i) == want.text;
    case Json::Kind::Blob: {
      if (r.column_type(i) != ValueType::Blob) return false;
      auto b = r.column_blob(i);
      return std::string(reinterpret_cast<const char*>(b.data()), b.size()) == want.bytes;
    }
    case Json::Kind::Array:
      return false;
  }
  return false;
}

// Runs one oracle line on `conn` and reports any difference as a test failure.
inline void check_oracle_line(Connection& conn, const OracleLine& line) {
  SCOPED_TRACE(line.sql + " => " + line.result);
  Connection::Guard guard(conn);
  std::string error;
  int error_code = 0;
  std::vector<std::string> got_columns;
  std::vector<std::vector<std::string>> rendered;
  bool matched_rows = true;
  std::optional<Json> want_rows;
  std::vector<std::string> want_columns;
  if (line.result.rfind("cols=", 0) == 0) {
    const std::size_t rows_at = line.result.find(" rows=");
    JsonReader cols(std::string_view(line.result).substr(5, rows_at - 5));
    for (const Json& c : cols.value().items)
      want_columns.push_back(c.text);
    JsonReader rows(std::string_view(line.result).substr(rows_at + 6));
    want_rows = rows.value();
  } else if (!line.result.empty() && line.result[0] == '[') {
    JsonReader rows(line.result);
    want_rows = rows.value();
  }
  try {
    auto stmt = conn.prepare(line.sql);
    stmt->bind(Params{});
    for (const ColumnInfo& c : stmt->columns())
      got_columns.push_back(c.name + ":" + (c.decltype_ ? *c.decltype_ : std::string("null")));
    std::size_t row = 0;
    while (stmt->step(nullptr) == Step::Row) {
      std::vector<std::string> cells;
      for (int i = 0; i < stmt->column_count(); ++i) {
        cells.push_back(render_value(*stmt, i));
        if (!want_rows || row >= want_rows->items.size() ||
            static_cast<std::size_t>(i) >= want_rows->items[row].items.size() ||
            !same_value(*stmt, i, want_rows->items[row].items[static_cast<std::size_t>(i)])) {
          matched_rows = false;
        }
      }
      if (want_rows && row < want_rows->items.size() &&
          want_rows->items[row].items.size() != cells.size()) {
        matched_rows = false;
      }
      rendered.push_back(std::move(cells));
      ++row;
    }
    if (want_rows && row != want_rows->items.size()) matched_rows = false;
  } catch (const Error& e) {
    error = e.message();
    error_code = e.code() & 0xff;
  }
  std::string got;
  for (const auto& r : rendered) {
    got += "[";
    for (const auto& c : r)
      got += c + ",";
    got += "]";
  }
  if (line.result == "ok") {
    EXPECT_EQ(error, "");
    return;
  }
  if (line.result.rfind("ERROR ", 0) == 0) {
    const std::size_t colon = line.result.find("): ");
    const std::string want_message = line.result.substr(colon + 3);
    const int want_code = std::stoi(line.result.substr(line.result.find('(') + 1));
    EXPECT_EQ(error, want_message) << "rows: " << got;
    EXPECT_EQ(error_code, want_code);
    return;
  }
  EXPECT_EQ(error, "");
  EXPECT_TRUE(matched_rows) << "got " << got;
  if (!want_columns.empty()) {
    EXPECT_EQ(got_columns, want_columns);
  }
}

}  // namespace ecto_libsql::testing
