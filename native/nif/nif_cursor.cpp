// Cursors: a statement kept open and stepped a batch of rows per fetch. All dirty: one step
// can take arbitrarily long and a cursor cannot start again from the beginning.
#include "enif_terms.hpp"
#include "lock_wait_nif.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"
#include "param_decoder.hpp"
#include "run.hpp"

namespace ecto_libsql::nif {

// cursor_open(conn, trx | nil, sql, args)
ERL_NIF_TERM cursor_open(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    ConnectionResource& res = connection_arg(env, argv[0]);
    Connection& conn = *res.conn;
    const std::string_view sql = binary_arg(env, argv[2]);
    Arena arena;
    EnifTerms terms(env);
    Params params = decode_params(terms, argv[3], arena);  // copied when bound: not borrowed
    return with_lock_wait(env, argc, argv, 4, [&](LockWait&) {
      std::shared_ptr<Statement> stmt;
      {
        Connection::Guard guard(conn);
        transaction_arg(env, argv[1], res);
        stmt = conn.open_cursor(sql, params);
      }
      return make_ok(env, make_resource<CursorResource>(env, res.conn, std::move(stmt), false));
    });
  });
}

// cursor_fetch(conn, cursor, max_rows) -> {:cont | :halt, columns, rows}. Until its first row
// a cursor can start again, so only then may a lock wait run the call again.
ERL_NIF_TERM cursor_fetch(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    Connection& conn = *connection_arg(env, argv[0]).conn;
    auto* cursor = get_resource<CursorResource>(env, argv[1]);
    if (cursor == nullptr || !cursor->stmt) not_a_handle("Cursor");
    const std::int64_t max_rows = int_arg(env, argv[2]);
    if (max_rows < 1) throw Error(kCodeMisuse, "max_rows must be a positive integer");
    return with_lock_wait(env, argc, argv, 3, [&](LockWait& wait) {
      Connection::Guard guard(conn);
      if (cursor->conn.get() != &conn) {
        throw Error(kCodeMisuse, "Cursor does not belong to connection");
      }
      Statement& stmt = *cursor->stmt;
      if (stmt.closed()) throw Error(kCodeMisuse, "Cursor not found: it is closed");
      const ERL_NIF_TERM columns = make_columns(env, stmt);
      if (cursor->failed) throw *cursor->failed;  // NOLINT(cert-err60-cpp)
      if (cursor->done) return enif_make_tuple3(env, atoms::halt, columns, enif_make_list(env, 0));
      wait.may_yield = !cursor->started;
      const int ncols = stmt.column_count();
      std::vector<ERL_NIF_TERM> rows;
      rows.reserve(static_cast<std::size_t>(std::min<std::int64_t>(max_rows, 4096)));
      try {
        while (static_cast<std::int64_t>(rows.size()) < max_rows) {
          if (stmt.step(nullptr) != Step::Row) {
            cursor->done = true;
            stmt.reset();  // releases the read lock at once
            break;
          }
          cursor->started = true;
          rows.push_back(make_row(env, stmt, ncols));
        }
      } catch (const Error& e) {
        // A lock wait before the first row: the next call steps again from the start.
        if (wait.should_retry(e) && !cursor->started) throw;
        cursor->failed = e;
        cursor->done = true;
        stmt.reset();
        throw;
      } catch (...) {
        cursor->done = true;
        stmt.reset();
        throw;
      }
      const ERL_NIF_TERM list =
          enif_make_list_from_array(env, rows.data(), static_cast<unsigned>(rows.size()));
      return enif_make_tuple3(env, cursor->done ? atoms::halt : atoms::cont, columns, list);
    });
  });
}

// cursor_close(cursor): frees the statement now or, if the connection is busy, at its next use.
ERL_NIF_TERM cursor_close(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto* cursor = get_resource<CursorResource>(env, argv[0]);
    if (cursor == nullptr || !cursor->conn) not_a_handle("Cursor");
    Connection::Guard guard(*cursor->conn, std::try_to_lock);
    if (guard.owns_lock()) {
      if (cursor->stmt) cursor->stmt->close();
      cursor->done = true;
    } else {
      // Closing must not wait for another process's query: mark it and let the connection
      // free the statement when it is next used.
      std::shared_ptr<Statement> stmt = cursor->stmt;
      cursor->conn->release_later(std::shared_ptr<void>(nullptr, [stmt](void*) { stmt->close(); }));
    }
    return atoms::ok;
  });
}

}  // namespace ecto_libsql::nif
