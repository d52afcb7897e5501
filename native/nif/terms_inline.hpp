// Hot-path helpers of terms.hpp, inlined into the row loops.
#pragma once

#include <cmath>
#include <cstring>

#include "atoms.hpp"

namespace ecto_libsql::nif {

inline ERL_NIF_TERM make_cell(ErlNifEnv* env, const RowReader& reader, int index) {
  switch (reader.column_type(index)) {
    case ValueType::Integer:
      return enif_make_int64(env, reader.column_int64(index));
    case ValueType::Float: {
      // Erlang floats have no infinities (enif_make_double would raise badarg): like Postgrex,
      // answer :inf and :"-inf". SQLite itself never stores NaN (it becomes NULL).
      const double v = reader.column_double(index);
      if (std::isinf(v)) return v > 0 ? atoms::inf : atoms::neg_inf;
      return enif_make_double(env, v);
    }
    case ValueType::Text:
      return make_binary(env, reader.column_text(index));
    case ValueType::Blob:
      return make_binary(env, reader.column_blob(index));
    case ValueType::Null:
      break;
  }
  return atoms::nil;
}

}  // namespace ecto_libsql::nif
