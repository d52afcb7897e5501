#include "run.hpp"

#include <vector>

#include "atoms.hpp"
#include "terms.hpp"

namespace ecto_libsql::nif {
namespace {

// Rows of the call in progress; reused so a hot loop does not allocate.
[[gnu::tls_model("initial-exec")]] thread_local std::vector<ERL_NIF_TERM> t_rows;

// Checking the clock every row would cost more than it saves.
constexpr unsigned kRowsBetweenClockChecks = 64;

ERL_NIF_TERM finish(ErlNifEnv* env, const RowReader& reader, sql::Command command, int columns,
                    std::vector<ERL_NIF_TERM>& rows) {
  if (columns == 0) {
    return make_result(env, command_atom(command), atoms::nil, atoms::nil,
                       enif_make_int64(env, reader.changes()));
  }
  const ERL_NIF_TERM list =
      enif_make_list_from_array(env, rows.data(), static_cast<unsigned>(rows.size()));
  return make_result(env, command_atom(command), make_columns(env, reader), list,
                     enif_make_uint64(env, rows.size()));
}

}  // namespace

bool may_run_on_normal_scheduler(const Connection& conn, const Statement& stmt) {
  if (conn.always_blocking() || stmt.blocking()) return false;
  const auto& cls = stmt.classification();
  if (cls.command == sql::Command::Pragma) return false;
  if (cls.is_transaction) {
    // BEGIN and SAVEPOINT only take locks (and yield when they would wait); COMMIT, ROLLBACK
    // and RELEASE may write and sync the journal.
    return cls.command == sql::Command::Begin || cls.command == sql::Command::Savepoint;
  }
  if (stmt.readonly()) return true;
  // A write outside a transaction commits, which syncs to disk.
  if (conn.autocommit()) return false;
  return stmt.caller_cost < kSlowAverageMicros;
}

void record_cost(ErlNifEnv* env, Statement& stmt, std::chrono::steady_clock::time_point started,
                 bool on_normal_scheduler) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  const auto sample = static_cast<std::uint32_t>(std::min<long long>(micros, 1'000'000));
  stmt.caller_cost = (stmt.caller_cost * 7 + sample) / 8;
  // A time slice is about 1 ms; report whole percents only.
  if (on_normal_scheduler && micros >= 10) {
    enif_consume_timeslice(env, static_cast<int>(std::min<long long>(micros / 10, 100)));
  }
}

bool run_to_result(ErlNifEnv* env, Statement& stmt, const ExecBudget* budget, ERL_NIF_TERM& out) {
  std::vector<ERL_NIF_TERM>& rows = t_rows;
  rows.clear();
  const int columns = stmt.column_count();
  unsigned since_check = 0;
  for (;;) {
    const Step step = stmt.step(budget);
    if (step == Step::Done) break;
    if (step == Step::Yield) {
      rows.clear();
      return false;
    }
    rows.push_back(make_row(env, stmt, columns));
    if (budget != nullptr && ++since_check == kRowsBetweenClockChecks) {
      since_check = 0;
      // A read can start again elsewhere; a write that returns rows has already written and
      // must finish here.
      if (stmt.readonly() && std::chrono::steady_clock::now() > budget->deadline) {
        stmt.reset();
        rows.clear();
        return false;
      }
    }
  }
  out = finish(env, stmt, stmt.classification().command, columns, rows);
  rows.clear();
  if (rows.capacity() > 65536) rows.shrink_to_fit();
  return true;
}

ERL_NIF_TERM drain_to_result(ErlNifEnv* env, RowReader& reader, sql::Command command) {
  std::vector<ERL_NIF_TERM> rows;
  const int columns = reader.column_count();
  while (reader.step(nullptr) == Step::Row)
    rows.push_back(make_row(env, reader, columns));
  return finish(env, reader, command, columns, rows);
}

}  // namespace ecto_libsql::nif
