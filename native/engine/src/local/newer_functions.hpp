// SQL functions that newer SQLite releases have built in, for older system libraries: with them
// a query runs the same whichever SQLite the machine has (Debian 12 ships 3.40).
#pragma once

#include <sqlite3.h>

namespace ecto_libsql::local {

// concat() and concat_ws() (built in from SQLite 3.44). Registers only what the linked SQLite
// lacks; answers SQLITE_OK or the registration's error.
int add_newer_functions(sqlite3* db) noexcept;

}  // namespace ecto_libsql::local
