#include "vector/index_params.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <optional>

#include "ecto_libsql/error.hpp"
#include "vector/sqlite_float.hpp"

namespace ecto_libsql::vector {
namespace {

enum Tag : std::uint8_t {
  kFormat = 1,
  kIndexType = 2,
  kVectorType = 3,
  kDims = 4,
  kMetric = 5,
  kBlockSize = 6,
  kAlpha = 7,
  kInsertL = 8,
  kSearchL = 9,
  kMaxNeighbors = 10,
  kCompress = 11,
};

constexpr std::size_t kMaxMetadata = 128;
constexpr std::uint64_t kMaxBlock = 134217728;  // 128 MiB
constexpr int kFormatDefault = 3;

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool iprefix(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto a = static_cast<unsigned char>(text[i]);
    const auto b = static_cast<unsigned char>(prefix[i]);
    if (std::tolower(a) != std::tolower(b)) return false;
  }
  return true;
}

class Builder {
 public:
  bool put(std::uint8_t tag, std::uint64_t value) {
    if (bytes_.size() + 9 > kMaxMetadata) return false;
    bytes_.push_back(tag);
    for (int i = 0; i < 8; ++i)
      bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    return true;
  }
  bool put_f64(std::uint8_t tag, double value) {
    return put(tag, std::bit_cast<std::uint64_t>(value));
  }
  [[nodiscard]] std::uint64_t get(std::uint8_t tag) const noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i + 9 <= bytes_.size(); i += 9) {
      if (bytes_[i] != tag) continue;
      value = 0;
      for (int k = 0; k < 8; ++k)
        value |= static_cast<std::uint64_t>(bytes_[i + 1 + static_cast<std::size_t>(k)]) << (8 * k);
    }
    return value;
  }
  std::vector<std::uint8_t> take() { return std::move(bytes_); }
  std::vector<std::uint8_t> bytes_;
};

// sqlite3Atoi(): an optional sign, decimal digits (or 0x hex), anything after ignored; 0 when
// there is no number or it overflows 32 bits.
int sqlite_atoi(std::string_view z) noexcept {
  std::size_t i = 0;
  bool neg = false;
  if (i < z.size() && z[i] == '-') {
    neg = true;
    ++i;
  } else if (i < z.size() && z[i] == '+') {
    ++i;
  } else if (z.size() >= 3 && z[0] == '0' && (z[1] == 'x' || z[1] == 'X') &&
             std::isxdigit(static_cast<unsigned char>(z[2])) != 0) {
    i = 2;
    while (i < z.size() && z[i] == '0')
      ++i;
    std::uint32_t u = 0;
    int n = 0;
    for (; n < 8 && i < z.size() && std::isxdigit(static_cast<unsigned char>(z[i])) != 0;
         ++n, ++i) {
      const char c = z[i];
      u = u * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : (std::tolower(c) - 'a' + 10));
    }
    if ((u & 0x80000000U) == 0 &&
        (i >= z.size() || std::isxdigit(static_cast<unsigned char>(z[i])) == 0)) {
      return static_cast<int>(u);
    }
    return 0;
  }
  if (i >= z.size() || z[i] < '0' || z[i] > '9') return 0;
  while (i < z.size() && z[i] == '0')
    ++i;
  long long v = 0;
  int digits = 0;
  for (; digits < 11 && i < z.size() && z[i] >= '0' && z[i] <= '9'; ++digits, ++i)
    v = v * 10 + (z[i] - '0');
  if (digits > 10) return 0;
  if (v - (neg ? 1 : 0) > 2147483647LL) return 0;
  return static_cast<int>(neg ? -v : v);
}

struct NamedParam {
  std::string_view name;
  std::uint8_t tag;
  int kind;  // 0 enum, 1 integer, 2 float
  std::string_view value_name;
  std::uint64_t value;
};

constexpr NamedParam kParams[] = {
    {"type", kIndexType, 0, "diskann", 1},
    {"metric", kMetric, 0, "cosine", 1},
    {"metric", kMetric, 0, "l2", 2},
    {"compress_neighbors", kCompress, 0, "float1bit", 3},
    {"compress_neighbors", kCompress, 0, "float8", 4},
    {"compress_neighbors", kCompress, 0, "float16", 5},
    {"compress_neighbors", kCompress, 0, "floatb16", 6},
    {"compress_neighbors", kCompress, 0, "float32", 1},
    {"alpha", kAlpha, 2, {}, 0},
    {"search_l", kSearchL, 1, {}, 0},
    {"insert_l", kInsertL, 1, {}, 0},
    {"max_neighbors", kMaxNeighbors, 1, {}, 0},
};

// Parses one `key=value` option into the builder; answers the reason on failure.
std::optional<std::string_view> parse_option(std::string_view option, Builder& out) {
  const std::size_t eq = option.find('=');
  if (eq == std::string_view::npos) return "unexpected parameter format";
  const std::string_view key = option.substr(0, eq);
  const std::string_view value = option.substr(eq + 1);
  for (const NamedParam& p : kParams) {
    if (key.size() != p.name.size() || !iprefix(key, p.name)) continue;
    if (p.kind == 1) {
      const int n = sqlite_atoi(value);
      if (n == 0) return "invalid representation of integer vector index parameter";
      if (n < 0) return "integer vector index parameter must be positive";
      if (!out.put(p.tag, static_cast<std::uint64_t>(n))) {
        return "unable to serialize integer vector index parameter";
      }
      return std::nullopt;
    }
    if (p.kind == 2) {
      double d = 0;
      if (!parse_sqlite_float(value, d)) {
        return "invalid representation of floating point vector index parameter";
      }
      if (!out.put_f64(p.tag, d))
        return "unable to serialize floating point vector index parameter";
      return std::nullopt;
    }
    // Enumerations match when the given value is a case-insensitive prefix of the name.
    if (iprefix(p.value_name, value)) {
      if (!out.put(p.tag, p.value)) return "unable to serialize vector index parameter";
      return std::nullopt;
    }
  }
  return "invalid parameter";
}

std::size_t node_overhead(Type type, int dims) noexcept {
  return 16 + data_size(type, dims);
}
std::size_t edge_overhead(Type type, int dims) noexcept {
  return 16 + data_size(type, dims);
}

}  // namespace

int IndexParams::max_edges() const noexcept {
  const std::size_t node = node_meta_size() + node_vector_size();
  const std::size_t edge = edge_vector_size() + 16;
  if (block_size <= node) return 0;
  return static_cast<int>((block_size - node) / edge);
}

std::size_t IndexParams::edge_meta_offset() const noexcept {
  return node_meta_size() + node_vector_size() +
         static_cast<std::size_t>(max_edges()) * edge_vector_size();
}

ColumnType parse_column_type(std::string_view declared) {
  static constexpr std::pair<std::string_view, Type> kNames[] = {
      {"FLOAT32", Type::F32},  {"F32_BLOB", Type::F32},    {"FLOAT64", Type::F64},
      {"F64_BLOB", Type::F64}, {"FLOAT1BIT", Type::F1Bit}, {"F1BIT_BLOB", Type::F1Bit},
      {"FLOAT8", Type::F8},    {"F8_BLOB", Type::F8},      {"FLOAT16", Type::F16},
      {"F16_BLOB", Type::F16}, {"FLOATB16", Type::FB16},   {"FB16_BLOB", Type::FB16},
  };
  auto error = [&](std::string_view reason) {
    return Error(kCodeError, "vector index: " + std::string(reason) + ": " + std::string(declared));
  };
  std::string_view z = declared;
  if (const auto nul = z.find('\0'); nul != std::string_view::npos) z = z.substr(0, nul);
  std::size_t i = 0;
  while (i < z.size() && is_space(z[i]))
    ++i;
  z.remove_prefix(i);
  for (const auto& [name, type] : kNames) {
    if (!iprefix(z, name)) continue;
    std::size_t p = name.size();
    while (p < z.size() && is_space(z[p]))
      ++p;
    if (p >= z.size() || z[p] != '(') break;  // libSQL stops at the first name that matches
    ++p;
    while (p < z.size() && is_space(z[p]))
      ++p;
    int dims = 0;
    while (p < z.size() && z[p] != ')' && !is_space(z[p])) {
      if (z[p] < '0' || z[p] > '9') throw error("non digit symbol in vector column parameter");
      dims = dims * 10 + (z[p] - '0');
      if (dims > kMaxDims) throw error("max vector dimension exceeded");
      ++p;
    }
    while (p < z.size() && is_space(z[p]))
      ++p;
    if (p >= z.size() || z[p] != ')') throw error("missed closing brace for vector column type");
    ++p;
    while (p < z.size() && is_space(z[p]))
      ++p;
    if (p < z.size()) throw error("extra data after dimension parameter for vector column type");
    if (dims <= 0) throw error("vector column must have non-zero dimension for index");
    return ColumnType{type, dims};
  }
  throw error("unexpected vector column type");
}

std::vector<std::uint8_t> build_metadata(ColumnType column, std::span<const std::string> options) {
  Builder b;
  if (!b.put(kFormat, kFormatDefault)) {
    throw Error(kCodeError, "vector index: unable to serialize vector index parameter: format");
  }
  b.put(kVectorType, static_cast<std::uint64_t>(column.type));
  b.put(kDims, static_cast<std::uint64_t>(column.dims));
  for (const std::string& option : options) {
    if (auto reason = parse_option(option, b)) {
      throw Error(kCodeError, "vector index: invalid vector index parameter '" + option +
                                  "': " + std::string(*reason));
    }
  }
  const auto fail = [] { return Error(kCodeError, "vector index: unable to initialize diskann"); };
  if (!b.put(kIndexType, 1)) throw fail();
  auto metric = b.get(kMetric);
  if (metric == 0) {
    metric = static_cast<std::uint64_t>(Metric::Cosine);
    if (!b.put(kMetric, metric)) throw fail();
  }
  auto edge = static_cast<Type>(b.get(kCompress));
  if (edge == Type::F1Bit && metric != static_cast<std::uint64_t>(Metric::Cosine)) {
    throw Error(kCodeError,
                "vector index: unable to initialize diskann: 1-bit compression "
                "available only for cosine metric");
  }
  if (b.get(kCompress) == 0) edge = column.type;
  std::uint64_t max_neighbors = b.get(kMaxNeighbors);
  const std::size_t node = node_overhead(column.type, column.dims);
  const std::size_t edge_size = edge_overhead(edge, column.dims);
  if (max_neighbors == 0) {
    const auto by_dims = 3 * (static_cast<std::uint64_t>(std::sqrt(column.dims)) + 1);
    const std::uint64_t by_size = 50 * node / edge_size + 1;
    max_neighbors = std::min(by_dims, by_size);
  }
  const std::uint64_t block = node + max_neighbors * edge_size;
  if (block > kMaxBlock) throw fail();
  if (!b.put(kBlockSize, std::max<std::uint64_t>(256, block))) throw fail();
  if (b.get(kAlpha) == 0 && !b.put_f64(kAlpha, 1.2)) throw fail();
  if (b.get(kInsertL) == 0 && !b.put(kInsertL, 70)) throw fail();
  if (b.get(kSearchL) == 0 && !b.put(kSearchL, 200)) throw fail();
  return b.take();
}

IndexParams decode_metadata(std::span<const std::uint8_t> blob) {
  Builder b;
  b.bytes_.assign(blob.begin(),
                  blob.begin() + static_cast<std::ptrdiff_t>(std::min(blob.size(), kMaxMetadata)));
  IndexParams p;
  const auto fail = [] {
    return Error(kCodeError, "vector index: failed to parse vector index parameters");
  };
  std::uint64_t block = b.get(kBlockSize);
  if (block <= 128) block <<= 9;  // legacy: 512-byte units
  const std::uint64_t type = b.get(kVectorType);
  const std::uint64_t dims = b.get(kDims);
  const std::uint64_t metric = b.get(kMetric);
  if (metric < 1 || metric > 2 || block == 0 || type < 1 || type > 6 || dims == 0 ||
      dims > static_cast<std::uint64_t>(kMaxDims) || block > kMaxBlock) {
    throw fail();
  }
  p.format = static_cast<int>(b.get(kFormat));
  if (p.format < 1 || p.format > 3) throw fail();
  p.type = static_cast<Type>(type);
  p.dims = static_cast<int>(dims);
  p.metric = static_cast<Metric>(metric);
  p.block_size = block;
  p.alpha = std::bit_cast<double>(b.get(kAlpha));
  if (p.alpha == 0 || !std::isfinite(p.alpha)) p.alpha = 1.2;
  const std::uint64_t insert_l = b.get(kInsertL);
  const std::uint64_t search_l = b.get(kSearchL);
  p.insert_l = insert_l == 0 || insert_l > 1000000 ? 70 : static_cast<int>(insert_l);
  p.search_l = search_l == 0 || search_l > 1000000 ? 200 : static_cast<int>(search_l);
  p.max_neighbors = static_cast<int>(std::min<std::uint64_t>(b.get(kMaxNeighbors), 65535));
  const std::uint64_t compress = b.get(kCompress);
  if (compress > 6) throw fail();
  p.edge_type = compress == 0 ? p.type : static_cast<Type>(compress);
  if (p.max_edges() <= 0) throw fail();
  return p;
}

}  // namespace ecto_libsql::vector
