// Running statements from a NIF call: where they may run, and turning their rows into terms.
#pragma once

#include <erl_nif.h>

#include <chrono>

#include "ecto_libsql/connection.hpp"

namespace ecto_libsql::nif {

// How long one call may keep a normal scheduler before it must hand over to a dirty one.
inline constexpr std::chrono::microseconds kNormalSchedulerBudget{500};

// A write statement whose recent runs took on average more than this (Statement::caller_cost,
// microseconds) starts on a dirty scheduler. An average, so one slow run (a cache spill, a
// busy machine) does not send a statement to the dirty schedulers for good.
inline constexpr std::uint32_t kSlowAverageMicros = 200;

// Folds the duration of a run into the statement's moving average; on a normal scheduler also
// tells the VM how much of its time slice the call used.
void record_cost(ErlNifEnv* env, Statement& stmt, std::chrono::steady_clock::time_point started,
                 bool on_normal_scheduler);

// Writes inside a transaction that run on a normal scheduler and took on average less than
// this are timed one run in kTimedRunInterval: reading the clock twice costs a few per cent of
// such a run, and their moving average moves slowly anyway. Reads are always timed (their
// deadline stops them).
inline constexpr std::uint32_t kAlwaysTimedMicros = 20;
inline constexpr std::uint32_t kTimedRunInterval = 8;

// Whether this run of `stmt` on a normal scheduler should read the clock.
inline bool time_this_run(Statement& stmt) {
  return stmt.readonly() || stmt.caller_cost >= kAlwaysTimedMicros ||
         ++stmt.caller_runs % kTimedRunInterval == 0;
}

// A budget for a call that started at `started`.
inline ExecBudget normal_scheduler_budget(std::chrono::steady_clock::time_point started) {
  return ExecBudget{true, started + kNormalSchedulerBudget};
}

// The budget of an untimed write: it yields instead of waiting for a lock, and has no deadline
// (only reads check one).
inline ExecBudget untimed_write_budget() {
  return ExecBudget{true, std::chrono::steady_clock::time_point::max()};
}

// Whether `stmt` may start on a normal scheduler. Reads stop themselves at the deadline; writes
// inside a transaction are quick unless they were slow before; anything that commits, syncs to
// disk or talks to the network goes to a dirty scheduler.
bool may_run_on_normal_scheduler(const Connection& conn, const Statement& stmt);

// Steps a bound statement to its end and builds %EctoLibSql.Result{}. With a budget, answers
// false when the statement yielded (it has been reset and left no trace); the caller then runs
// it again on a dirty scheduler.
bool run_to_result(ErlNifEnv* env, Statement& stmt, const ExecBudget* budget, ERL_NIF_TERM& out);

// Builds %Result{} for a reader that has been stepped (used for batches).
ERL_NIF_TERM drain_to_result(ErlNifEnv* env, RowReader& reader, sql::Command command);

}  // namespace ecto_libsql::nif
