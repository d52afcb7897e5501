#include "vector/top_k.hpp"

#include <bit>
#include <memory>
#include <new>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "vector/extension.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr int kColumnIndex = 0;
constexpr int kColumnK = 2;
constexpr int kColumnId = 3;

struct Table : sqlite3_vtab {
  Extension* ext = nullptr;
};

struct Cursor : sqlite3_vtab_cursor {
  std::vector<SearchHit> hits;
  std::size_t row = 0;
};

void set_error(sqlite3_vtab* vtab, const char* message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message);
}

int connect(sqlite3* db, void* aux, int /*argc*/, const char* const* /*argv*/, sqlite3_vtab** out,
            char** /*err*/) noexcept {
  const int rc =
      sqlite3_declare_vtab(db, "CREATE TABLE x(idx hidden, vector hidden, k hidden, id)");
  if (rc != SQLITE_OK) return rc;
  // Owned by SQLite until disconnect().
  auto* table = new (std::nothrow) Table();  // NOLINT(cppcoreguidelines-owning-memory)
  if (table == nullptr) return SQLITE_NOMEM;
  table->ext = static_cast<Extension*>(aux);
  *out = table;
  return SQLITE_OK;
}

int disconnect(sqlite3_vtab* vtab) noexcept {
  std::unique_ptr<Table> owned(static_cast<Table*>(vtab));
  return SQLITE_OK;
}

int best_index(sqlite3_vtab* /*vtab*/, sqlite3_index_info* info) noexcept {
  int slot[3] = {-1, -1, -1};
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ || c.iColumn < kColumnIndex || c.iColumn > kColumnK) {
      continue;
    }
    // An argument that is there but cannot be used in this plan: ask for another plan.
    if (c.usable == 0) return SQLITE_CONSTRAINT;
    if (slot[c.iColumn] < 0) slot[c.iColumn] = i;
  }
  int next = 1;
  int mask = 0;
  for (int col = kColumnIndex; col <= kColumnK; ++col) {
    if (slot[col] < 0) continue;
    info->aConstraintUsage[slot[col]].argvIndex = next++;
    info->aConstraintUsage[slot[col]].omit = 1;
    mask |= 1 << col;
  }
  info->idxNum = mask;
  info->estimatedCost = 1;
  info->estimatedRows = 100;
  return SQLITE_OK;
}

int open(sqlite3_vtab* /*vtab*/, sqlite3_vtab_cursor** out) noexcept {
  // Owned by SQLite until close().
  auto* cursor = new (std::nothrow) Cursor();  // NOLINT(cppcoreguidelines-owning-memory)
  if (cursor == nullptr) return SQLITE_NOMEM;
  *out = cursor;
  return SQLITE_OK;
}

int close(sqlite3_vtab_cursor* cur) noexcept {
  std::unique_ptr<Cursor> owned(static_cast<Cursor*>(cur));
  return SQLITE_OK;
}

int filter(sqlite3_vtab_cursor* cur, int idx_num, const char* /*idx_str*/, int argc,
           sqlite3_value** argv) noexcept {
  auto* cursor = static_cast<Cursor*>(cur);
  auto* table = static_cast<Table*>(cur->pVtab);
  cursor->hits.clear();
  cursor->row = 0;
  (void)idx_num;
  try {
    cursor->hits = table->ext->search(argc, argv);
    return SQLITE_OK;
  } catch (const Error& e) {
    set_error(cur->pVtab, e.message().c_str());
    const int rc = e.code() & 0xff;
    return rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_ERROR : e.code();
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (...) {
    set_error(cur->pVtab, "vector index(search): internal error");
    return SQLITE_ERROR;
  }
}

int next(sqlite3_vtab_cursor* cur) noexcept {
  ++static_cast<Cursor*>(cur)->row;
  return SQLITE_OK;
}

int eof(sqlite3_vtab_cursor* cur) noexcept {
  const auto* cursor = static_cast<Cursor*>(cur);
  return cursor->row >= cursor->hits.size() ? 1 : 0;
}

int column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) noexcept {
  const auto* cursor = static_cast<Cursor*>(cur);
  if (col != kColumnId || cursor->row >= cursor->hits.size()) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  const SearchHit& hit = cursor->hits[cursor->row];
  if (hit.key) {
    sqlite3_result_value(ctx, hit.key.get());
  } else {
    sqlite3_result_int64(ctx, hit.rowid);
  }
  return SQLITE_OK;
}

int rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* out) noexcept {
  const auto* cursor = static_cast<Cursor*>(cur);
  const SearchHit& hit = cursor->hits[cursor->row];
  *out = hit.key ? static_cast<sqlite3_int64>(cursor->row) : hit.rowid;
  return SQLITE_OK;
}

sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous only
  m.xConnect = &connect;
  m.xBestIndex = &best_index;
  m.xDisconnect = &disconnect;
  m.xOpen = &open;
  m.xClose = &close;
  m.xFilter = &filter;
  m.xNext = &next;
  m.xEof = &eof;
  m.xColumn = &column;
  m.xRowid = &rowid;
  return m;
}

const sqlite3_module kModule = make_module();

}  // namespace

int register_top_k(sqlite3* db, Extension* ext) noexcept {
  return sqlite3_create_module_v2(db, "vector_top_k", &kModule, ext, nullptr);
}

}  // namespace ecto_libsql::vector
