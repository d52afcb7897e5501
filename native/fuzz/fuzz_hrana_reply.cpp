// What a remote server answers, as the client reads it: any JSON through the check of a
// pipeline's answers (check_answers), the Hrana decoders (decode_value, decode_stmt_result,
// server_error, base64_decode) and the transaction guard's reading of a batch answer
// (unguarded). Besides not crashing: a reply the client cannot read is an ecto_libsql::Error
// (which becomes {:error, ...}), never another exception; answers that pass the check have the
// shape their readers rely on; a decoded result holds as many cells as its rows have columns.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "invariant.hpp"
#include "remote/hrana_json.hpp"
#include "remote/transaction_guard.hpp"

namespace {

using namespace ecto_libsql;
using namespace ecto_libsql::remote;
using fuzz::check;

// Runs `decode`; anything it throws must be an Error with a message.
template <class Decode>
void only_errors(Decode&& decode) {
  try {
    decode();
  } catch (const Error& e) {
    check(!e.message().empty(), "an error without a message");
  } catch (...) {
    check(false, "an exception other than ecto_libsql::Error");
  }
}

void decode_result(const json::value& value) {
  only_errors([&] {
    const StmtResult result = decode_stmt_result(value);
    check(result.cells.size() == result.row_count * result.columns.size(),
          "cells do not fill the rows");
    check(result.decltypes.size() == result.columns.size(), "a decltype per column");
  });
}

void read_guarded(const json::value& request, const json::value& answer) {
  only_errors([&] {
    std::optional<json::value> read = unguarded(request, answer);
    if (!read || !read->is_object()) return;
    const json::value* response = read->get_object().if_contains("response");
    if (response == nullptr || !response->is_object()) return;
    if (const json::value* result = response->get_object().if_contains("result")) {
      if (request.at("type") == "execute") decode_result(*result);
    }
  });
}

// check_answers on `answers` as the answers to requests of one `type`; when they pass, the
// fields the readers take without looking are there.
void check_as(const std::string& type, const json::array& answers) {
  only_errors([&] {
    const std::vector<std::string> types(answers.size(), type);
    check_answers(types, answers);
    for (const json::value& answer : answers) {
      const json::object& obj = answer.as_object();
      if (obj.at("type") == "error") {
        (void)server_error(obj.at("error"));
        continue;
      }
      const json::object& response = obj.at("response").as_object();
      if (type == "get_autocommit") continue;
      const json::object& result = response.at("result").as_object();
      if (type == "batch") {
        check(result.at("step_results").as_array().size() ==
                  result.at("step_errors").as_array().size(),
              "as many step results as step errors");
      } else {
        decode_result(response.at("result"));
      }
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  json::error_code ec;
  const json::value value =
      json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  decode_result(value);
  only_errors([&] { (void)decode_value(value); });
  // server_error reads any JSON as an error, without failing.
  only_errors([&] { (void)server_error(value); });
  if (value.is_string()) {
    only_errors([&] { (void)base64_decode(std::string_view(value.get_string())); });
  }
  if (value.is_array()) {
    for (const char* type : {"execute", "batch", "get_autocommit"})
      check_as(type, value.get_array());
    for (const json::value& element : value.get_array()) {
      decode_result(element);
      only_errors([&] { (void)decode_value(element); });
    }
  }
  static const json::value kExecute = execute_request("SELECT 1", {});
  static const json::value kBatch = batch_request(json::array{batch_step("SELECT 1")});
  read_guarded(kExecute, value);
  read_guarded(kBatch, value);
  return 0;
}
