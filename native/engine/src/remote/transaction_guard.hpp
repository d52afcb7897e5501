// The transaction guard for servers that keep no stream per client (Protocol::Minimal:
// tursodb holds one SQL connection for all its clients and does not check batons). A restart,
// or another client's COMMIT on that connection, ends the transaction without a word, and a
// statement sent after it would run in autocommit, its transaction half applied. Inside a
// transaction every execute or batch request therefore runs as a batch whose first step runs
// only while the connection is not in autocommit, and whose other steps run only after it.
#pragma once

#include <optional>

#include "hrana_json.hpp"

namespace ecto_libsql::remote {

// Whether `request` is one the guard applies to (an execute or a batch).
[[nodiscard]] bool is_guardable(const json::value& request);

// `request` (is_guardable) as a batch behind the guard; the conditions of its steps name the
// same steps as before.
[[nodiscard]] json::value guarded(const json::value& request);

// The server's answer to guarded(`request`) as the answer to `request` itself; nullopt when
// the guard did not run (the transaction was gone, and nothing of the request ran). Throws
// Error (PROTOCOL) when the answer is not a batch's.
[[nodiscard]] std::optional<json::value> unguarded(const json::value& request, json::value answer);

}  // namespace ecto_libsql::remote
