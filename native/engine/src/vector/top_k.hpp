// The eponymous virtual table vector_top_k(index, vector, k) of libSQL: one visible column `id`
// (the key of each row found), nearest first.
#pragma once

#include <sqlite3.h>

namespace ecto_libsql::vector {

class Extension;

int register_top_k(sqlite3* db, Extension* ext) noexcept;

}  // namespace ecto_libsql::vector
