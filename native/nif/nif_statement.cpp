// Prepared statement handles: prepare/2, stmt_query/3, stmt_reset/2, stmt_close/1, stmt_info/4.
#include "enif_terms.hpp"
#include "lock_wait_nif.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"
#include "param_decoder.hpp"
#include "run.hpp"

namespace ecto_libsql::nif {
namespace {

StatementResource& statement_arg(ErlNifEnv* env, ERL_NIF_TERM term) {
  auto* res = get_resource<StatementResource>(env, term);
  if (res == nullptr || !res->stmt) not_a_handle("Statement");
  return *res;
}

// The statement, checked to belong to `conn` and to be open. Caller holds the lock.
Statement& owned_statement(StatementResource& res, const Connection& conn) {
  if (res.conn.get() != &conn) {
    throw Error(kCodeMisuse, "Statement does not belong to connection");
  }
  if (res.stmt->closed()) throw Error(kCodeMisuse, "Statement not found: it is closed");
  return *res.stmt;
}

ERL_NIF_TERM stmt_query_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// stmt_query(conn, stmt, args)
ERL_NIF_TERM stmt_query_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectionResource& conn_res = connection_arg(env, argv[0]);
    Connection& conn = *conn_res.conn;
    StatementResource& res = statement_arg(env, argv[1]);
    Arena arena;
    EnifTerms terms(env);
    // Reused on this scheduler thread: binding a row allocates nothing. The decoded views point
    // into argv, which outlives the run.
    [[gnu::tls_model("initial-exec")]] static thread_local Params t_params;
    Params& params = t_params;
    decode_params_into(terms, argv[2], arena, params);
    params.borrowed = true;
    if (dirty) {
      const auto started = std::chrono::steady_clock::now();
      return with_lock_wait(env, argc, argv, 3, [&](LockWait&) {
        Connection::Guard guard(conn);
        // A prepared statement runs in the transaction its process began, never in another's.
        wait_outside_foreign_transaction(env, conn_res);
        Statement& stmt = owned_statement(res, conn);
        stmt.bind(params);
        ERL_NIF_TERM out;
        struct Reset {
          Statement& s;
          ~Reset() { s.reset(); }
        } reset{stmt};
        run_to_result(env, stmt, nullptr, out);
        record_cost(env, stmt, started, false);
        return make_ok(env, out);
      });
    }
    Connection::Guard guard(conn, std::try_to_lock);
    if (!guard.owns_lock() || in_foreign_transaction(env, conn_res))
      return reschedule_dirty(env, "stmt_query", stmt_query_dirty, argc, argv);
    Statement& stmt = owned_statement(res, conn);
    if (!may_run_on_normal_scheduler(conn, stmt)) {
      return reschedule_dirty(env, "stmt_query", stmt_query_dirty, argc, argv);
    }
    const bool timed = time_this_run(stmt);
    const auto started =
        timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    ExecBudget budget = timed ? normal_scheduler_budget(started) : untimed_write_budget();
    stmt.bind(params);
    struct Reset {
      Statement& s;
      ~Reset() { s.reset(); }
    } reset{stmt};
    ERL_NIF_TERM out;
    if (!run_to_result(env, stmt, &budget, out)) {
      return reschedule_dirty(env, "stmt_query", stmt_query_dirty, argc, argv);
    }
    if (timed) record_cost(env, stmt, started, true);
    return make_ok(env, out);
  });
}

ERL_NIF_TERM stmt_query_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_query_impl(env, argc, argv, true);
}

ERL_NIF_TERM stmt_reset_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM stmt_reset_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    StatementResource& res = statement_arg(env, argv[1]);
    Connection::Guard guard =
        dirty ? Connection::Guard(conn) : Connection::Guard(conn, std::try_to_lock);
    if (!guard.owns_lock())
      return reschedule_dirty(env, "stmt_reset", stmt_reset_dirty, argc, argv);
    owned_statement(res, conn).reset();
    return atoms::ok;
  });
}
ERL_NIF_TERM stmt_reset_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_reset_impl(env, argc, argv, true);
}

ERL_NIF_TERM stmt_close_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM stmt_close_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    StatementResource& res = statement_arg(env, argv[0]);
    Connection::Guard guard =
        dirty ? Connection::Guard(*res.conn) : Connection::Guard(*res.conn, std::try_to_lock);
    if (!guard.owns_lock())
      return reschedule_dirty(env, "stmt_close", stmt_close_dirty, argc, argv);
    res.stmt->close();  // idempotent
    return atoms::ok;
  });
}
ERL_NIF_TERM stmt_close_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_close_impl(env, argc, argv, true);
}

ERL_NIF_TERM stmt_info_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// stmt_info(conn, stmt, what, index)
ERL_NIF_TERM stmt_info_impl(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], bool dirty) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    StatementResource& res = statement_arg(env, argv[1]);
    char what[32];
    if (!enif_get_atom(env, argv[2], what, sizeof(what), ERL_NIF_LATIN1)) throw BadArg{};
    const std::int64_t index = int_arg(env, argv[3]);
    Connection::Guard guard =
        dirty ? Connection::Guard(conn) : Connection::Guard(conn, std::try_to_lock);
    if (!guard.owns_lock()) return reschedule_dirty(env, "stmt_info", stmt_info_dirty, argc, argv);
    Statement& stmt = owned_statement(res, conn);
    const std::string_view kind(what);
    if (kind == "column_count") return make_ok(env, enif_make_int(env, stmt.column_count()));
    if (kind == "parameter_count") return make_ok(env, enif_make_int(env, stmt.parameter_count()));
    if (kind == "column_name") {
      const int count = stmt.column_count();
      if (index < 0 || index >= count) {
        throw Error(kCodeRange, "Column index " + std::to_string(index) +
                                    " out of bounds (statement has " + std::to_string(count) +
                                    " columns)");
      }
      return make_ok(env, make_binary(env, stmt.column_name(static_cast<int>(index))));
    }
    if (kind == "parameter_name") {
      if (index < 1 || index > stmt.parameter_count()) {
        throw Error(kCodeRange, "Parameter index " + std::to_string(index) +
                                    " out of bounds (statement has " +
                                    std::to_string(stmt.parameter_count()) + " parameters)");
      }
      auto name = stmt.parameter_name(static_cast<int>(index));
      return make_ok(env, name ? make_binary(env, *name) : atoms::nil);
    }
    if (kind == "columns") {
      std::vector<ERL_NIF_TERM> out;
      for (const ColumnInfo& col : stmt.columns()) {
        out.push_back(
            enif_make_tuple3(env, make_binary(env, col.name), make_binary(env, col.origin),
                             col.decltype_ ? make_binary(env, *col.decltype_) : atoms::nil));
      }
      return make_ok(env,
                     enif_make_list_from_array(env, out.data(), static_cast<unsigned>(out.size())));
    }
    if (kind == "sql") return make_ok(env, make_binary(env, stmt.sql()));
    throw BadArg{};
  });
}
ERL_NIF_TERM stmt_info_dirty(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_info_impl(env, argc, argv, true);
}

}  // namespace

// prepare(conn, sql) — dirty
ERL_NIF_TERM prepare(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectionResource& res = connection_arg(env, argv[0]);
    const std::string_view sql = binary_arg(env, argv[1]);
    return with_lock_wait(env, argc, argv, 2, [&](LockWait&) {
      std::shared_ptr<Statement> stmt;
      {
        Connection::Guard guard(*res.conn);
        stmt = res.conn->prepare(sql);
      }
      return make_ok(env, make_resource<StatementResource>(env, res.conn, std::move(stmt)));
    });
  });
}

ERL_NIF_TERM stmt_query(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_query_impl(env, argc, argv, false);
}
ERL_NIF_TERM stmt_reset(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_reset_impl(env, argc, argv, false);
}
ERL_NIF_TERM stmt_close(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_close_impl(env, argc, argv, false);
}
ERL_NIF_TERM stmt_info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return stmt_info_impl(env, argc, argv, false);
}

}  // namespace ecto_libsql::nif
