#include "vector/sql_functions.hpp"

#include <exception>
#include <string>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::vector {
namespace {

std::span<const std::uint8_t> blob_of(sqlite3_value* value) {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_value_blob(value));
  const int size = sqlite3_value_bytes(value);
  if (data == nullptr || size <= 0) return {};
  return {data, static_cast<std::size_t>(size)};
}

std::string_view text_of(sqlite3_value* value) {
  const auto* data = reinterpret_cast<const char*>(sqlite3_value_text(value));
  const int size = sqlite3_value_bytes(value);
  if (data == nullptr || size <= 0) return {};
  return {data, static_cast<std::size_t>(size)};
}

void result_vector(sqlite3_context* ctx, const Vector& v) {
  const std::vector<std::uint8_t> blob = to_blob(v);
  if (blob.empty()) {
    sqlite3_result_zeroblob(ctx, 0);
  } else {
    sqlite3_result_blob64(ctx, blob.data(), blob.size(), SQLITE_TRANSIENT);
  }
}

// Runs `body`, turning exceptions into SQL errors: nothing may escape into SQLite.
template <typename F>
void guarded(sqlite3_context* ctx, F&& body) noexcept {
  try {
    body();
  } catch (const Error& e) {
    sqlite3_result_error(ctx, e.message().c_str(), static_cast<int>(e.message().size()));
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (...) {
    sqlite3_result_error(ctx, "vector: internal error", -1);
  }
}

template <Type target>
void convert_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guarded(ctx, [&] {
    if (argc < 1) return;
    const Vector v = value_to_vector(argv[0], target == Type::F64 ? Type::F64 : Type::F32);
    result_vector(ctx, v.type == target ? v : convert(v, target));
  });
}

void extract_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guarded(ctx, [&] {
    if (argc < 1) return;
    const std::string text = to_text(value_to_vector(argv[0], Type::F32));
    sqlite3_result_text64(ctx, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  });
}

VectorView argument_view(sqlite3_value* value, std::optional<Vector>& owned) {
  if (sqlite3_value_type(value) == SQLITE_BLOB) return view_blob(blob_of(value));
  owned = value_to_vector(value, Type::F32);
  return view(*owned);
}

template <bool l2>
void distance_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guarded(ctx, [&] {
    if (argc < 2) return;
    const BlobMeta m1 = value_meta(argv[0], Type::F32);
    const BlobMeta m2 = value_meta(argv[1], Type::F32);
    if (m1.type != m2.type) {
      throw Error(kCodeError, "vector_distance: vectors must have the same type: " +
                                  std::to_string(static_cast<int>(m1.type)) +
                                  " != " + std::to_string(static_cast<int>(m2.type)));
    }
    if (m1.dims != m2.dims) {
      throw Error(kCodeError, "vector_distance: vectors must have the same length: " +
                                  std::to_string(m1.dims) + " != " + std::to_string(m2.dims));
    }
    if (l2 && m1.type == Type::F1Bit) {
      throw Error(kCodeError,
                  "vector_distance: l2 distance is not supported for float1bit vectors");
    }
    // Blobs are read where SQLite holds them; text is parsed.
    std::optional<Vector> owned_a;
    std::optional<Vector> owned_b;
    const VectorView a = argument_view(argv[0], owned_a);
    const VectorView b = argument_view(argv[1], owned_b);
    if (a.dims != b.dims) {
      throw Error(kCodeError, "vector_distance: vectors must have the same length: " +
                                  std::to_string(a.dims) + " != " + std::to_string(b.dims));
    }
    // SQLite turns a NaN result (a zero vector) into NULL, as libSQL's callers see it.
    sqlite3_result_double(ctx, l2 ? distance_l2(a, b).value_or(0.0) : distance_cos(a, b));
  });
}

}  // namespace

BlobMeta value_meta(sqlite3_value* value, Type text_type) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_BLOB:
      return blob_meta(blob_of(value));
    case SQLITE_TEXT:
      return BlobMeta{text_type, text_dims_estimate(text_of(value)), 0};
    default:
      throw Error(kCodeError, value_type_error(sqlite3_value_type(value)));
  }
}

Vector value_to_vector(sqlite3_value* value, Type text_type) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_BLOB:
      return parse_blob(blob_of(value));
    case SQLITE_TEXT:
      return parse_text(text_of(value), text_type);
    default:
      throw Error(kCodeError, value_type_error(sqlite3_value_type(value)));
  }
}

int register_sql_functions(sqlite3* db) noexcept {
  struct Def {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  static constexpr Def kDefs[] = {
      {"vector", 1, &convert_function<Type::F32>},
      {"vector32", 1, &convert_function<Type::F32>},
      {"vector64", 1, &convert_function<Type::F64>},
      {"vector1bit", 1, &convert_function<Type::F1Bit>},
      {"vector8", 1, &convert_function<Type::F8>},
      {"vector16", 1, &convert_function<Type::F16>},
      {"vectorb16", 1, &convert_function<Type::FB16>},
      {"vector_extract", 1, &extract_function},
      {"vector_distance_cos", 2, &distance_function<false>},
      {"vector_distance_l2", 2, &distance_function<true>},
  };
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  for (const Def& def : kDefs) {
    const int rc = sqlite3_create_function_v2(db, def.name, def.args, kFlags, nullptr, def.fn,
                                              nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace ecto_libsql::vector
