#include "foreign_key_probe.hpp"

#include <algorithm>
#include <iterator>
#include <tuple>

namespace ecto_libsql::remote {
namespace {

// (table, rowid, parent, fkid) of each row PRAGMA foreign_key_check reports.
using Violation = std::tuple<std::string, std::string, std::string, std::int64_t>;

std::string cell_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return {};
}

std::int64_t cell_int(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return -1;
}

std::vector<Violation> violations(const StmtResult& r) {
  std::vector<Violation> out;
  const std::size_t width = r.columns.size();
  if (width < 4) return out;
  for (std::size_t row = 0; row < r.row_count; ++row) {
    const Value* c = &r.cells[row * width];
    out.emplace_back(cell_text(c[0]), cell_text(c[1]), cell_text(c[2]), cell_int(c[3]));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<BrokenForeignKey> find_broken_foreign_key(HranaStream& stream, const std::string& sql,
                                                        const std::vector<Value>& args) noexcept {
  try {
    json::array steps;
    steps.push_back(batch_step("SAVEPOINT ecto_libsql_fk_probe"));
    steps.push_back(batch_step("PRAGMA foreign_key_check", {}, step_succeeded(0)));
    steps.push_back(batch_step("PRAGMA defer_foreign_keys = ON", {}, step_succeeded(1)));
    steps.push_back(batch_step(sql, encode_values(args), step_succeeded(2)));
    steps.push_back(batch_step("PRAGMA foreign_key_check", {}, step_succeeded(3)));
    steps.push_back(batch_step(
        "SELECT m.name, m.sql, f.id, f.seq, f.\"table\", f.\"from\" FROM sqlite_master AS m, "
        "pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
        {}, step_succeeded(0)));
    steps.push_back(batch_step("ROLLBACK TO ecto_libsql_fk_probe", {}, step_succeeded(0)));
    steps.push_back(batch_step("PRAGMA defer_foreign_keys = OFF", {}, step_succeeded(0)));
    steps.push_back(batch_step("RELEASE ecto_libsql_fk_probe", {}, step_succeeded(0)));
    json::array results = stream.pipeline(json::array{batch_request(std::move(steps))}, false,
                                          !stream.transaction().open());
    const json::object& first = results.at(0).get_object();
    if (first.at("type") != "ok") return std::nullopt;
    const json::array& step_results =
        first.at("response").at("result").at("step_results").get_array();
    if (step_results.size() < 6 || step_results[1].is_null() || step_results[4].is_null() ||
        step_results[5].is_null()) {
      return std::nullopt;
    }
    const std::vector<Violation> before = violations(decode_stmt_result(step_results[1]));
    const std::vector<Violation> after = violations(decode_stmt_result(step_results[4]));
    std::vector<Violation> fresh;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(fresh));
    if (fresh.empty()) return std::nullopt;
    const auto& [table, rowid, parent, fkid] = fresh.front();
    const StmtResult keys = decode_stmt_result(step_results[5]);
    const std::size_t width = keys.columns.size();
    if (width < 6) return std::nullopt;
    BrokenForeignKey broken{table, {}, parent, {}};
    std::string create_sql;
    for (std::size_t row = 0; row < keys.row_count; ++row) {
      const Value* c = &keys.cells[row * width];
      if (cell_text(c[0]) != table || cell_int(c[2]) != fkid) continue;
      create_sql = cell_text(c[1]);
      broken.parent = cell_text(c[4]);
      broken.columns.push_back(cell_text(c[5]));
    }
    if (broken.columns.empty()) return std::nullopt;
    name_foreign_key(broken, create_sql);
    return broken;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace ecto_libsql::remote
