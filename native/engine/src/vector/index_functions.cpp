// The SQL functions of vector indexes: libsql_vector_idx(), which SQLite evaluates for every key
// of an index b-tree (and which notices schema changes), and the function the maintenance
// triggers call on every write to an indexed table.
#include <cstdint>
#include <new>
#include <optional>
#include <string>

#include "ecto_libsql/error.hpp"
#include "vector/extension.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr const char* kResyncMessage =
    "vector index: the database schema changed; the statement must run again";

}  // namespace

void Extension::marker(sqlite3_context* ctx, sqlite3_value* column) noexcept {
  try {
    if (ddl_depth_ == 0 && !store_.in_sync()) {
      store_.refresh();
      if (triggers_missing()) {
        // The running statement was compiled without the maintenance triggers (an index created
        // by another connection). It fails before writing; the connection installs the
        // triggers and runs it again (retry_after_schema_change()).
        resync_pending_ = true;
        sqlite3_result_error(ctx, kResyncMessage, -1);
        return;
      }
    }
    if (column == nullptr || sqlite3_value_type(column) == SQLITE_NULL) {
      sqlite3_result_null(ctx);
    } else {
      sqlite3_result_int(ctx, 1);
    }
  } catch (const Error& e) {
    store_.invalidate();
    const std::string message = "vector index: " + e.message();
    sqlite3_result_error(ctx, message.c_str(), -1);
    if ((e.code() & 0xff) == SQLITE_INTERRUPT) sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
  } catch (...) {
    store_.invalidate();
    sqlite3_result_error_nomem(ctx);
  }
}

// Arguments: the secret, schema, index, table and column names, the operation (0 insert,
// 1 delete, 2 update), the old key, the new key and the new vector.
void Extension::maintain(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  try {
    if (argc != 9 || sqlite3_value_int64(argv[0]) != secret_) {
      sqlite3_result_error(ctx, "vector index: internal function", -1);
      return;
    }
    if (!store_.in_sync()) store_.refresh();
    VectorIndex* ix = store_.find(text_arg(argv[1]), text_arg(argv[2]));
    // A trigger left from an older definition of the index does nothing: it writes back the
    // token that is stored already.
    if (ix == nullptr || !same_name(ix->table, text_arg(argv[3])) ||
        ix->column != text_arg(argv[4])) {
      sqlite3_result_int64(ctx, store_.stored_token(text_arg(argv[1]), text_arg(argv[2])));
      return;
    }
    const int op = sqlite3_value_int(argv[5]);
    GraphCache& cache = store_.graph(*ix);
    sqlite3_value* value = argv[8];
    std::optional<Vector> v;
    if (op != 1 && sqlite3_value_type(value) != SQLITE_NULL) {
      v = IndexStore::index_vector(cache.params, value);
    }
    std::optional<std::int64_t> remove_id;
    std::optional<std::int64_t> insert_id;
    if (op == 1 || op == 2) {
      const std::int64_t id = store_.shadow_rowid(*ix, argv[6], false);
      if ((ix->key.rowid_like || id != 0) && cache.graph->contains(id)) remove_id = id;
      if (!ix->key.rowid_like && id != 0 && !remove_id) store_.delete_shadow_row(*ix, id);
    }
    // A partial index holds the rows its condition selects.
    if ((op == 0 || op == 2) && v && !ix->where.empty() && !store_.selects(*ix, argv[7])) {
      v.reset();
    }
    if (op == 0 || op == 2) {
      if (v) {
        insert_id = store_.shadow_rowid(*ix, argv[7], true);
      } else if (op == 0) {
        // A NULL vector is not indexed (an INSERT OR REPLACE may have replaced one).
        const std::int64_t id = store_.shadow_rowid(*ix, argv[7], false);
        if ((ix->key.rowid_like || id != 0) && cache.graph->contains(id)) remove_id = id;
      }
    }
    if (remove_id || insert_id) store_.apply(*ix, cache, remove_id, insert_id, v ? &*v : nullptr);
    sqlite3_result_int64(ctx, cache.token);
  } catch (const Error& e) {
    sqlite3_result_error(ctx, e.message().c_str(), -1);
    if ((e.code() & 0xff) == SQLITE_INTERRUPT) sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (...) {
    sqlite3_result_error(ctx, "vector index: internal error", -1);
  }
}

}  // namespace ecto_libsql::vector
