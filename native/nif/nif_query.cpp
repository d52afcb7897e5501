// query/4, batch/4, execute_script/4, named_arguments/3 and classify/1.
#include <optional>
#include <vector>

#include "ecto_libsql/parameters.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "enif_terms.hpp"
#include "lock_wait_nif.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"
#include "param_decoder.hpp"
#include "run.hpp"

namespace ecto_libsql::nif {
namespace {

ERL_NIF_TERM query_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// SQL holding several statements: they run one after the other as one unit, and the result is
// the last statement's. The unit is all-or-nothing (Connection::batch: a transaction of its own,
// or a savepoint inside an open one, which a failure leaves usable) unless the statements
// control transactions themselves (BEGIN ... COMMIT, SAVEPOINT): then they run as written, and a
// transaction they began and left open when one failed is rolled back. Parameters bind to one
// statement: SQL with several statements takes none. Caller holds the connection's lock.
ERL_NIF_TERM run_several(ErlNifEnv* env, Connection& conn, std::string_view sql,
                         const Params& params, LockWait& wait) {
  std::vector<BatchStep> steps;
  bool controls_transactions = false;
  for (std::string_view stmt : sql::split_statements(sql)) {
    steps.push_back(BatchStep{stmt, {}});
    if (sql::classify(stmt).is_transaction) controls_transactions = true;
  }
  if (!params.empty()) {
    throw Error(kCodeMisuse, "the SQL holds " + std::to_string(steps.size()) +
                                 " statements: parameters bind to one statement, so run "
                                 "statements that take parameters one by one (or with batch/2)");
  }
  const bool was_autocommit = conn.autocommit();
  ERL_NIF_TERM last = atoms::nil;
  try {
    conn.batch(steps, !controls_transactions, [&](std::size_t i, RowReader& reader) {
      last = drain_to_result(env, reader, sql::classify(steps[i].sql).command);
      // A unit without its savepoint cannot start again once a statement has run.
      if (controls_transactions) wait.may_yield = false;
    });
  } catch (...) {
    if (controls_transactions && was_autocommit && !conn.autocommit()) {
      try {
        conn.run("ROLLBACK");
      } catch (...) {
        // The statement's own error matters more than a failed clean-up.
      }
    }
    throw;
  }
  return last;
}

// query(conn, trx | nil, sql, args)
ERL_NIF_TERM query_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    const auto started = std::chrono::steady_clock::now();
    ConnectionResource& res = connection_arg(env, argv[0]);
    Connection& conn = *res.conn;
    const std::string_view sql = binary_arg(env, argv[2]);
    Arena arena;
    EnifTerms terms(env);
    // Reused on this scheduler thread, as in stmt_query.
    [[gnu::tls_model("initial-exec")]] static thread_local Params t_params;
    Params& params = t_params;
    decode_params_into(terms, argv[3], arena, params);
    params.borrowed = true;  // the argument terms outlive this call, and the run ends in it

    if (dirty) {
      return with_lock_wait(env, argc, argv, 4, [&](LockWait& wait) {
        Connection::Guard guard(conn);
        transaction_arg(env, argv[1], res);
        StatementLease stmt;
        try {
          stmt = conn.acquire(sql);
        } catch (const SeveralStatements&) {
          return make_ok(env, run_several(env, conn, sql, params, wait));
        }
        stmt->bind(params);
        ERL_NIF_TERM out;
        run_to_result(env, *stmt, nullptr, out);
        record_cost(env, *stmt, started, false);
        return make_ok(env, out);
      });
    }

    if (conn.always_blocking()) return reschedule_dirty(env, "query", query_dirty, argc, argv);
    Connection::Guard guard(conn, std::try_to_lock);
    if (!guard.owns_lock()) return reschedule_dirty(env, "query", query_dirty, argc, argv);
    // Waiting for another process's transaction happens on the dirty path.
    if (is_nil(argv[1]) && in_foreign_transaction(env, res)) {
      return reschedule_dirty(env, "query", query_dirty, argc, argv);
    }
    transaction_arg(env, argv[1], conn);
    ExecBudget budget = normal_scheduler_budget(started);
    StatementLease stmt;
    try {
      stmt = conn.acquire(sql, &budget);
    } catch (const SeveralStatements&) {
      return reschedule_dirty(env, "query", query_dirty, argc, argv);  // runs them as a script
    }
    if (!stmt || !may_run_on_normal_scheduler(conn, *stmt)) {
      return reschedule_dirty(env, "query", query_dirty, argc, argv);
    }
    stmt->bind(params);
    ERL_NIF_TERM out;
    if (!run_to_result(env, *stmt, &budget, out)) {
      return reschedule_dirty(env, "query", query_dirty, argc, argv);
    }
    record_cost(env, *stmt, started, true);
    return make_ok(env, out);
  });
}

ERL_NIF_TERM query_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return query_impl(env, argc, argv, true);
}

ERL_NIF_TERM named_arguments_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// named_arguments(conn, sql, map, waiting_since): the map's values in the order of the
// statement's parameters, resolved as binding resolves them (resolve_named). Answers
// {:ok, values}, {:argument_error, message} when the map does not fit the statement, or
// {:error, ...} when the statement cannot be prepared.
ERL_NIF_TERM named_arguments_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    const auto started = std::chrono::steady_clock::now();
    Connection& conn = *connection_arg(env, argv[0]).conn;
    const std::string_view sql = binary_arg(env, argv[1]);
    if (!enif_is_map(env, argv[2])) throw BadArg{};
    // Keys of other types can name no parameter: they are ignored, like every unused key.
    EnifTerms terms(env);
    Arena arena;
    std::vector<NamedParam> keys;
    std::vector<ERL_NIF_TERM> values;
    terms.for_each_map_pair(argv[2], [&](ERL_NIF_TERM key, ERL_NIF_TERM value) {
      NamedParam param;
      if (!decode_key(terms, key, arena, param.name, param.atom_key)) return;
      keys.push_back(param);
      values.push_back(value);
    });
    auto names_of = [&](const ExecBudget* budget) -> std::optional<std::vector<std::string>> {
      StatementLease stmt;
      try {
        stmt = conn.acquire(sql, budget);
      } catch (const SeveralStatements&) {
        throw Error(kCodeMisuse,
                    "Prepare failed: the SQL holds more than one statement; prepare them one by "
                    "one");
      }
      if (!stmt) return std::nullopt;
      return parameter_names_of(*stmt);
    };
    std::optional<std::vector<std::string>> names;
    if (dirty) {
      const ERL_NIF_TERM busy = with_lock_wait(env, argc, argv, 3, [&](LockWait&) {
        Connection::Guard guard(conn);
        names = names_of(nullptr);
        return atoms::ok;
      });
      if (!names) return busy;
    } else {
      if (conn.always_blocking()) {
        return reschedule_dirty(env, "named_arguments", named_arguments_dirty, argc, argv);
      }
      Connection::Guard guard(conn, std::try_to_lock);
      const ExecBudget budget = normal_scheduler_budget(started);
      if (guard.owns_lock()) names = names_of(&budget);
      if (!names) {
        return reschedule_dirty(env, "named_arguments", named_arguments_dirty, argc, argv);
      }
    }
    std::vector<std::size_t> chosen;
    try {
      const std::vector<std::string_view> views(names->begin(), names->end());
      chosen = resolve_named(views, keys);
    } catch (const Error& e) {
      return enif_make_tuple2(env, atoms::argument_error, make_binary(env, e.message()));
    }
    std::vector<ERL_NIF_TERM> ordered;
    ordered.reserve(chosen.size());
    for (const std::size_t k : chosen)
      ordered.push_back(values[k]);
    return make_ok(
        env, enif_make_list_from_array(env, ordered.data(), static_cast<unsigned>(ordered.size())));
  });
}

ERL_NIF_TERM named_arguments_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return named_arguments_impl(env, argc, argv, true);
}

std::vector<BatchStep> decode_steps(ErlNifEnv* env, ERL_NIF_TERM list, Arena& arena) {
  EnifTerms terms(env);
  std::vector<BatchStep> steps;
  ERL_NIF_TERM head;
  ERL_NIF_TERM tail = list;
  if (!enif_is_list(env, list)) throw BadArg{};
  while (enif_get_list_cell(env, tail, &head, &tail)) {
    int arity = 0;
    const ERL_NIF_TERM* elems = nullptr;
    if (!enif_get_tuple(env, head, &arity, &elems) || arity != 2) {
      throw Error(kCodeMisuse, "Failed to decode statement: each batch entry must be {sql, args}");
    }
    BatchStep step;
    step.sql = binary_arg(env, elems[0]);
    step.params = decode_params(terms, elems[1], arena);
    step.params.borrowed = true;
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace

ERL_NIF_TERM query(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return query_impl(env, argc, argv, false);
}

// batch(conn, trx | nil, [{sql, args}], transactional) — dirty. A lock wait may run it again
// while no step has been applied, or at any point when it is transactional (all undone).
ERL_NIF_TERM batch(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectionResource& res = connection_arg(env, argv[0]);
    Connection& conn = *res.conn;
    Arena arena;
    std::vector<BatchStep> steps = decode_steps(env, argv[2], arena);
    const bool transactional = bool_arg(env, argv[3]);
    return with_lock_wait(env, argc, argv, 4, [&](LockWait& wait) {
      Connection::Guard guard(conn);
      transaction_arg(env, argv[1], res);
      std::vector<ERL_NIF_TERM> results;
      results.reserve(steps.size());
      conn.batch(steps, transactional, [&](std::size_t i, RowReader& reader) {
        results.push_back(drain_to_result(env, reader, sql::classify(steps[i].sql).command));
        if (!transactional) wait.may_yield = false;
      });
      return make_ok(env, enif_make_list_from_array(env, results.data(),
                                                    static_cast<unsigned>(results.size())));
    });
  });
}

// execute_script(conn, trx | nil, sql, transactional) — dirty. One result per statement: a
// %Result{} for statements that return columns, nil for the others.
ERL_NIF_TERM execute_script(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectionResource& res = connection_arg(env, argv[0]);
    Connection& conn = *res.conn;
    const std::string_view sql = binary_arg(env, argv[2]);
    const bool transactional = bool_arg(env, argv[3]);
    std::vector<BatchStep> steps;
    for (std::string_view stmt : sql::split_statements(sql))
      steps.push_back(BatchStep{stmt, {}});
    return with_lock_wait(env, argc, argv, 4, [&](LockWait& wait) {
      Connection::Guard guard(conn);
      transaction_arg(env, argv[1], res);
      std::vector<ERL_NIF_TERM> results;
      conn.batch(steps, transactional, [&](std::size_t i, RowReader& reader) {
        const ERL_NIF_TERM result =
            drain_to_result(env, reader, sql::classify(steps[i].sql).command);
        results.push_back(reader.column_count() > 0 ? result : atoms::nil);
        if (!transactional) wait.may_yield = false;
      });
      return make_ok(env, enif_make_list_from_array(env, results.data(),
                                                    static_cast<unsigned>(results.size())));
    });
  });
}

ERL_NIF_TERM named_arguments(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return named_arguments_impl(env, argc, argv, false);
}

// classify(sql) -> {command, returns_rows}
ERL_NIF_TERM classify(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    const auto cls = sql::classify(binary_arg(env, argv[0]));
    return enif_make_tuple2(env, command_atom(cls.command),
                            cls.returns_rows ? atoms::true_ : atoms::false_);
  });
}

}  // namespace ecto_libsql::nif
