#include "ecto_libsql/constraint.hpp"

#include <string>
#include <vector>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Without the " (19)" tursodb appends.
std::string_view without_code(std::string_view message) noexcept {
  if (message.size() < 4 || message.back() != ')') return message;
  std::size_t open = message.size() - 1;
  while (open > 0 && message[open - 1] >= '0' && message[open - 1] <= '9')
    --open;
  if (open == message.size() - 1 || open < 2 || message[open - 1] != '(' ||
      message[open - 2] != ' ') {
    return message;
  }
  return message.substr(0, open - 2);
}

std::string_view trim_char(std::string_view s, char c) noexcept {
  while (!s.empty() && s.front() == c)
    s.remove_prefix(1);
  while (!s.empty() && s.back() == c)
    s.remove_suffix(1);
  return s;
}

std::string dots_to_underscores(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '.') c = '_';
  }
  return out;
}

// What follows "constraint failed: ", named as Ecto names an index of those columns:
// "t.a" -> "t_a_index", "t.a, t.b" -> "t_a_b_index"; a name without a table stays as it is.
std::string name_from_detail(std::string_view message) {
  static constexpr std::string_view kMarker = "constraint failed: ";
  const std::size_t at = message.find(kMarker);
  if (at == std::string_view::npos) return "unknown";
  std::string_view detail = message.substr(at + kMarker.size());
  if (!detail.empty() && detail.back() == '\n') detail.remove_suffix(1);
  // Detail on one line only, as the adapter's pattern always read it.
  if (detail.empty() || detail.find('\n') != std::string_view::npos) return "unknown";
  while (!detail.empty() && is_space(detail.front()))
    detail.remove_prefix(1);
  while (!detail.empty() && is_space(detail.back()))
    detail.remove_suffix(1);
  while (!detail.empty() && detail.back() == '`')
    detail.remove_suffix(1);
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t comma = detail.find(", ");
    parts.push_back(trim_char(detail.substr(0, comma), '`'));
    if (comma == std::string_view::npos) break;
    detail.remove_prefix(comma + 2);
  }
  if (parts.size() == 1) {
    if (parts[0].find('.') == std::string_view::npos) return std::string(parts[0]);
    return dots_to_underscores(parts[0]) + "_index";
  }
  std::string name = dots_to_underscores(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::size_t dot = parts[i].rfind('.');
    name += '_';
    name += dot == std::string_view::npos ? parts[i] : parts[i].substr(dot + 1);
  }
  return name + "_index";
}

}  // namespace

std::optional<Constraint> constraint_from_message(int code, std::string_view message) {
  ConstraintKind kind{};
  switch (code) {
    case kCodeConstraintUnique:
      kind = ConstraintKind::Unique;
      break;
    case kCodeConstraintPrimaryKey:
      kind = ConstraintKind::PrimaryKey;
      break;
    case kCodeConstraintCheck:
      kind = ConstraintKind::Check;
      break;
    case kCodeConstraintNotNull:
      kind = ConstraintKind::NotNull;
      break;
    case kCodeConstraintForeignKey:  // named by the engine, or not at all
    default:
      return std::nullopt;
  }
  message = without_code(message);
  if (message.find("UNIQUE constraint failed") == std::string_view::npos &&
      message.find("PRIMARY KEY constraint failed") != std::string_view::npos) {
    return Constraint{kind, "primary_key"};
  }
  return Constraint{kind, name_from_detail(message)};
}

std::string_view constraint_kind_name(ConstraintKind kind) noexcept {
  switch (kind) {
    case ConstraintKind::Unique:
      return "unique";
    case ConstraintKind::PrimaryKey:
      return "primary_key";
    case ConstraintKind::ForeignKey:
      return "foreign_key";
    case ConstraintKind::Check:
      return "check";
    case ConstraintKind::NotNull:
      return "not_null";
  }
  return "unique";
}

}  // namespace ecto_libsql
