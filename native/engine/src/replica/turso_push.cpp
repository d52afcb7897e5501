#include "replica/turso_push.hpp"

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "remote/hrana_json.hpp"

namespace ecto_libsql::replica {

namespace json = boost::json;

namespace {

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

Stmt prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    throw Error(sqlite3_extended_errcode(db), "offline push: cannot compare with the base copy: " +
                                                  std::string(sqlite3_errmsg(db)));
  }
  return Stmt(raw);
}

bool step(sqlite3* db, sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw Error(sqlite3_extended_errcode(db), "offline push: cannot compare with the base copy: " +
                                                std::string(sqlite3_errmsg(db)));
}

std::string text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

Value value(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
      return std::int64_t{sqlite3_column_int64(s, i)};
    case SQLITE_FLOAT:
      return sqlite3_column_double(s, i);
    case SQLITE_TEXT:
      return text(s, i);
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(s, i));
      return std::vector<std::byte>(p, p + sqlite3_column_bytes(s, i));
    }
    default:
      return Null{};
  }
}

// Columns `a` and `b` of the current row hold the same value, type and bytes.
bool same_value(sqlite3_stmt* s, int a, int b) {
  const int type = sqlite3_column_type(s, a);
  if (type != sqlite3_column_type(s, b)) return false;
  switch (type) {
    case SQLITE_INTEGER:
      return sqlite3_column_int64(s, a) == sqlite3_column_int64(s, b);
    case SQLITE_FLOAT: {
      // Bit for bit: 0.0 and -0.0 differ.
      return std::bit_cast<std::uint64_t>(sqlite3_column_double(s, a)) ==
             std::bit_cast<std::uint64_t>(sqlite3_column_double(s, b));
    }
    case SQLITE_NULL:
      return true;
    default: {
      const void* x = sqlite3_column_blob(s, a);
      const int nx = sqlite3_column_bytes(s, a);
      const void* y = sqlite3_column_blob(s, b);
      const int ny = sqlite3_column_bytes(s, b);
      return nx == ny && (nx == 0 || std::memcmp(x, y, static_cast<std::size_t>(nx)) == 0);
    }
  }
}

struct SchemaObject {
  std::string type;
  std::string name;
  std::string table;
  std::string sql;
};

bool internal(const std::string& name) {
  return name.starts_with("sqlite_") || name == kLastChangeTable || name.starts_with("turso_cdc");
}

std::vector<SchemaObject> schema(sqlite3* db, const char* schema_name) {
  std::vector<SchemaObject> out;
  Stmt s = prepare(db, std::string("SELECT type, name, tbl_name, sql FROM ") + schema_name +
                           ".sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid");
  while (step(db, s.get())) {
    SchemaObject o{text(s.get(), 0), text(s.get(), 1), text(s.get(), 2), text(s.get(), 3)};
    if (internal(o.name) || internal(o.table)) continue;
    out.push_back(std::move(o));
  }
  return out;
}

struct Column {
  std::string name;
  std::string type;
  bool not_null = false;
  std::optional<std::string> default_sql;
  int pk = 0;  // position in the primary key, 0 when not part of it
};

std::vector<Column> columns(sqlite3* db, const char* schema_name, const std::string& table) {
  std::vector<Column> out;
  Stmt s = prepare(db, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(" +
                           sql::quote_string(table) + ", " + sql::quote_string(schema_name) + ")");
  while (step(db, s.get())) {
    Column c;
    c.name = text(s.get(), 0);
    c.type = text(s.get(), 1);
    c.not_null = sqlite3_column_int(s.get(), 2) != 0;
    if (sqlite3_column_type(s.get(), 3) != SQLITE_NULL) c.default_sql = text(s.get(), 3);
    c.pk = sqlite3_column_int(s.get(), 4);
    out.push_back(std::move(c));
  }
  return out;
}

// sqlite_schema keeps "CREATE TABLE name…", "CREATE UNIQUE INDEX name…" and so on (SQLite
// rewrites the words before the name); IF NOT EXISTS makes the replay idempotent.
std::string if_not_exists(const std::string& sql) {
  for (const std::string_view head : {"CREATE TABLE ", "CREATE INDEX ", "CREATE UNIQUE INDEX ",
                                      "CREATE VIEW ", "CREATE TRIGGER ", "CREATE VIRTUAL TABLE "}) {
    if (sql.size() > head.size() && sql.compare(0, head.size(), head) == 0) {
      std::string rest = sql.substr(head.size());
      std::string upper = rest.substr(0, 14);
      for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper.starts_with("IF NOT EXISTS")) return sql;
      return std::string(head) + "IF NOT EXISTS " + rest;
    }
  }
  return sql;
}

bool without_rowid(sqlite3* db, const char* schema_name, const std::string& table) {
  // WITHOUT ROWID tables have no rowid column to select.
  sqlite3_stmt* raw = nullptr;
  const std::string sql = "SELECT rowid FROM " + std::string(schema_name) + "." +
                          sql::quote_identifier(table) + " LIMIT 0";
  const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  sqlite3_finalize(raw);
  return rc != SQLITE_OK;
}

class Differ {
 public:
  explicit Differ(sqlite3* db) : db_(db) {}

  LogicalChanges run() {
    const auto main_objects = schema(db_, "main");
    const auto base_objects = schema(db_, "base");
    std::map<std::pair<std::string, std::string>, const SchemaObject*> in_base;
    std::map<std::pair<std::string, std::string>, const SchemaObject*> in_main;
    for (const auto& o : base_objects)
      in_base[{o.type, o.name}] = &o;
    for (const auto& o : main_objects)
      in_main[{o.type, o.name}] = &o;

    // Tables: kept (possibly with columns added or dropped), recreated, new or dropped.
    std::set<std::string> dropped_tables;
    std::set<std::string> fresh_tables;  // rows all new: no base rows to compare with
    std::vector<PushStep> alters;
    for (const auto& o : base_objects) {
      if (o.type != "table") continue;
      const auto it = in_main.find({o.type, o.name});
      if (it == in_main.end()) {
        dropped_tables.insert(o.name);
        continue;
      }
      if (it->second->sql == o.sql) continue;
      if (!alter_table(o.name, alters)) {
        dropped_tables.insert(o.name);
        fresh_tables.insert(o.name);
      }
    }
    // Drops first: triggers, views and indexes (unless their table goes too), then tables.
    for (const char* type : {"trigger", "view", "index"}) {
      for (const auto& o : base_objects) {
        if (o.type != type) continue;
        const auto it = in_main.find({o.type, o.name});
        if (it != in_main.end() && it->second->sql == o.sql && !dropped_tables.count(o.table)) {
          continue;
        }
        if (o.type != "view" && dropped_tables.count(o.table)) continue;
        std::string word = o.type;
        for (char& c : word)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        add_schema("DROP " + word + " IF EXISTS " + sql::quote_identifier(o.name));
      }
    }
    for (const auto& name : dropped_tables)
      add_schema("DROP TABLE IF EXISTS " + sql::quote_identifier(name));
    for (auto& a : alters) {
      ++out_.schema;
      out_.steps.push_back(std::move(a));
    }
    // New (and recreated) tables, then their rows.
    std::vector<const SchemaObject*> tables;
    for (const auto& o : main_objects) {
      if (o.type != "table") continue;
      const bool is_new = !in_base.count({o.type, o.name}) || fresh_tables.count(o.name);
      if (is_new) {
        add_schema(if_not_exists(o.sql));
        fresh_tables.insert(o.name);
      }
      if (o.sql.starts_with("CREATE VIRTUAL TABLE")) continue;
      tables.push_back(&o);
    }
    // Deletes in the reverse order of creation (children first), then updates and inserts.
    for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
      if (!fresh_tables.count((*it)->name)) deletes((*it)->name);
    }
    for (const SchemaObject* t : tables) {
      if (!fresh_tables.count(t->name)) updates(t->name);
      inserts(t->name, fresh_tables.count(t->name) != 0);
    }
    // Indexes, views and triggers that are new or changed.
    for (const auto& o : main_objects) {
      if (o.type == "table") continue;
      const auto it = in_base.find({o.type, o.name});
      if (it != in_base.end() && it->second->sql == o.sql && !fresh_tables.count(o.table)) {
        continue;
      }
      add_schema(if_not_exists(o.sql));
    }
    return std::move(out_);
  }

 private:
  struct TableInfo {
    std::vector<Column> cols;
    std::vector<std::size_t> pk;  // indices of the primary key columns, in key order
    bool rowid = true;            // a rowid table (not WITHOUT ROWID)
  };

  const TableInfo& info(const std::string& table) {
    auto it = tables_.find(table);
    if (it != tables_.end()) return it->second;
    TableInfo t;
    t.cols = columns(db_, "main", table);
    std::vector<std::pair<int, std::size_t>> pk;
    for (std::size_t i = 0; i < t.cols.size(); ++i) {
      if (t.cols[i].pk > 0) pk.emplace_back(t.cols[i].pk, i);
    }
    std::sort(pk.begin(), pk.end());
    for (const auto& [_, i] : pk)
      t.pk.push_back(i);
    t.rowid = !without_rowid(db_, "main", table);
    return tables_.emplace(table, std::move(t)).first->second;
  }

  // A step of `sql` for each row `select` answers, the row's values its arguments.
  void add_rows(const std::string& select, const std::string& sql) {
    Stmt s = prepare(db_, select);
    while (step(db_, s.get())) {
      PushStep p{sql, {}, false};
      for (int i = 0; i < sqlite3_column_count(s.get()); ++i)
        p.args.push_back(value(s.get(), i));
      out_.steps.push_back(std::move(p));
      ++out_.rows;
    }
  }

  void add_schema(std::string sql) {
    ++out_.schema;
    out_.steps.push_back(PushStep{std::move(sql), {}, false});
  }

  // Columns added at the end or dropped: ALTER TABLE steps. False when the change is another
  // kind (the table is then dropped and created again with its rows).
  bool alter_table(const std::string& table, std::vector<PushStep>& steps) {
    const auto now = columns(db_, "main", table);
    const auto before = columns(db_, "base", table);
    auto same = [](const Column& a, const Column& b) {
      return a.name == b.name && a.type == b.type && a.not_null == b.not_null &&
             a.default_sql == b.default_sql && a.pk == b.pk;
    };
    std::vector<PushStep> out;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < before.size() && j < now.size()) {
      if (same(before[i], now[j])) {
        ++i;
        ++j;
      } else if (before[i].pk == 0) {
        out.push_back(PushStep{"ALTER TABLE " + sql::quote_identifier(table) + " DROP COLUMN " +
                                   sql::quote_identifier(before[i].name),
                               {},
                               false});
        ++i;
      } else {
        return false;
      }
    }
    for (; i < before.size(); ++i) {
      if (before[i].pk != 0) return false;
      out.push_back(PushStep{"ALTER TABLE " + sql::quote_identifier(table) + " DROP COLUMN " +
                                 sql::quote_identifier(before[i].name),
                             {},
                             false});
    }
    for (; j < now.size(); ++j) {
      const Column& c = now[j];
      if (c.pk != 0) return false;
      std::string def = sql::quote_identifier(c.name);
      if (!c.type.empty()) def += " " + c.type;
      if (c.not_null) def += " NOT NULL";
      if (c.default_sql) def += " DEFAULT " + *c.default_sql;
      out.push_back(
          PushStep{"ALTER TABLE " + sql::quote_identifier(table) + " ADD COLUMN " + def, {}, true});
    }
    for (auto& s : out)
      steps.push_back(std::move(s));
    return true;
  }

  // The join of main and base rows: by rowid, or by primary key for WITHOUT ROWID tables.
  std::string match(const TableInfo& t, const char* a, const char* b) const {
    if (t.rowid) return std::string(b) + ".rowid = " + a + ".rowid";
    std::string out;
    for (std::size_t k = 0; k < t.pk.size(); ++k) {
      const std::string c = sql::quote_identifier(t.cols[t.pk[k]].name);
      out.append(k ? " AND " : "").append(b).append(".").append(c).append(" = ").append(a);
      out.append(".").append(c);
    }
    return out;
  }

  // Columns of `table` that the base has too.
  std::vector<bool> in_base(const std::string& table, const TableInfo& t) {
    std::set<std::string> names;
    for (const auto& c : columns(db_, "base", table))
      names.insert(c.name);
    std::vector<bool> out;
    for (const auto& c : t.cols)
      out.push_back(names.count(c.name) != 0);
    return out;
  }

  void deletes(const std::string& table) {
    const TableInfo& t = info(table);
    std::string select = "SELECT ";
    select += t.pk.empty() ? std::string("b.rowid") : std::string();
    for (std::size_t k = 0; k < t.pk.size(); ++k)
      select += (k ? ", b." : "b.") + sql::quote_identifier(t.cols[t.pk[k]].name);
    select += " FROM base." + sql::quote_identifier(table) +
              " b WHERE NOT EXISTS (SELECT 1 FROM main." + sql::quote_identifier(table) +
              " m WHERE " + match(t, "b", "m") + ")";
    const std::string sql =
        "DELETE FROM " + sql::quote_identifier(table) + " WHERE " + key_predicate(t);
    add_rows(select, sql);
  }

  std::string key_predicate(const TableInfo& t) const {
    if (t.pk.empty()) return "rowid = ?";
    std::string out;
    for (std::size_t k = 0; k < t.pk.size(); ++k)
      out += (k ? " AND " : "") + sql::quote_identifier(t.cols[t.pk[k]].name) + " = ?";
    return out;
  }

  void updates(const std::string& table) {
    const TableInfo& t = info(table);
    const std::vector<bool> shared = in_base(table, t);
    // main's columns, then base's (NULL for a column the base lacks), then base's key.
    std::string select = "SELECT ";
    std::string differs;
    for (std::size_t i = 0; i < t.cols.size(); ++i) {
      select += (i ? ", m." : "m.") + sql::quote_identifier(t.cols[i].name);
    }
    for (std::size_t i = 0; i < t.cols.size(); ++i) {
      const std::string c = sql::quote_identifier(t.cols[i].name);
      const std::string before =
          shared[i] ? "b." + c : (t.cols[i].default_sql ? *t.cols[i].default_sql : "NULL");
      select.append(", ").append(before);
      differs.append(i ? " OR " : "").append("typeof(m.").append(c).append(") IS NOT typeof(");
      differs.append(before).append(") OR m.").append(c).append(" IS NOT ").append(before);
      differs.append(" COLLATE BINARY");
    }
    if (t.pk.empty()) {
      select += ", b.rowid";
    } else {
      for (std::size_t k : t.pk)
        select += ", b." + sql::quote_identifier(t.cols[k].name);
    }
    if (differs.empty()) return;
    select += " FROM main." + sql::quote_identifier(table) + " m JOIN base." +
              sql::quote_identifier(table) + " b ON " + match(t, "m", "b") + " WHERE " + differs;
    Stmt s = prepare(db_, select);
    const int n = static_cast<int>(t.cols.size());
    while (step(db_, s.get())) {
      PushStep p;
      std::string set;
      for (int i = 0; i < n; ++i) {
        if (same_value(s.get(), i, n + i)) continue;
        set += (set.empty() ? "" : ", ") +
               sql::quote_identifier(t.cols[static_cast<std::size_t>(i)].name) + " = ?";
        p.args.push_back(value(s.get(), i));
      }
      if (set.empty()) continue;
      for (int i = 2 * n; i < sqlite3_column_count(s.get()); ++i)
        p.args.push_back(value(s.get(), i));
      p.sql =
          "UPDATE " + sql::quote_identifier(table) + " SET " + set + " WHERE " + key_predicate(t);
      out_.steps.push_back(std::move(p));
      ++out_.rows;
    }
  }

  void inserts(const std::string& table, bool all) {
    const TableInfo& t = info(table);
    std::string names;
    std::string placeholders;
    std::string select = "SELECT ";
    for (std::size_t i = 0; i < t.cols.size(); ++i) {
      names += (i ? ", " : "") + sql::quote_identifier(t.cols[i].name);
      placeholders += i ? ",?" : "?";
      select += (i ? ", m." : "m.") + sql::quote_identifier(t.cols[i].name);
    }
    std::string sql;
    if (t.pk.empty()) {
      // No primary key: the rowid is the row's identity, on the server too.
      select += ", m.rowid";
      sql = "INSERT OR REPLACE INTO " + sql::quote_identifier(table) + "(" + names +
            ", \"rowid\") VALUES (" + placeholders + ",?)";
    } else {
      std::string pk;
      std::string set;
      for (std::size_t k = 0; k < t.pk.size(); ++k)
        pk += (k ? "," : "") + sql::quote_identifier(t.cols[t.pk[k]].name);
      for (std::size_t i = 0; i < t.cols.size(); ++i) {
        const std::string c = sql::quote_identifier(t.cols[i].name);
        set.append(i ? "," : "").append(c).append(" = excluded.").append(c);
      }
      sql = "INSERT INTO " + sql::quote_identifier(table) + "(" + names + ") VALUES (" +
            placeholders + ") ON CONFLICT(" + pk + ") DO UPDATE SET " + set;
    }
    select += " FROM main." + sql::quote_identifier(table) + " m";
    if (!all) {
      select += " WHERE NOT EXISTS (SELECT 1 FROM base." + sql::quote_identifier(table) +
                " b WHERE " + match(t, "m", "b") + ")";
    }
    select += t.rowid ? " ORDER BY m.rowid" : "";
    add_rows(select, sql);
  }

  sqlite3* db_;
  LogicalChanges out_;
  std::map<std::string, TableInfo> tables_;
};

json::object stmt(const std::string& sql, const std::vector<Value>& args) {
  json::array a;
  for (const Value& v : args)
    a.push_back(remote::encode_value(v));
  return json::object{{"sql", sql}, {"args", std::move(a)}, {"want_rows", false}};
}

json::object ok_cond(std::size_t step) {
  return json::object{{"type", "ok"}, {"step", step}};
}

}  // namespace

LogicalChanges logical_changes(sqlite3* db) {
  return Differ(db).run();
}

std::string encode_push_pipeline(const LogicalChanges& changes, const std::string& client_id,
                                 std::uint64_t change_id) {
  json::array steps;
  const json::object in_transaction{{"type", "not"},
                                    {"cond", json::object{{"type", "is_autocommit"}}}};
  // Each step needs the last step that must succeed to have succeeded, and the transaction to
  // be open (the reference client's condition).
  std::size_t required = 0;
  auto add = [&](json::object s, bool may_fail) {
    json::object cond{{"type", "and"}, {"conds", json::array{ok_cond(required), in_transaction}}};
    steps.push_back(json::object{{"stmt", std::move(s)}, {"condition", std::move(cond)}});
    if (!may_fail) required = steps.size() - 1;
  };
  steps.push_back(json::object{{"stmt", stmt("BEGIN IMMEDIATE", {})}});
  add(stmt("CREATE TABLE IF NOT EXISTS turso_sync_last_change_id (client_id TEXT PRIMARY KEY, "
           "pull_gen INTEGER, change_id INTEGER)",
           {}),
      false);
  for (const PushStep& s : changes.steps)
    add(stmt(s.sql, s.args), s.may_fail);
  add(stmt("INSERT INTO turso_sync_last_change_id(client_id, pull_gen, change_id) VALUES (?, ?, "
           "?) ON CONFLICT(client_id) DO UPDATE SET pull_gen=excluded.pull_gen, "
           "change_id=excluded.change_id",
           {std::string(client_id), std::int64_t{0}, static_cast<std::int64_t>(change_id)}),
      false);
  add(stmt("COMMIT", {}), false);
  const std::size_t commit = steps.size() - 1;
  // Only our own transaction is rolled back: BEGIN succeeded, COMMIT did not.
  steps.push_back(json::object{
      {"stmt", stmt("ROLLBACK", {})},
      {"condition",
       json::object{{"type", "and"},
                    {"conds", json::array{ok_cond(0), json::object{{"type", "not"},
                                                                   {"cond", ok_cond(commit)}}}}}}});
  json::object body{
      {"baton", nullptr},
      {"requests", json::array{json::object{
                       {"type", "batch"}, {"batch", json::object{{"steps", std::move(steps)}}}}}}};
  return json::serialize(body);
}

std::string encode_last_change_query(const std::string& client_id) {
  json::object body{
      {"baton", nullptr},
      {"requests", json::array{json::object{
                       {"type", "execute"},
                       {"stmt", json::object{{"sql",
                                              "SELECT pull_gen, change_id FROM "
                                              "turso_sync_last_change_id WHERE client_id = ?"},
                                             {"args", json::array{remote::encode_value(client_id)}},
                                             {"want_rows", true}}}}}}};
  return json::serialize(body);
}

}  // namespace ecto_libsql::replica
