#include "hrana_batch.hpp"

#include <string>

#include "ecto_libsql/parameters.hpp"

namespace ecto_libsql::remote {
namespace {

constexpr std::string_view kCountsSql = "SELECT changes(), last_insert_rowid()";
constexpr std::string_view kSavepoint = "ecto_libsql_batch";

}  // namespace

bool is_dml(const sql::Classification& cls) noexcept {
  return cls.command == sql::Command::Insert || cls.command == sql::Command::Update ||
         cls.command == sql::Command::Delete;
}

bool is_plain_read(const sql::Classification& cls) noexcept {
  return cls.command == sql::Command::Select && !cls.has_returning;
}

std::size_t add_counts_step(json::array& steps, std::size_t after) {
  steps.push_back(batch_step(kCountsSql, {}, step_succeeded(after)));
  return steps.size() - 1;
}

void take_counts(StmtResult& result, const json::value& counts_result) {
  if (counts_result.is_null()) return;
  const StmtResult counts = decode_stmt_result(counts_result);
  if (counts.cells.size() != 2) return;
  if (const auto* affected = std::get_if<std::int64_t>(&counts.cells[0])) {
    result.affected = *affected;
  }
  if (const auto* rowid = std::get_if<std::int64_t>(&counts.cells[1])) {
    result.last_insert_rowid = *rowid;
  }
}

HranaBatch::HranaBatch(std::span<const BatchStep> steps, bool transactional,
                       bool inside_transaction, bool ask_counts)
    : classes_(steps.size()), index_of_(steps.size()), counts_(steps.size()) {
  const bool outer = transactional && !inside_transaction;
  const std::string savepoint(kSavepoint);
  if (transactional) {
    begin_ = steps_.size();
    steps_.push_back(batch_step(outer ? "BEGIN" : "SAVEPOINT " + savepoint));
  }
  std::optional<std::size_t> previous = begin_;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::string_view sql = steps[i].sql;
    classes_[i] = sql::classify(sql);
    if (classes_[i].is_empty) throw Error(kCodeMisuse, "No SQL statement given");
    if (!is_plain_read(classes_[i])) read_only_ = false;
    const std::vector<std::string> names = sql::parameter_names(sql);
    json::array args;
    for (const ParamValue* value : parameter_values(names, steps[i].params))
      args.push_back(encode_param(*value));
    index_of_[i] = steps_.size();
    steps_.push_back(batch_step(sql, std::move(args),
                                previous ? step_succeeded(*previous) : json::value(nullptr)));
    previous = index_of_[i];
    if (ask_counts && is_dml(classes_[i])) counts_[i] = add_counts_step(steps_, index_of_[i]);
  }
  if (transactional) {
    finish_ = steps_.size();
    steps_.push_back(batch_step(outer ? "COMMIT" : "RELEASE " + savepoint, {},
                                previous ? step_succeeded(*previous) : json::value(nullptr)));
    if (outer) {
      steps_.push_back(batch_step("ROLLBACK", {}, step_failed(*finish_)));
    } else {
      steps_.push_back(batch_step("ROLLBACK TO " + savepoint, {}, step_failed(*finish_)));
      steps_.push_back(batch_step("RELEASE " + savepoint, {}, step_failed(*finish_)));
    }
  }
}

json::object HranaBatch::take_request() {
  return batch_request(std::move(steps_));
}

std::vector<StmtResult> HranaBatch::results(const json::object& batch_result) const {
  const json::array& step_results = batch_result.at("step_results").get_array();
  const json::array& step_errors = batch_result.at("step_errors").get_array();
  auto throw_error_at = [&](std::optional<std::size_t> k) {
    if (k && *k < step_errors.size() && !step_errors[*k].is_null()) {
      throw server_error(step_errors[*k]);
    }
  };
  throw_error_at(begin_);
  for (const std::size_t k : index_of_)
    throw_error_at(k);
  throw_error_at(finish_);
  std::vector<StmtResult> out;
  out.reserve(index_of_.size());
  for (std::size_t i = 0; i < index_of_.size(); ++i) {
    const std::size_t k = index_of_[i];
    if (k >= step_results.size() || step_results[k].is_null()) {
      throw Error(kCodeError, "remote: batch step " + std::to_string(i) + " did not run",
                  "PROTOCOL");
    }
    StmtResult result = decode_stmt_result(step_results[k]);
    if (counts_[i] && *counts_[i] < step_results.size()) {
      take_counts(result, step_results[*counts_[i]]);
    }
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace ecto_libsql::remote
