// Query arguments as the VM could pass them, in Erlang's external term format: decoded by the
// NIF's own decoder (param_decoder.hpp) and bound to statements of a real SQLite connection.
// Any input must give parameters or an Error — never a crash, a leak or undefined behaviour.
#include <cstdint>
#include <memory>
#include <string_view>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/local/local_connection.hpp"
#include "ecto_libsql/open.hpp"
#include "external_term.hpp"

namespace {

using namespace ecto_libsql;
using local::LocalConnection;

constexpr std::string_view kStatements[] = {
    "SELECT ?",
    "SELECT ?, ?, ?",
    "SELECT :a, @b, $c, ?7",
    "SELECT typeof(:a), length(:a)",
};

LocalConnection& connection() {
  static const std::unique_ptr<LocalConnection> conn = [] {
    ConnectOptions options;
    options.database = ":memory:";
    return std::make_unique<LocalConnection>(options);
  }();
  return *conn;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the statement; the rest is one term.
  const std::string_view sql = kStatements[data[0] % std::size(kStatements)];
  fuzz::ExternalTermReader reader;
  const fuzz::TermNode* term =
      reader.parse(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (term == nullptr) return 0;

  fuzz::ExternalTerms terms;
  nif::Arena arena;
  try {
    const Params params = nif::decode_params(terms, fuzz::ExternalTerms::Term{term, 0}, arena);
    StatementLease stmt = connection().acquire(sql, nullptr);
    stmt->bind(params);
    while (stmt->step(nullptr) == Step::Row) {
      for (int i = 0; i < stmt->column_count(); ++i)
        (void)stmt->column_type(i);
    }
    stmt->reset();
  } catch (const Error&) {
    // A clear error is a valid answer.
  } catch (const nif::NeedsEncoding&) {
    // So is asking the Elixir side to encode the arguments first.
  }
  return 0;
}
