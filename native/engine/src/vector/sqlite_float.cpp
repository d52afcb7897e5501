#include "vector/sqlite_float.hpp"

#include <cstdint>
#include <limits>

namespace ecto_libsql::vector {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

constexpr std::uint64_t kLargest = std::numeric_limits<std::uint64_t>::max();

// Scales the significand by 10^e in extended precision, then rounds once to double, as
// SQLite does where `long double` is wider than `double`.
double scale(std::uint64_t s, int e) noexcept {
  if (e == 0) return static_cast<double>(s);
  auto r = static_cast<long double>(s);
  if (e > 0) {
    for (; e >= 100; e -= 100)
      r *= 1.0e+100L;
    for (; e >= 10; e -= 10)
      r *= 1.0e+10L;
    for (; e >= 1; e -= 1)
      r *= 1.0e+01L;
  } else {
    for (; e <= -100; e += 100)
      r *= 1.0e-100L;
    for (; e <= -10; e += 10)
      r *= 1.0e-10L;
    for (; e <= -1; e += 1)
      r *= 1.0e-01L;
  }
  if (r > static_cast<long double>(std::numeric_limits<double>::max())) {
    return std::numeric_limits<double>::infinity();
  }
  return static_cast<double>(r);
}

}  // namespace

bool parse_sqlite_float(std::string_view text, double& out) noexcept {
  out = 0.0;
  const char* z = text.data();
  const char* end = z + text.size();
  int sign = 1;
  std::uint64_t s = 0;
  int d = 0;
  int esign = 1;
  int e = 0;
  bool e_valid = true;
  int digits = 0;
  while (z < end && is_space(*z))
    ++z;
  if (z >= end) return false;
  if (*z == '-') {
    sign = -1;
    ++z;
  } else if (*z == '+') {
    ++z;
  }
  while (z < end && is_digit(*z)) {
    s = s * 10 + static_cast<std::uint64_t>(*z - '0');
    ++z;
    ++digits;
    if (s >= (kLargest - 9) / 10) {
      // Digits beyond what the significand holds only move the decimal point.
      while (z < end && is_digit(*z)) {
        ++z;
        ++d;
      }
    }
  }
  if (z < end && *z == '.') {
    ++z;
    while (z < end && is_digit(*z)) {
      if (s < (kLargest - 9) / 10) {
        s = s * 10 + static_cast<std::uint64_t>(*z - '0');
        --d;
        ++digits;
      }
      ++z;
    }
  }
  if (z < end && (*z == 'e' || *z == 'E')) {
    ++z;
    e_valid = false;
    if (z < end && *z == '-') {
      esign = -1;
      ++z;
    } else if (z < end && *z == '+') {
      ++z;
    }
    while (z < end && is_digit(*z)) {
      e = e < 10000 ? e * 10 + (*z - '0') : 10000;
      ++z;
      e_valid = true;
    }
  }
  while (z < end && is_space(*z))
    ++z;

  if (s == 0) {
    out = sign < 0 ? -0.0 : 0.0;
  } else {
    e = e * esign + d;
    while (e > 0 && s < kLargest / 10) {
      s *= 10;
      --e;
    }
    while (e < 0 && s % 10 == 0) {
      s /= 10;
      ++e;
    }
    out = scale(s, e);
    if (sign < 0) out = -out;
  }
  return z == end && digits > 0 && e_valid;
}

}  // namespace ecto_libsql::vector
