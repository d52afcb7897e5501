// Which foreign key a statement that failed on the server broke (local connections find it on
// their file: local/foreign_key_failure.hpp; both name it with core/foreign_keys.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/foreign_keys.hpp"
#include "hrana_stream.hpp"

namespace ecto_libsql::remote {

// The server answers only "FOREIGN KEY constraint failed". The statement runs once more in a
// savepoint with foreign keys deferred, PRAGMA foreign_key_check before and after it tells the
// rows it broke, and everything is rolled back, in one request on the current stream. Never
// throws; answers nothing when the key cannot be found.
[[nodiscard]] std::optional<BrokenForeignKey> find_broken_foreign_key(
    HranaStream& stream, const std::string& sql, const std::vector<Value>& args) noexcept;

}  // namespace ecto_libsql::remote
