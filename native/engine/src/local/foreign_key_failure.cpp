#include "local/foreign_key_failure.hpp"

#include <algorithm>
#include <cstddef>
#include <map>

#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql::local {
namespace {

// At most this many changed rows are checked one by one; a statement that changed more is
// checked table by table.
constexpr std::size_t kRowChecks = 10000;

// A prepared query; finalised on scope exit.
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() { sqlite3_finalize(stmt_); }

  [[nodiscard]] bool ok() const noexcept { return stmt_ != nullptr; }
  void bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, sqlite3_int64 value) { sqlite3_bind_int64(stmt_, index, value); }
  bool row() { return stmt_ != nullptr && sqlite3_step(stmt_) == SQLITE_ROW; }
  [[nodiscard]] std::string text(int column) const {
    const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return value != nullptr ? value : "";
  }
  [[nodiscard]] bool null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  [[nodiscard]] sqlite3_int64 integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

bool exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

struct ForeignKey {
  sqlite3_int64 id = 0;
  std::string table;
  std::string parent;
  std::vector<std::string> from;
  std::vector<std::string> to;
  bool restrict = false;  // ON DELETE or ON UPDATE RESTRICT: checked at once, even deferred
};

std::vector<std::string> primary_key_of(sqlite3* db, const std::string& table) {
  Query q(db, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk");
  q.bind(1, table);
  std::vector<std::string> columns;
  while (q.row())
    columns.push_back(q.text(0));
  if (columns.empty()) columns.emplace_back("rowid");
  return columns;
}

std::vector<ForeignKey> foreign_keys_of(sqlite3* db, const std::string& table) {
  Query q(db,
          "SELECT id, \"table\", \"from\", \"to\", "
          "on_delete = 'RESTRICT' OR on_update = 'RESTRICT' "
          "FROM pragma_foreign_key_list(?1) ORDER BY id, seq");
  q.bind(1, table);
  std::vector<ForeignKey> keys;
  bool implicit_to = false;
  while (q.row()) {
    const sqlite3_int64 id = q.integer(0);
    if (keys.empty() || keys.back().id != id) {
      keys.push_back(ForeignKey{id, table, q.text(1), {}, {}, q.integer(4) != 0});
      implicit_to = false;
    }
    keys.back().from.push_back(q.text(2));
    if (q.null(3)) {
      implicit_to = true;
    } else {
      keys.back().to.push_back(q.text(3));
    }
    if (implicit_to) keys.back().to.clear();
  }
  for (auto& key : keys) {
    // REFERENCES parent without columns: the parent's primary key.
    if (key.to.size() != key.from.size()) key.to = primary_key_of(db, key.parent);
  }
  return keys;
}

// SELECT 1 FROM child AS c WHERE <every key column set> AND no parent row matches.
std::string violation_query(const ForeignKey& key, bool one_row) {
  std::string sql = "SELECT 1 FROM " + sql::quote_identifier(key.table) + " AS c WHERE ";
  if (one_row) sql += "c.rowid = ?1 AND ";
  for (const auto& column : key.from)
    sql += "c." + sql::quote_identifier(column) + " IS NOT NULL AND ";
  sql += "NOT EXISTS (SELECT 1 FROM " + sql::quote_identifier(key.parent) + " AS p WHERE ";
  for (std::size_t i = 0; i < key.from.size() && i < key.to.size(); ++i) {
    if (i > 0) sql += " AND ";
    sql += "p." + sql::quote_identifier(key.to[i]) + " = c." + sql::quote_identifier(key.from[i]);
  }
  sql += ") LIMIT 1";
  return sql;
}

bool violated_by_row(sqlite3* db, const ForeignKey& key, sqlite3_int64 rowid) {
  Query q(db, violation_query(key, true));
  q.bind(1, rowid);
  return q.row();
}

bool violated_anywhere(sqlite3* db, const ForeignKey& key) {
  Query q(db, violation_query(key, false));
  return q.row();
}

std::string create_sql_of(sqlite3* db, const std::string& table) {
  Query q(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
  q.bind(1, table);
  return q.row() ? q.text(0) : std::string();
}

BrokenForeignKey named(sqlite3* db, const ForeignKey& key) {
  BrokenForeignKey broken{key.table, key.from, key.parent, {}};
  name_foreign_key(broken, create_sql_of(db, key.table));
  return broken;
}

std::vector<std::string> tables(sqlite3* db) {
  Query q(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  std::vector<std::string> names;
  while (q.row())
    names.push_back(q.text(0));
  return names;
}

// The database as it is (a failed COMMIT keeps its transaction open).
std::optional<BrokenForeignKey> check_database(sqlite3* db) {
  Query q(db, "SELECT \"table\", fkid FROM pragma_foreign_key_check LIMIT 1");
  if (!q.row()) return std::nullopt;
  const std::string table = q.text(0);
  const sqlite3_int64 id = q.integer(1);
  for (const auto& key : foreign_keys_of(db, table)) {
    if (key.id == id) return named(db, key);
  }
  return std::nullopt;
}

// After the probe ran: the key broken by the rows it changed.
// With `restrict_only`, the probe ran with foreign keys off because a RESTRICT action stopped it
// even deferred: only RESTRICT keys of changed parents are looked at.
std::optional<BrokenForeignKey> check_changes(sqlite3* db, const std::vector<ChangedRow>& rows,
                                              bool restrict_only) {
  std::map<std::string, std::vector<ForeignKey>> keys_by_table;
  auto keys_of = [&](const std::string& table) -> const std::vector<ForeignKey>& {
    auto it = keys_by_table.find(table);
    if (it == keys_by_table.end())
      it = keys_by_table.emplace(table, foreign_keys_of(db, table)).first;
    return it->second;
  };

  // Child side: an inserted or updated row whose parent does not exist.
  std::vector<std::string> changed_parents;
  std::vector<std::string> tables_to_scan;
  std::size_t checks = 0;
  for (const auto& row : rows) {
    if (row.op != SQLITE_INSERT && std::find(changed_parents.begin(), changed_parents.end(),
                                             row.table) == changed_parents.end()) {
      changed_parents.push_back(row.table);
    }
    if (row.op == SQLITE_DELETE || restrict_only) continue;
    if (checks >= kRowChecks) {
      if (std::find(tables_to_scan.begin(), tables_to_scan.end(), row.table) ==
          tables_to_scan.end()) {
        tables_to_scan.push_back(row.table);
      }
      continue;
    }
    for (const auto& key : keys_of(row.table)) {
      ++checks;
      if (violated_by_row(db, key, row.rowid)) return named(db, key);
    }
  }
  for (const auto& table : tables_to_scan) {
    for (const auto& key : keys_of(table)) {
      if (violated_anywhere(db, key)) return named(db, key);
    }
  }

  // Parent side: a deleted or updated row that other rows still refer to.
  std::vector<ForeignKey> candidates;
  if (!changed_parents.empty()) {
    for (const auto& table : tables(db)) {
      for (const auto& key : keys_of(table)) {
        if (restrict_only && !key.restrict) continue;
        for (const auto& parent : changed_parents) {
          if (sql::keyword_equals(key.parent, parent)) {
            candidates.push_back(key);
            break;
          }
        }
      }
    }
  }
  if (candidates.size() == 1) return named(db, candidates.front());
  for (const auto& key : candidates) {
    if (violated_anywhere(db, key)) return named(db, key);
  }
  return std::nullopt;
}

// Foreign key enforcement off for a scope (SQLITE_DBCONFIG_ENABLE_FKEY works inside a
// transaction, where PRAGMA foreign_keys does nothing).
class EnforcementOff {
 public:
  explicit EnforcementOff(sqlite3* db) : db_(db) {
    int now = 1;
    done_ = sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_FKEY, 0, &now) == SQLITE_OK && now == 0;
  }
  EnforcementOff(const EnforcementOff&) = delete;
  EnforcementOff& operator=(const EnforcementOff&) = delete;
  ~EnforcementOff() {
    int now = 0;
    sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &now);
  }
  [[nodiscard]] bool done() const noexcept { return done_; }

 private:
  sqlite3* db_;
  bool done_ = false;
};

bool is_transaction_end(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  if (sql == nullptr) return false;
  const sql::Command command = sql::classify(sql).command;
  return command == sql::Command::Commit || command == sql::Command::Release;
}

}  // namespace

std::optional<BrokenForeignKey> find_broken_foreign_key(sqlite3* db, sqlite3_stmt* failed,
                                                        const ChangeSink& sink) {
  try {
    const bool in_transaction = sqlite3_get_autocommit(db) == 0;
    if (failed == nullptr || is_transaction_end(failed)) {
      return in_transaction ? check_database(db) : std::nullopt;
    }
    {
      Query deferred(db, "PRAGMA defer_foreign_keys");
      // Deferred keys fail at COMMIT, handled above; nothing to probe.
      if (deferred.row() && deferred.integer(0) != 0) return std::nullopt;
    }
    if (!exec(db, "SAVEPOINT ecto_libsql_foreign_key_probe")) return std::nullopt;
    // Undoes the probe whatever happens below.
    class Undo {
     public:
      Undo(sqlite3* db, bool in_transaction, const ChangeSink& sink)
          : db(db), in_transaction(in_transaction), sink(sink) {}
      Undo(const Undo&) = delete;
      Undo& operator=(const Undo&) = delete;
      ~Undo() {
        sink(nullptr);
        exec(db, "ROLLBACK TO ecto_libsql_foreign_key_probe");
        exec(db, "RELEASE ecto_libsql_foreign_key_probe");
        // Outside a transaction RELEASE ended it, which reset the pragma; inside one it stays.
        if (in_transaction) exec(db, "PRAGMA defer_foreign_keys = OFF");
      }

     private:
      sqlite3* db;
      bool in_transaction;
      const ChangeSink& sink;
    };
    const Undo undo(db, in_transaction, sink);

    if (!exec(db, "PRAGMA defer_foreign_keys = ON")) return std::nullopt;
    std::vector<ChangedRow> rows;
    auto probe = [&] {
      rows.clear();
      sink(&rows);
      sqlite3_reset(failed);
      int rc = SQLITE_ROW;
      while (rc == SQLITE_ROW)
        rc = sqlite3_step(failed);
      if (rc != SQLITE_DONE) rc = sqlite3_extended_errcode(db);
      sqlite3_reset(failed);
      sink(nullptr);
      return rc;
    };
    int rc = probe();
    bool restrict_only = false;
    if (rc == SQLITE_CONSTRAINT_TRIGGER || rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
      // A RESTRICT action fails at once, deferred or not: run once more with foreign keys off
      // (the statement is recompiled without them) and look at RESTRICT keys only.
      exec(db, "ROLLBACK TO ecto_libsql_foreign_key_probe");
      const EnforcementOff off(db);
      if (!off.done()) return std::nullopt;
      rc = probe();
      restrict_only = true;
      if (rc != SQLITE_DONE) return std::nullopt;
      return check_changes(db, rows, restrict_only);
    }
    if (rc != SQLITE_DONE) return std::nullopt;
    return check_changes(db, rows, restrict_only);
  } catch (...) {
    sink(nullptr);
    return std::nullopt;
  }
}

}  // namespace ecto_libsql::local
