// libSQL vectors: the six element types, their blob and text forms, conversions and distances,
// byte- and message-compatible with libSQL (FORMATS.md, section A).
//
// Parsing functions throw ecto_libsql::Error(SQLITE_ERROR) with libSQL's message on bad input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ecto_libsql::vector {

enum class Type : std::uint8_t { F32 = 1, F64 = 2, F1Bit = 3, F8 = 4, F16 = 5, FB16 = 6 };

inline constexpr int kMaxDims = 65536;

// Size of the data part (the elements, and for FLOAT8 its alpha and shift) of a vector.
std::size_t data_size(Type type, int dims) noexcept;

// A vector: its type, its number of dimensions and its data part, little-endian as libSQL
// stores it.
struct Vector {
  Type type = Type::F32;
  int dims = 0;
  std::vector<std::uint8_t> data;
};

// libSQL's message for a value that is neither TEXT nor BLOB (`sqlite_type` is SQLITE_*).
std::string value_type_error(int sqlite_type);

// What a blob's length and trailing bytes say about the vector it holds.
struct BlobMeta {
  Type type = Type::F32;
  int dims = 0;
  std::size_t data = 0;  // bytes of data part the blob holds
};
// Reads the meta of a vector blob; throws on a malformed blob.
BlobMeta blob_meta(std::span<const std::uint8_t> blob);

// A vector whose data part lives elsewhere (a blob SQLite holds).
struct VectorView {
  Type type = Type::F32;
  int dims = 0;
  std::span<const std::uint8_t> data;
};
inline VectorView view(const Vector& v) noexcept {
  return {v.type, v.dims, v.data};
}

// Decodes a vector blob (the type comes from its length and trailing byte).
Vector parse_blob(std::span<const std::uint8_t> blob);
// The same without copying: the view refers to `blob`.
VectorView view_blob(std::span<const std::uint8_t> blob);

// The dimensions libSQL expects from a text vector before parsing it: commas plus one when a
// digit appears (it decides which error a pair of mismatched arguments reports).
int text_dims_estimate(std::string_view text) noexcept;

// Decodes the text form `[1, 2.5, -3e2]` as FLOAT32 or FLOAT64 (`type`); only the text up to
// the first NUL byte counts, as in libSQL.
Vector parse_text(std::string_view text, Type type);

// The blob form: data part plus the trailing meta bytes of the type.
std::vector<std::uint8_t> to_blob(const Vector& v);

// Converts to another element type the way libSQL does (through float, or double for FLOAT64).
Vector convert(const Vector& v, Type to);

// The text form `[1,2.5,-300]` (%g, six significant digits); other types print as FLOAT32.
std::string to_text(const Vector& v);

// Element values as float (FLOAT1BIT gives +1/-1), for index arithmetic.
void to_floats(const Vector& v, float* out);

// libSQL's distances, with its arithmetic (results are float precision). Cosine distance of
// FLOAT1BIT vectors is their Hamming distance; L2 is not defined for them (nullopt). A NaN
// result (a zero vector) is returned as NaN. Both vectors must have the same type and dims.
double distance_cos(const VectorView& a, const VectorView& b);
std::optional<double> distance_l2(const VectorView& a, const VectorView& b);
inline double distance_cos(const Vector& a, const Vector& b) {
  return distance_cos(view(a), view(b));
}
inline std::optional<double> distance_l2(const Vector& a, const Vector& b) {
  return distance_l2(view(a), view(b));
}

// IEEE binary16 and bfloat16 conversions with libSQL's rounding.
std::uint16_t f16_from_float(float f) noexcept;
float f16_to_float(std::uint16_t h) noexcept;
std::uint16_t bf16_from_float(float f) noexcept;
float bf16_to_float(std::uint16_t h) noexcept;

}  // namespace ecto_libsql::vector
