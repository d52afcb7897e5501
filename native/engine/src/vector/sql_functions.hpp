// libSQL's vector SQL functions on a SQLite connection: vector, vector32, vector64, vector16,
// vectorb16, vector8, vector1bit, vector_extract, vector_distance_cos, vector_distance_l2.
#pragma once

#include <sqlite3.h>

#include "vector/vector_value.hpp"

namespace ecto_libsql::vector {

// Registers the functions. Answers a SQLite result code.
int register_sql_functions(sqlite3* db) noexcept;

// Reads a function argument as a vector: BLOBs by their meta, TEXT parsed as `text_type`
// (FLOAT32 or FLOAT64). Throws Error with libSQL's message.
Vector value_to_vector(sqlite3_value* value, Type text_type);

// The type and dimensions of an argument before it is parsed (libSQL checks these first).
BlobMeta value_meta(sqlite3_value* value, Type text_type);

}  // namespace ecto_libsql::vector
