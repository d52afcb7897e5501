// Hrana's JSON encoding of values, statement results and errors (FORMATS.md section C.4).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/value.hpp"

namespace ecto_libsql::remote {

namespace json = boost::json;

std::string base64_encode(std::span<const std::byte> bytes);
// Accepts the standard alphabet with or without padding. Throws Error on bad input.
std::vector<std::byte> base64_decode(std::string_view text);

json::value encode_value(const Value& value);
json::value encode_param(const ParamValue& value);
// Throws Error when `value` is not a Hrana value.
Value decode_value(const json::value& value);

// One statement's result, rows stored row after row.
struct StmtResult {
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> decltypes;
  std::vector<Value> cells;
  std::size_t row_count = 0;
  std::int64_t affected = 0;
  std::optional<std::int64_t> last_insert_rowid;
};

StmtResult decode_stmt_result(const json::value& result);

// An integer a server sent as a JSON number with an exact int64 value, or as a decimal
// string; nullopt for anything else.
std::optional<std::int64_t> integer_of(const json::value& value) noexcept;

// --- requests ---------------------------------------------------------------------------

json::array encode_values(const std::vector<Value>& values);
// An `execute` request of `sql`, or of the SQL stored on the server as `sql_id`.
json::object execute_request(const std::string& sql, const std::vector<Value>& args,
                             std::optional<std::int32_t> sql_id = {});
// A step of a `batch` request: `sql` with `args`, run when `condition` holds (null: always).
json::object batch_step(std::string_view sql, json::array args = {},
                        json::value condition = nullptr);
// The conditions "step `step` succeeded" and "step `step` did not succeed".
json::value step_succeeded(std::size_t step);
json::value step_failed(std::size_t step);
json::object batch_request(json::array steps);

// --- answers ----------------------------------------------------------------------------

// The `type` of each request, for check_answers.
std::vector<std::string> request_types(const json::array& requests);
// Checks that `answers` are what a server answers to requests of `types`: one per request, an
// error with its error object or an ok with its response; for execute, batch and describe a
// result object; for a batch as many step results as step errors; for describe an array of
// column objects. Throws Error (PROTOCOL) when not, so that the readers of an answer may rely
// on its shape.
void check_answers(const std::vector<std::string>& types, const json::array& answers);

// The engine error for a Hrana error object: the server's code is kept, the SQLite result code
// is derived from it (or from the message for servers that use their own codes).
Error server_error(const json::value& error);
Error server_error(std::string_view code, std::string_view message);

}  // namespace ecto_libsql::remote
