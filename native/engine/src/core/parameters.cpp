#include "ecto_libsql/parameters.hpp"

#include <string>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// How well `key` names the parameter `name` (with its prefix): 0 best, kNone not at all.
std::size_t rank(const NamedParam& key, std::string_view name) noexcept {
  std::size_t rank = key.atom_key ? 2 : 0;
  if (key.name == name) return rank + 1;
  if (name.size() > 1 && key.name == name.substr(1)) return rank;
  return kNone;
}

}  // namespace

void require_parameter_count(std::size_t takes, std::size_t given) {
  if (takes == given) return;
  throw Error(kCodeRange, "wrong number of parameters: the statement takes " +
                              std::to_string(takes) + ", " + std::to_string(given) + " given");
}

std::vector<std::size_t> resolve_named(std::span<const std::string_view> names,
                                       std::span<const NamedParam> given) {
  for (const std::string_view name : names) {
    if (name.empty() || name.front() == '?') {
      throw Error(kCodeRange,
                  "Cannot use named parameter map with SQL that has positional parameters (?). "
                  "Use a list of arguments instead.");
    }
  }
  std::vector<std::size_t> chosen(names.size(), kNone);
  std::string missing;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::size_t best = kNone;
    for (std::size_t k = 0; k < given.size(); ++k) {
      const std::size_t r = rank(given[k], names[i]);
      if (r < best) {
        best = r;
        chosen[i] = k;
      }
    }
    if (chosen[i] == kNone) {
      if (!missing.empty()) missing += ", ";
      missing += names[i];
    }
  }
  if (!missing.empty()) {
    std::string required;
    for (const std::string_view name : names) {
      if (!required.empty()) required += ", ";
      required += name;
    }
    throw Error(kCodeRange,
                "Missing required parameters: " + missing + ". SQL requires: " + required);
  }
  return chosen;
}

std::vector<std::string> parameter_names_of(const Statement& stmt) {
  const int count = stmt.parameter_count();
  std::vector<std::string> names(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (auto name = stmt.parameter_name(i + 1)) names[static_cast<std::size_t>(i)] = *name;
  }
  return names;
}

std::vector<const ParamValue*> parameter_values(std::span<const std::string> names,
                                                const Params& params) {
  std::vector<const ParamValue*> values;
  values.reserve(names.size());
  if (!params.is_named) {
    require_parameter_count(names.size(), params.positional.size());
    for (const ParamValue& value : params.positional)
      values.push_back(&value);
    return values;
  }
  const std::vector<std::string_view> views(names.begin(), names.end());
  for (const std::size_t k : resolve_named(views, params.named))
    values.push_back(&params.named[k].value);
  return values;
}

}  // namespace ecto_libsql
