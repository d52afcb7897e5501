#include "transaction_guard.hpp"

#include <cstdint>
#include <utility>

namespace ecto_libsql::remote {
namespace {

// Runs only while the connection is not in autocommit: its transaction is still there.
json::value transaction_guard() {
  return json::object{{"type", "not"}, {"cond", json::object{{"type", "is_autocommit"}}}};
}

// `condition` with every step it names moved one step on.
json::value shifted(const json::value& condition) {
  if (!condition.is_object()) return condition;
  json::object moved = condition.get_object();
  if (const json::value* step = moved.if_contains("step"); step != nullptr && step->is_number()) {
    moved["step"] = step->to_number<std::uint64_t>() + 1;
  }
  if (const json::value* inner = moved.if_contains("cond")) moved["cond"] = shifted(*inner);
  if (const json::value* conds = moved.if_contains("conds");
      conds != nullptr && conds->is_array()) {
    json::array each;
    for (const json::value& c : conds->get_array())
      each.push_back(shifted(c));
    moved["conds"] = std::move(each);
  }
  return moved;
}

}  // namespace

json::value guarded(const json::value& request) {
  const json::object& obj = request.as_object();
  json::array steps{batch_step("SELECT 1", {}, transaction_guard())};
  if (obj.at("type") == "execute") {
    steps.push_back(json::object{{"stmt", obj.at("stmt")}, {"condition", step_succeeded(0)}});
    return batch_request(std::move(steps));
  }
  for (const json::value& step : obj.at("batch").at("steps").as_array()) {
    json::object moved = step.as_object();
    const json::value* condition = moved.if_contains("condition");
    if (condition != nullptr && !condition->is_null()) {
      moved["condition"] = json::object{
          {"type", "and"}, {"conds", json::array{step_succeeded(0), shifted(*condition)}}};
    } else {
      moved["condition"] = step_succeeded(0);
    }
    steps.push_back(std::move(moved));
  }
  return batch_request(std::move(steps));
}

bool is_guardable(const json::value& request) {
  const json::value* type =
      request.is_object() ? request.get_object().if_contains("type") : nullptr;
  return type != nullptr && (*type == "execute" || *type == "batch");
}

std::optional<json::value> unguarded(const json::value& request, json::value answer) {
  if (!answer.is_object() || answer.get_object().if_contains("type") == nullptr ||
      answer.at("type") != "ok") {
    return answer;
  }
  const auto malformed = [] {
    return Error(kCodeError, "remote: malformed server reply (batch results)", "PROTOCOL");
  };
  json::value* response = answer.get_object().if_contains("response");
  json::value* batch = response != nullptr && response->is_object()
                           ? response->get_object().if_contains("result")
                           : nullptr;
  if (batch == nullptr || !batch->is_object()) throw malformed();
  json::value* results = batch->get_object().if_contains("step_results");
  json::value* errors = batch->get_object().if_contains("step_errors");
  if (results == nullptr || errors == nullptr || !results->is_array() || !errors->is_array() ||
      results->get_array().empty() || errors->get_array().size() != results->get_array().size()) {
    throw malformed();
  }
  json::array& step_results = results->get_array();
  json::array& step_errors = errors->get_array();
  if (!step_errors[0].is_null()) return json::object{{"type", "error"}, {"error", step_errors[0]}};
  if (step_results[0].is_null()) return std::nullopt;
  step_results.erase(step_results.begin());
  step_errors.erase(step_errors.begin());
  if (request.at("type") == "batch") return answer;
  if (step_results.empty()) throw malformed();
  if (!step_errors[0].is_null()) return json::object{{"type", "error"}, {"error", step_errors[0]}};
  return json::object{
      {"type", "ok"},
      {"response", json::object{{"type", "execute"}, {"result", std::move(step_results[0])}}}};
}

}  // namespace ecto_libsql::remote
