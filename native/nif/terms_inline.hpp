// Hot-path helpers of terms.hpp, inlined into the row loops.
#pragma once

#include <cstring>

#include "atoms.hpp"

namespace ecto_libsql::nif {

inline ERL_NIF_TERM make_cell(ErlNifEnv* env, const RowReader& reader, int index) {
  switch (reader.column_type(index)) {
    case ValueType::Integer:
      return enif_make_int64(env, reader.column_int64(index));
    case ValueType::Float:
      return enif_make_double(env, reader.column_double(index));
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
