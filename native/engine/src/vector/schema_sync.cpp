// Keeping this connection in step with the vector indexes its schemas hold: the TEMP triggers
// that maintain them, indexes created by another connection while statements were compiled
// without those triggers, and the index b-trees of files libSQL wrote to.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vector/extension.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr std::string_view kTriggerPrefix = "__ecto_libsql_vector_";

// SQL text from pieces, in one allocation.
std::string concat(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (const std::string_view p : parts)
    size += p.size();
  std::string out;
  out.reserve(size);
  for (const std::string_view p : parts)
    out += p;
  return out;
}

std::string fnv_hex(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[h & 15];
    h >>= 4;
  }
  return out;
}

}  // namespace

std::vector<std::string> Extension::trigger_sql(const VectorIndex& ix,
                                                std::vector<std::string>& names) const {
  const std::string target = quote_identifier(ix.schema) + "." + quote_identifier(ix.table);
  const std::string key = ix.key.expression();
  const std::string col = quote_identifier(ix.column);
  const std::string args = std::to_string(secret_) + ", " + quote_string(ix.schema) + ", " +
                           quote_string(ix.name) + ", " + quote_string(ix.table) + ", " +
                           quote_string(ix.column);
  const std::string id = fnv_hex(ix.schema + '\x1f' + ix.name + '\x1f' + ix.table + '\x1f' +
                                 ix.column + '\x1f' + key + '\x1f' + ix.where);
  names = {std::string(kTriggerPrefix) + "i" + id, std::string(kTriggerPrefix) + "d" + id,
           std::string(kTriggerPrefix) + "u" + id};
  // The function maintains the graph and answers the new token, which the trigger stores.
  // (A trigger may not qualify the table it writes; TEMP objects are found first. An UPDATE
  // cannot conflict, whatever conflict policy the outer statement imposes.)
  const std::string fn = " BEGIN UPDATE " + std::string(IndexStore::kStateTable) +
                         " SET token = " + std::string(kMaintainFunction) + "(" + args + ", ";
  const std::string where =
      ") WHERE name = " + quote_string(IndexStore::key(ix.schema, ix.name)) + "; END";
  return {
      "CREATE TEMP TRIGGER " + quote_identifier(names[0]) + " AFTER INSERT ON " + target + fn +
          "0, NULL, new." + key + ", new." + col + where,
      "CREATE TEMP TRIGGER " + quote_identifier(names[1]) + " AFTER DELETE ON " + target + fn +
          "1, old." + key + ", NULL, NULL" + where,
      // Any change may move a row in or out of a partial index.
      "CREATE TEMP TRIGGER " + quote_identifier(names[2]) + " AFTER UPDATE ON " + target +
          (ix.where.empty()
               ? " WHEN old." + key + " IS NOT new." + key + " OR old." + col + " IS NOT new." + col
               : std::string()) +
          fn + "2, old." + key + ", new." + key + ", new." + col + where,
  };
}

bool Extension::triggers_missing() {
  for (const auto& [k, ix] : store_.all()) {
    std::vector<std::string> names;
    trigger_sql(ix, names);
    for (const std::string& name : names) {
      Query q = sql_("SELECT 1 FROM temp.sqlite_schema WHERE type = 'trigger' AND name = ?1");
      q.bind_text(1, name);
      if (!q.step()) return true;
    }
  }
  return false;
}

bool Extension::retry_after_schema_change() noexcept {
  if (!resync_pending_) return false;
  resync_pending_ = false;
  try {
    store_.refresh();
    install_triggers(false);
    return true;
  } catch (...) {
    store_.invalidate();
    return false;
  }
}

void Extension::install_triggers(bool drop_stale) {
  if (!store_.all().empty()) store_.ensure_state_table();
  std::set<std::string> wanted;
  bool created = false;
  for (const auto& [k, ix] : store_.all()) {
    store_.add_state_row(ix);
    std::vector<std::string> names;
    const std::vector<std::string> sql = trigger_sql(ix, names);
    for (std::size_t i = 0; i < sql.size(); ++i) {
      wanted.insert(names[i]);
      Query q = sql_("SELECT 1 FROM temp.sqlite_schema WHERE type = 'trigger' AND name = ?1");
      q.bind_text(1, names[i]);
      if (q.step()) continue;
      sql_.exec(sql[i]);
      created = true;
    }
  }
  if (drop_stale) {
    std::vector<std::string> stale;
    {
      Query q = sql_(
          "SELECT name FROM temp.sqlite_schema WHERE type = 'trigger' AND "
          "substr(name, 1, " +
          std::to_string(kTriggerPrefix.size()) + ") = ?1");
      q.bind_text(1, kTriggerPrefix);
      while (q.step()) {
        std::string name(q.text(0));
        if (!wanted.contains(name)) stale.push_back(std::move(name));
      }
    }
    for (const std::string& name : stale) {
      sql_.exec("DROP TRIGGER IF EXISTS temp." + quote_identifier(name));
      created = true;
    }
  }
  // The temp schema changed on purpose: the catalogue is still in sync.
  if (created) store_.adopt_schema_cookies();
}

void Extension::prepare_existing_indexes() noexcept {
  try {
    const DdlScope scope(*this);
    store_.refresh();
    ready_ = true;
    if (store_.all().empty()) return;
    store_.ensure_state_table();
    for (const auto& [k, ix] : store_.all()) {
      // libSQL leaves the index b-tree empty, and does not update it when it writes to a file
      // this module wrote. SQLite uses that b-tree (count(*) may read it; a DELETE expects its
      // entry), so it is rebuilt when it is empty or disagrees with the shadow table.
      const std::string table =
          concat({quote_identifier(ix.schema), ".", quote_identifier(ix.table)});
      const std::string by_index = concat({" INDEXED BY ", quote_identifier(ix.name)});
      const bool entries = sql_(concat({"SELECT 1 FROM ", table, by_index, " LIMIT 1"})).step();
      const bool rows = sql_(concat({"SELECT 1 FROM ", table, " NOT INDEXED LIMIT 1"})).step();
      bool stale = rows && !entries;
      if (!stale && ix.marker_expr) {
        // Count and key sum of the rows with a vector, as the b-tree and the shadow table see
        // them (both read small indexes only).
        const std::string key = ix.key.expression();
        const bool sums = ix.key.rowid_like;
        const std::string sum = sums ? concat({"total(", key, ")"}) : std::string("0");
        const std::string filter = ix.where.empty() ? "" : concat({" AND (", ix.where, ")"});
        Query with_vector = sql_(concat({"SELECT count(*), ", sum, " FROM ", table, by_index,
                                         " WHERE ", *ix.marker_expr, " = 1", filter}));
        Query nodes = sql_(concat({"SELECT count(*), ", sums ? "total(index_key)" : "0", " FROM ",
                                   IndexStore::shadow(ix)}));
        stale =
            with_vector.step() && nodes.step() &&
            (with_vector.int64(0) != nodes.int64(0) ||
             sqlite3_column_double(with_vector.get(), 1) != sqlite3_column_double(nodes.get(), 1));
      }
      if (stale) {
        sql_.exec("REINDEX " + quote_identifier(ix.schema) + "." + quote_identifier(ix.name));
      }
    }
    install_triggers(true);
  } catch (...) {
    // A database that cannot be read or written now is prepared when it is used.
    store_.invalidate();
  }
}

}  // namespace ecto_libsql::vector
