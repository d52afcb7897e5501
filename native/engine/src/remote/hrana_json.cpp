#include "hrana_json.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <span>
#include <utility>
#include <variant>

namespace ecto_libsql::remote {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

[[noreturn]] void bad_reply(std::string_view what) {
  throw Error(kCodeError, "remote: malformed server reply: " + std::string(what), "PROTOCOL");
}

const json::object& as_object(const json::value& v, std::string_view what) {
  if (!v.is_object()) bad_reply(what);
  return v.get_object();
}

}  // namespace

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::to_integer<unsigned>(bytes[i]) << 16U) |
                   (std::to_integer<unsigned>(bytes[i + 1]) << 8U) |
                   std::to_integer<unsigned>(bytes[i + 2]);
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += kAlphabet[(n >> 6U) & 63U];
    out += kAlphabet[n & 63U];
  }
  if (i < bytes.size()) {
    unsigned n = std::to_integer<unsigned>(bytes[i]) << 16U;
    if (i + 1 < bytes.size()) n |= std::to_integer<unsigned>(bytes[i + 1]) << 8U;
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::vector<std::byte> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  std::vector<std::byte> out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int d = decode_char(c);
    if (d < 0) bad_reply("invalid base64 in a blob");
    acc = (acc << 6U) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::byte>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

namespace {

// One Hrana value, from what an owned value or a borrowed parameter holds.
json::value encode_typed(Null /*null*/) {
  return json::object{{"type", "null"}};
}
json::value encode_typed(std::int64_t v) {
  return json::object{{"type", "integer"}, {"value", std::to_string(v)}};
}
json::value encode_typed(double v) {
  return json::object{{"type", "float"}, {"value", v}};
}
json::value encode_typed(std::string_view v) {
  return json::object{{"type", "text"}, {"value", json::string_view(v.data(), v.size())}};
}
json::value encode_typed(std::span<const std::byte> v) {
  return json::object{{"type", "blob"}, {"base64", base64_encode(v)}};
}
json::value encode_typed(BlobView v) {
  return encode_typed(v.bytes);
}

}  // namespace

json::value encode_value(const Value& value) {
  return std::visit([](const auto& v) { return encode_typed(v); }, value);
}

json::value encode_param(const ParamValue& value) {
  return std::visit([](const auto& v) { return encode_typed(v); }, value);
}

Value decode_value(const json::value& value) {
  const json::object& obj = as_object(value, "value is not an object");
  const json::value* type = obj.if_contains("type");
  if (type == nullptr || !type->is_string()) bad_reply("value without a type");
  const json::string& t = type->get_string();
  if (t == "null") return Null{};
  const json::value* v = obj.if_contains("value");
  if (t == "integer") {
    if (v != nullptr && v->is_string()) {
      const json::string& s = v->get_string();
      std::int64_t n = 0;
      const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec != std::errc{} || ptr != s.data() + s.size()) bad_reply("bad integer");
      return n;
    }
    if (v != nullptr && v->is_int64()) return v->get_int64();
    bad_reply("bad integer");
  }
  if (t == "float") {
    if (v == nullptr || !v->is_number()) bad_reply("bad float");
    return v->to_number<double>();
  }
  if (t == "text") {
    if (v == nullptr || !v->is_string()) bad_reply("bad text");
    return std::string(v->get_string());
  }
  if (t == "blob") {
    const json::value* b = obj.if_contains("base64");
    if (b == nullptr || !b->is_string()) bad_reply("bad blob");
    const json::string& s = b->get_string();
    return base64_decode(std::string_view(s.data(), s.size()));
  }
  bad_reply("unknown value type");
}

StmtResult decode_stmt_result(const json::value& result) {
  const json::object& obj = as_object(result, "result is not an object");
  StmtResult out;
  if (const json::value* cols = obj.if_contains("cols"); cols != nullptr && cols->is_array()) {
    for (const json::value& col : cols->get_array()) {
      const json::object& c = as_object(col, "column");
      const json::value* name = c.if_contains("name");
      out.columns.emplace_back(name != nullptr && name->is_string() ? name->get_string().c_str()
                                                                    : "");
      const json::value* decl = c.if_contains("decltype");
      out.decltypes.push_back(decl != nullptr && decl->is_string()
                                  ? std::optional<std::string>(decl->get_string().c_str())
                                  : std::nullopt);
    }
  }
  if (const json::value* rows = obj.if_contains("rows"); rows != nullptr && rows->is_array()) {
    const json::array& arr = rows->get_array();
    out.cells.reserve(arr.size() * out.columns.size());
    for (const json::value& row : arr) {
      if (!row.is_array() || row.get_array().size() != out.columns.size()) bad_reply("row");
      for (const json::value& cell : row.get_array())
        out.cells.push_back(decode_value(cell));
    }
    out.row_count = arr.size();
  }
  if (const json::value* n = obj.if_contains("affected_row_count"); n != nullptr && !n->is_null()) {
    const std::optional<std::int64_t> count = integer_of(*n);
    if (!count) bad_reply("bad affected_row_count");
    out.affected = *count;
  }
  if (const json::value* id = obj.if_contains("last_insert_rowid"); id != nullptr) {
    out.last_insert_rowid = integer_of(*id);
  }
  return out;
}

std::optional<std::int64_t> integer_of(const json::value& value) noexcept {
  if (value.is_string()) {
    const json::string& s = value.get_string();
    std::int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return n;
  }
  if (!value.is_number()) return std::nullopt;
  json::error_code ec;
  const auto n = value.to_number<std::int64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

json::array encode_values(const std::vector<Value>& values) {
  json::array out;
  out.reserve(values.size());
  for (const Value& v : values)
    out.push_back(encode_value(v));
  return out;
}

json::object execute_request(const std::string& sql, const std::vector<Value>& args,
                             std::optional<std::int32_t> sql_id) {
  json::object stmt;
  if (sql_id) {
    stmt["sql_id"] = *sql_id;
  } else {
    stmt["sql"] = sql;
  }
  stmt["args"] = encode_values(args);
  return json::object{{"type", "execute"}, {"stmt", std::move(stmt)}};
}

json::object batch_step(std::string_view sql, json::array args, json::value condition) {
  json::object stmt{{"sql", json::string_view(sql.data(), sql.size())}, {"args", std::move(args)}};
  json::object step{{"stmt", std::move(stmt)}};
  if (!condition.is_null()) step["condition"] = std::move(condition);
  return step;
}

json::value step_succeeded(std::size_t step) {
  return json::object{{"type", "ok"}, {"step", step}};
}

json::value step_failed(std::size_t step) {
  return json::object{{"type", "not"}, {"cond", step_succeeded(step)}};
}

json::object batch_request(json::array steps) {
  return json::object{{"type", "batch"}, {"batch", json::object{{"steps", std::move(steps)}}}};
}

std::vector<std::string> request_types(const json::array& requests) {
  std::vector<std::string> types;
  types.reserve(requests.size());
  for (const json::value& request : requests) {
    const json::value* type =
        request.is_object() ? request.get_object().if_contains("type") : nullptr;
    types.emplace_back(type != nullptr && type->is_string() ? type->get_string() : "");
  }
  return types;
}

void check_answers(const std::vector<std::string>& types, const json::array& answers) {
  if (answers.size() != types.size()) bad_reply("not one result per request");
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const json::object& answer = as_object(answers[i], "a result is not an object");
    const json::value* type = answer.if_contains("type");
    if (type != nullptr && *type == "error") {
      if (!answer.contains("error")) bad_reply("an error result without its error");
      continue;
    }
    if (type == nullptr || *type != "ok") bad_reply("a result neither ok nor error");
    const json::value* response = answer.if_contains("response");
    if (response == nullptr) bad_reply("an ok result without its response");
    const json::object& r = as_object(*response, "a response is not an object");
    const std::string& request = types[i];
    if (request != "execute" && request != "batch" && request != "describe") continue;
    const json::value* result = r.if_contains("result");
    if (result == nullptr) bad_reply("a response without its result");
    const json::object& res = as_object(*result, "a result is not an object");
    if (request == "batch") {
      const json::value* results = res.if_contains("step_results");
      const json::value* errors = res.if_contains("step_errors");
      if (results == nullptr || errors == nullptr || !results->is_array() || !errors->is_array() ||
          results->get_array().size() != errors->get_array().size()) {
        bad_reply("a batch result without as many step results as step errors");
      }
    } else if (request == "describe") {
      const json::value* cols = res.if_contains("cols");
      if (cols == nullptr || !cols->is_array()) bad_reply("a description without its columns");
      for (const json::value& col : cols->get_array())
        (void)as_object(col, "a column is not an object");
    }
  }
}

Error server_error(std::string_view code, std::string_view message) {
  static constexpr std::array<std::pair<std::string_view, int>, 24> kCodes{{
      {"SQLITE_ERROR", 1},     {"SQLITE_INTERNAL", 2},  {"SQLITE_PERM", 3},
      {"SQLITE_ABORT", 4},     {"SQLITE_BUSY", 5},      {"SQLITE_LOCKED", 6},
      {"SQLITE_NOMEM", 7},     {"SQLITE_READONLY", 8},  {"SQLITE_INTERRUPT", 9},
      {"SQLITE_IOERR", 10},    {"SQLITE_CORRUPT", 11},  {"SQLITE_NOTFOUND", 12},
      {"SQLITE_FULL", 13},     {"SQLITE_CANTOPEN", 14}, {"SQLITE_PROTOCOL", 15},
      {"SQLITE_SCHEMA", 17},   {"SQLITE_TOOBIG", 18},   {"SQLITE_CONSTRAINT", 19},
      {"SQLITE_MISMATCH", 20}, {"SQLITE_MISUSE", 21},   {"SQLITE_NOLFS", 22},
      {"SQLITE_AUTH", 23},     {"SQLITE_RANGE", 25},    {"SQLITE_NOTADB", 26},
  }};
  int rc = kCodeError;
  for (const auto& [name, value] : kCodes) {
    if (code == name) rc = value;
  }
  // Extended constraint codes from SQLite's own message texts (servers send primary codes or
  // codes of their own).
  static constexpr std::array<std::pair<std::string_view, int>, 5> kConstraints{{
      {"UNIQUE constraint failed", kCodeConstraintUnique},
      {"NOT NULL constraint failed", kCodeConstraintNotNull},
      {"FOREIGN KEY constraint failed", kCodeConstraintForeignKey},
      {"CHECK constraint failed", kCodeConstraintCheck},
      {"PRIMARY KEY constraint failed", kCodeConstraintPrimaryKey},
  }};
  for (const auto& [text, value] : kConstraints) {
    if (message.find(text) != std::string_view::npos) rc = value;
  }
  if (rc == kCodeError && message.find("constraint failed") != std::string_view::npos)
    rc = kCodeConstraint;
  if (rc == kCodeError && message.find("database is locked") != std::string_view::npos)
    rc = kCodeBusy;
  return Error(rc, std::string(message), code.empty() ? std::string("UNKNOWN") : std::string(code),
               constraint_from_message(rc, message));
}

Error server_error(const json::value& error) {
  if (!error.is_object()) return server_error("", "remote: unknown server error");
  const json::object& obj = error.get_object();
  const json::value* code = obj.if_contains("code");
  const json::value* message = obj.if_contains("message");
  const std::string_view c =
      code != nullptr && code->is_string() ? std::string_view(code->get_string()) : "";
  const std::string_view m = message != nullptr && message->is_string()
                                 ? std::string_view(message->get_string())
                                 : "remote: server error without a message";
  return server_error(c, m);
}

}  // namespace ecto_libsql::remote
