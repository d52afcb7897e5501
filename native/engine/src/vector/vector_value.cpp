#include "vector/vector_value.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "ecto_libsql/error.hpp"
#include "vector/sqlite_float.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr std::size_t kMaxFloatChars = 1024;

[[noreturn]] void fail(std::string message) {
  throw Error(kCodeError, std::move(message));
}

int align4(int n) noexcept {
  return (n + 3) / 4 * 4;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

float load_f32(const std::uint8_t* p) noexcept {
  std::uint32_t bits = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                       static_cast<std::uint32_t>(p[2]) << 16 |
                       static_cast<std::uint32_t>(p[3]) << 24;
  return std::bit_cast<float>(bits);
}
void store_f32(std::uint8_t* p, float f) noexcept {
  const auto bits = std::bit_cast<std::uint32_t>(f);
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(bits >> (8 * i));
}
double load_f64(const std::uint8_t* p) noexcept {
  std::uint64_t bits = 0;
  for (int i = 7; i >= 0; --i)
    bits = bits << 8 | p[i];
  return std::bit_cast<double>(bits);
}
void store_f64(std::uint8_t* p, double d) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(d);
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::uint8_t>(bits >> (8 * i));
}
std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
void store_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

bool bit(const VectorView& v, int i) noexcept {
  return ((v.data[static_cast<std::size_t>(i / 8)] >> (i & 7)) & 1) != 0;
}

// FLOAT8 parameters sit after the codes, which are padded to a multiple of four.
void f8_params(const VectorView& v, float& alpha, float& shift) noexcept {
  const std::uint8_t* p = v.data.data() + align4(v.dims);
  alpha = load_f32(p);
  shift = load_f32(p + 4);
}

// The value of element `i` as libSQL reads it for conversions from a non-double type.
float element_float(const VectorView& v, int i) noexcept {
  const std::uint8_t* d = v.data.data();
  switch (v.type) {
    case Type::F32:
      return load_f32(d + 4 * static_cast<std::ptrdiff_t>(i));
    case Type::F64:
      return static_cast<float>(load_f64(d + 8 * static_cast<std::ptrdiff_t>(i)));
    case Type::F1Bit:
      return bit(v, i) ? 1.0F : -1.0F;
    case Type::F8: {
      float alpha = 0;
      float shift = 0;
      f8_params(v, alpha, shift);
      return alpha * static_cast<float>(d[i]) + shift;
    }
    case Type::F16:
      return f16_to_float(load_u16(d + 2 * static_cast<std::ptrdiff_t>(i)));
    case Type::FB16:
      return bf16_to_float(load_u16(d + 2 * static_cast<std::ptrdiff_t>(i)));
  }
  return 0;
}

Vector make(Type type, int dims) {
  Vector v;
  v.type = type;
  v.dims = dims;
  v.data.assign(data_size(type, dims), 0);
  return v;
}

// libSQL's rounding of a scaled FLOAT8 code: clamp, then round half up. NaN (a vector whose
// elements are all equal has alpha 0) truncates to code 0 on the platforms libSQL runs on.
std::uint8_t f8_code(float f) noexcept {
  if (f < 0) return 0;
  if (f > 255) return 255;
  if (std::isnan(f)) return 0;
  // libSQL's (int)(x + 0.5), not lround: the codes must be the same bytes.
  // NOLINTNEXTLINE(bugprone-incorrect-roundings)
  return static_cast<std::uint8_t>(static_cast<int>(f + 0.5));
}

Vector to_f8(const VectorView& v) {
  Vector out = make(Type::F8, v.dims);
  float min_f = 0;
  float max_f = 0;
  float alpha = 0;
  float shift = 0;
  if (v.type == Type::F64) {
    // Minimum and maximum compare doubles but are kept as floats; the scaling runs in double.
    for (int i = 0; i < v.dims; ++i) {
      const double x = load_f64(v.data.data() + 8 * static_cast<std::ptrdiff_t>(i));
      if (i == 0) {
        min_f = static_cast<float>(x);
        max_f = static_cast<float>(x);
      } else {
        // libSQL's MIN/MAX macros (their NaN behaviour included).
        min_f = static_cast<float>(min_f < x ? static_cast<double>(min_f) : x);
        max_f = static_cast<float>(max_f > x ? static_cast<double>(max_f) : x);
      }
    }
    shift = min_f;
    alpha = (max_f - min_f) / 255;
    for (int i = 0; i < v.dims; ++i) {
      const double x = load_f64(v.data.data() + 8 * static_cast<std::ptrdiff_t>(i));
      out.data[static_cast<std::size_t>(i)] = f8_code(static_cast<float>((x - shift) / alpha));
    }
  } else {
    for (int i = 0; i < v.dims; ++i) {
      const float x = element_float(v, i);
      if (i == 0) {
        min_f = x;
        max_f = x;
      } else {
        min_f = min_f < x ? min_f : x;
        max_f = max_f > x ? max_f : x;
      }
    }
    shift = min_f;
    alpha = (max_f - min_f) / 255;
    for (int i = 0; i < v.dims; ++i) {
      out.data[static_cast<std::size_t>(i)] = f8_code((element_float(v, i) - shift) / alpha);
    }
  }
  std::uint8_t* p = out.data.data() + align4(v.dims);
  store_f32(p, alpha);
  store_f32(p + 4, shift);
  return out;
}

const char* type_name_of(int sqlite_type) noexcept {
  switch (sqlite_type) {
    case SQLITE_INTEGER:
      return "INTEGER";
    case SQLITE_FLOAT:
      return "FLOAT";
    case SQLITE_TEXT:
      return "TEXT";
    case SQLITE_BLOB:
      return "BLOB";
    default:
      return "NULL";
  }
}

// libSQL returns float distances; double inputs are narrowed on the way out.
double as_float(double d) noexcept {
  return static_cast<double>(static_cast<float>(d));
}

}  // namespace

std::size_t data_size(Type type, int dims) noexcept {
  const auto n = static_cast<std::size_t>(std::max(dims, 0));
  switch (type) {
    case Type::F32:
      return n * 4;
    case Type::F64:
      return n * 8;
    case Type::F1Bit:
      return (n + 7) / 8;
    case Type::F8:
      return static_cast<std::size_t>(align4(static_cast<int>(n))) + 8;
    case Type::F16:
    case Type::FB16:
      return n * 2;
  }
  return 0;
}

std::string value_type_error(int sqlite_type) {
  return std::string("vector: unexpected value type: got ") + type_name_of(sqlite_type) +
         ", expected TEXT or BLOB";
}

BlobMeta blob_meta(std::span<const std::uint8_t> blob) {
  std::size_t n = blob.size();
  Type type = Type::F32;
  long long dims = 0;
  std::size_t data = 0;
  if (n % 2 == 0) {
    dims = static_cast<long long>(n / 4);
    data = n;
  } else {
    const std::uint8_t tag = blob[n - 1];
    --n;
    const std::string len = std::to_string(n);
    switch (tag) {
      case 1:
        if (n % 4 != 0) {
          fail(
              "vector: float32 vector blob length must be divisible by 4 (excluding optional "
              "'type'-byte): length=" +
              len);
        }
        dims = static_cast<long long>(n / 4);
        data = n;
        break;
      case 2:
        if (n % 8 != 0) {
          fail(
              "vector: float64 vector blob length must be divisible by 8 (excluding 'type'-byte): "
              "length=" +
              len);
        }
        type = Type::F64;
        dims = static_cast<long long>(n / 8);
        data = n;
        break;
      case 3:
        if (n == 0 || n % 2 != 0) {
          fail(
              "vector: float1bit vector blob length must be divisible by 2 and not be empty "
              "(excluding 'type'-byte): length=" +
              len);
        }
        type = Type::F1Bit;
        dims = static_cast<long long>(n * 8) - blob[n - 1];
        if (dims < 0) fail("vector: float1bit vector blob is too short for its trailing bits");
        data = static_cast<std::size_t>((dims + 7) / 8);
        break;
      case 4:
        if (n < 2 || n % 2 != 0) {
          fail(
              "vector: float8 vector blob length must be divisible by 2 and has at least 2 bytes "
              "(excluding 'type'-byte): length=" +
              len);
        }
        type = Type::F8;
        dims = static_cast<long long>(n) - 2 - 8 - blob[n - 1];
        data = n - 2;
        if (dims < 0) fail("vector: float8 vector blob is too short for its trailing bytes");
        break;
      case 5:
      case 6:
        if (n % 2 != 0) {
          fail(std::string("vector: ") + (tag == 5 ? "float16" : "floatb16") +
               " vector blob length must be divisible by 2 (excluding 'type'-byte): length=" + len);
        }
        type = tag == 5 ? Type::F16 : Type::FB16;
        dims = static_cast<long long>(n / 2);
        data = n;
        break;
      default:
        fail("vector: unexpected binary type: " + std::to_string(tag));
    }
  }
  if (dims > kMaxDims) {
    fail("vector: max size exceeded: " + std::to_string(dims) + " > " + std::to_string(kMaxDims));
  }
  return BlobMeta{type, static_cast<int>(dims), data};
}

VectorView view_blob(std::span<const std::uint8_t> blob) {
  const BlobMeta meta = blob_meta(blob);
  const std::size_t expected = data_size(meta.type, meta.dims);
  if (meta.data != expected) {
    fail("vector: unexpected data part size: type=" + std::to_string(static_cast<int>(meta.type)) +
         ", dims=" + std::to_string(meta.dims) + ", " + std::to_string(meta.data) +
         " != " + std::to_string(expected));
  }
  return VectorView{meta.type, meta.dims, blob.subspan(0, meta.data)};
}

Vector parse_blob(std::span<const std::uint8_t> blob) {
  const VectorView v = view_blob(blob);
  return Vector{v.type, v.dims, std::vector<std::uint8_t>(v.data.begin(), v.data.end())};
}

int text_dims_estimate(std::string_view text) noexcept {
  int commas = 0;
  bool digit = false;
  for (const char c : text) {
    if (c == ',') ++commas;
    if (c >= '0' && c <= '9') digit = true;
  }
  return commas + (digit ? 1 : 0);
}

Vector parse_text(std::string_view text, Type type) {
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) text = text.substr(0, nul);
  std::size_t i = 0;
  while (i < text.size() && is_space(text[i]))
    ++i;
  if (i >= text.size() || text[i] != '[') fail("vector: must start with '['");
  ++i;
  std::vector<double> values;
  std::string token;
  bool closed = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    if (c != ',' && c != ']') {
      if (token.size() > kMaxFloatChars) {
        fail("vector: float string length exceeded " + std::to_string(kMaxFloatChars) +
             " characters: '" + token + "'");
      }
      token.push_back(c);
      continue;
    }
    if (c == ']' && values.empty() && token.empty()) {
      closed = true;
      break;
    }
    double value = 0;
    if (!parse_sqlite_float(token, value)) {
      fail("vector: invalid float at position " + std::to_string(values.size()) + ": '" + token +
           "'");
    }
    if (values.size() >= static_cast<std::size_t>(kMaxDims)) {
      fail("vector: max size exceeded " + std::to_string(kMaxDims));
    }
    token.clear();
    values.push_back(value);
    if (c == ']') {
      closed = true;
      break;
    }
  }
  if (!closed) fail("vector: must end with ']'");
  for (++i; i < text.size(); ++i) {
    if (!is_space(text[i])) fail("vector: non-space symbols after closing ']' are forbidden");
  }
  Vector v = make(type, static_cast<int>(values.size()));
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (type == Type::F64) {
      store_f64(v.data.data() + 8 * k, values[k]);
    } else {
      store_f32(v.data.data() + 4 * k, static_cast<float>(values[k]));
    }
  }
  return v;
}

std::vector<std::uint8_t> to_blob(const Vector& v) {
  std::vector<std::uint8_t> out = v.data;
  switch (v.type) {
    case Type::F32:
      break;
    case Type::F64:
    case Type::F16:
    case Type::FB16:
      out.push_back(static_cast<std::uint8_t>(v.type));
      break;
    case Type::F1Bit: {
      if (out.size() % 2 == 0) out.push_back(0);
      const std::size_t total = out.size() + 2;
      out.push_back(static_cast<std::uint8_t>(8 * (total - 1) - static_cast<std::size_t>(v.dims)));
      out.push_back(3);
      break;
    }
    case Type::F8:
      out.push_back(0);
      out.push_back(static_cast<std::uint8_t>(align4(v.dims) - v.dims));
      out.push_back(4);
      break;
  }
  return out;
}

Vector convert(const Vector& vector, Type to) {
  if (vector.type == to) return vector;
  const VectorView v = view(vector);
  if (to == Type::F8) return to_f8(v);
  Vector out = make(to, v.dims);
  std::uint8_t* d = out.data.data();
  for (int i = 0; i < v.dims; ++i) {
    switch (to) {
      case Type::F32:
        store_f32(d + 4 * static_cast<std::ptrdiff_t>(i), element_float(v, i));
        break;
      case Type::F64:
        store_f64(d + 8 * static_cast<std::ptrdiff_t>(i), static_cast<double>(element_float(v, i)));
        break;
      case Type::F1Bit: {
        // Doubles are compared as doubles, everything else as floats.
        const bool positive = v.type == Type::F64
                                  ? load_f64(v.data.data() + 8 * static_cast<std::ptrdiff_t>(i)) > 0
                                  : element_float(v, i) > 0;
        if (positive) d[i / 8] = static_cast<std::uint8_t>(d[i / 8] | (1 << (i & 7)));
        break;
      }
      case Type::F16:
        store_u16(d + 2 * static_cast<std::ptrdiff_t>(i), f16_from_float(element_float(v, i)));
        break;
      case Type::FB16:
        store_u16(d + 2 * static_cast<std::ptrdiff_t>(i), bf16_from_float(element_float(v, i)));
        break;
      case Type::F8:
        break;
    }
  }
  return out;
}

std::string to_text(const Vector& v) {
  if (v.type != Type::F32 && v.type != Type::F64) return to_text(convert(v, Type::F32));
  std::string out = "[";
  std::array<char, 64> buf{};
  for (int i = 0; i < v.dims; ++i) {
    const double x = v.type == Type::F64
                         ? load_f64(v.data.data() + 8 * static_cast<std::ptrdiff_t>(i))
                         : load_f32(v.data.data() + 4 * static_cast<std::ptrdiff_t>(i));
    sqlite3_snprintf(static_cast<int>(buf.size()), buf.data(), "%g", x);
    if (i > 0) out.push_back(',');
    out += buf.data();
  }
  out.push_back(']');
  return out;
}

void to_floats(const Vector& vector, float* out) {
  const VectorView v = view(vector);
  if (v.type == Type::F32) {
    // A zero-dimension vector has no buffer: memcpy must not be given a null pointer.
    if (!v.data.empty()) std::memcpy(out, v.data.data(), v.data.size());
    return;
  }
  for (int i = 0; i < v.dims; ++i)
    out[i] = element_float(v, i);
}

double distance_cos(const VectorView& a, const VectorView& b) {
  const int n = a.dims;
  switch (a.type) {
    case Type::F64: {
      double dot = 0;
      double norm1 = 0;
      double norm2 = 0;
      for (int i = 0; i < n; ++i) {
        const double x = load_f64(a.data.data() + 8 * static_cast<std::ptrdiff_t>(i));
        const double y = load_f64(b.data.data() + 8 * static_cast<std::ptrdiff_t>(i));
        dot += x * y;
        norm1 += x * x;
        norm2 += y * y;
      }
      return as_float(1.0 - (dot / std::sqrt(norm1 * norm2)));
    }
    case Type::F1Bit: {
      int diff = 0;
      for (std::size_t i = 0; i < a.data.size(); ++i)
        diff += std::popcount(static_cast<unsigned>(a.data[i] ^ b.data[i]));
      return static_cast<double>(static_cast<float>(diff));
    }
    case Type::F8: {
      float alpha1 = 0;
      float shift1 = 0;
      float alpha2 = 0;
      float shift2 = 0;
      f8_params(a, alpha1, shift1);
      f8_params(b, alpha2, shift2);
      std::uint32_t sum1 = 0;
      std::uint32_t sum2 = 0;
      std::uint32_t sumsq1 = 0;
      std::uint32_t sumsq2 = 0;
      std::uint32_t doti = 0;
      for (int i = 0; i < n; ++i) {
        const std::uint32_t x = a.data[static_cast<std::size_t>(i)];
        const std::uint32_t y = b.data[static_cast<std::size_t>(i)];
        sum1 += x;
        sum2 += y;
        sumsq1 += x * x;
        sumsq2 += y * y;
        doti += x * y;
      }
      const auto dims = static_cast<float>(n);
      const float dot = alpha1 * alpha2 * static_cast<float>(doti) +
                        alpha1 * shift2 * static_cast<float>(sum1) +
                        alpha2 * shift1 * static_cast<float>(sum2) + shift1 * shift2 * dims;
      const float norm1 = alpha1 * alpha1 * static_cast<float>(sumsq1) +
                          2 * alpha1 * shift1 * static_cast<float>(sum1) + shift1 * shift1 * dims;
      const float norm2 = alpha2 * alpha2 * static_cast<float>(sumsq2) +
                          2 * alpha2 * shift2 * static_cast<float>(sum2) + shift2 * shift2 * dims;
      return as_float(1.0 - (dot / std::sqrt(static_cast<double>(norm1 * norm2))));
    }
    default: {
      float dot = 0;
      float norm1 = 0;
      float norm2 = 0;
      for (int i = 0; i < n; ++i) {
        const float x = element_float(a, i);
        const float y = element_float(b, i);
        dot += x * y;
        norm1 += x * x;
        norm2 += y * y;
      }
      return as_float(1.0 - (dot / std::sqrt(static_cast<double>(norm1 * norm2))));
    }
  }
}

std::optional<double> distance_l2(const VectorView& a, const VectorView& b) {
  const int n = a.dims;
  switch (a.type) {
    case Type::F1Bit:
      return std::nullopt;
    case Type::F64: {
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        const double d = load_f64(a.data.data() + 8 * static_cast<std::ptrdiff_t>(i)) -
                         load_f64(b.data.data() + 8 * static_cast<std::ptrdiff_t>(i));
        sum += d * d;
      }
      return as_float(std::sqrt(sum));
    }
    default: {
      float sum = 0;
      for (int i = 0; i < n; ++i) {
        const float d = element_float(a, i) - element_float(b, i);
        sum += d * d;
      }
      return as_float(std::sqrt(static_cast<double>(sum)));
    }
  }
}

std::uint16_t f16_from_float(float f) noexcept {
  const auto i = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (i >> 16) & 0x8000U;
  int exp = static_cast<int>((i >> 23) & 0xffU) - 127;
  std::uint32_t mant = i & 0x7fffffU;
  if (exp == 128) {  // NaN keeps a mantissa bit, infinity has none
    exp = 16;
    mant = (mant != 0 ? 1U : 0U) << 22;
  } else if (exp > 15) {  // too large: infinity
    exp = 16;
    mant = 0;
  } else if (exp < -14 && exp >= -25) {  // a binary16 subnormal
    mant = (mant | 0x800000U) >> (-exp - 14);
    exp = -15;
  } else if (exp < -24) {  // underflows to zero
    exp = -15;
    mant = 0;
  }
  if ((mant & 0x1fffU) > (0x1000U - ((mant >> 13) & 1U))) mant += 0x2000U;  // nearest, ties even
  const std::uint32_t m = mant >> 13;
  return static_cast<std::uint16_t>(
      sign | (static_cast<std::uint32_t>(exp + 15) + (m >> 10)) << 10 | (m & 0x3ffU));
}

float f16_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000U) << 16;
  int exp = ((h >> 10) & 0x1f) - 15;
  std::uint32_t mant = h & 0x3ffU;
  if (exp == 16) {  // NaN or infinity
    exp = 128;
    mant = (mant != 0 ? 1U : 0U) << 22;
  } else if (exp == -15 && mant == 0) {  // zero
    exp = -127;
  } else if (exp == -15) {  // subnormal: normalise
    ++exp;
    while ((mant & 0x400U) == 0) {
      mant <<= 1;
      --exp;
    }
    mant = (mant & 0x3ffU) << 13;
  } else {
    mant <<= 13;
  }
  return std::bit_cast<float>(sign | static_cast<std::uint32_t>(exp + 127) << 23 | mant);
}

std::uint16_t bf16_from_float(float f) noexcept {
  return static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(f) >> 16);
}

float bf16_to_float(std::uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

}  // namespace ecto_libsql::vector
