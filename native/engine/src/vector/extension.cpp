#include "vector/extension.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <initializer_list>
#include <random>
#include <set>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "vector/ddl_statement.hpp"
#include "vector/node_block.hpp"
#include "vector/sql_functions.hpp"
#include "vector/top_k.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr std::string_view kMetaTable = "libsql_vector_meta_shadow";
constexpr std::string_view kStateTable = "__ecto_libsql_vector_state";
constexpr std::string_view kTriggerPrefix = "__ecto_libsql_vector_";
constexpr std::string_view kMaintain = "__ecto_libsql_vector_update";
constexpr std::string_view kSavepoint = "__ecto_libsql_vector_ddl";
constexpr const char* kResyncMessage =
    "vector index: the database schema changed; the statement must run again";

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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool same_name(std::string_view a, std::string_view b) {
  return sql::keyword_equals(a, b);
}

std::string key_of(std::string_view schema, std::string_view name) {
  return lower(schema) + '\x1f' + lower(name);
}

// libSQL writes shadow-table names unquoted; a name that needs quotes is quoted here (libSQL
// cannot create those at all).
std::string plain_or_quoted(const std::string& name) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    plain = plain && ok;
  }
  return plain ? name : quote_identifier(name);
}

// SQLite's column affinity rules, rendered the way libSQL writes shadow-table columns.
std::string affinity_of(std::string_view declared) {
  const std::string t = lower(declared);
  if (t.find("int") != std::string::npos) return " INTEGER";
  if (t.find("char") != std::string::npos || t.find("clob") != std::string::npos ||
      t.find("text") != std::string::npos) {
    return " TEXT";
  }
  if (t.find("blob") != std::string::npos || t.empty()) return " BLOB";
  if (t.find("real") != std::string::npos || t.find("floa") != std::string::npos ||
      t.find("doub") != std::string::npos) {
    return " REAL";
  }
  return " NUMERIC";
}

std::int64_t next_token() noexcept {
  static std::atomic<std::int64_t> counter{[] {
    std::random_device rd;
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(rd()) << 20) & 0x7fffffff00000ULL);
  }()};
  return ++counter;
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

std::vector<std::uint8_t> float_bytes(const float* v, int dims) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(dims) * 4);
  std::memcpy(out.data(), v, out.size());
  return out;
}

const char* text_arg(sqlite3_value* v) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return p != nullptr ? p : "";
}

void marker_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  static_cast<Extension*>(sqlite3_user_data(ctx))->marker(ctx, argc > 0 ? argv[0] : nullptr);
}

void maintain_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  static_cast<Extension*>(sqlite3_user_data(ctx))->maintain(ctx, argc, argv);
}

}  // namespace

struct Extension::Cache {
  IndexParams params;
  std::optional<Graph> graph;
  std::int64_t token = 0;
  std::int64_t data_version = -1;
  bool valid = false;
};

// Marks module DDL in progress: libsql_vector_idx() then answers at once.
class Extension::DdlScope {
 public:
  explicit DdlScope(Extension& ext) : ext_(ext) { ++ext_.ddl_depth_; }
  ~DdlScope() { --ext_.ddl_depth_; }
  DdlScope(const DdlScope&) = delete;
  DdlScope& operator=(const DdlScope&) = delete;

 private:
  Extension& ext_;
};

Extension::Extension(sqlite3* db) : db_(db), sql_(db) {
  std::random_device rd;
  secret_ = static_cast<std::int64_t>((static_cast<std::uint64_t>(rd()) << 31) ^ rd()) | 1;
}

Extension::~Extension() {
  detach();
}

void Extension::detach() noexcept {
  indexes_.clear();
  sql_.clear();
}

std::unique_ptr<Extension> Extension::attach(sqlite3* db) {
  auto ext = std::make_unique<Extension>(db);
  int rc = register_sql_functions(db);
  constexpr int kPure = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "libsql_vector_idx", -1, kPure, ext.get(), &marker_function,
                                    nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) {
    // Its first argument is a per-connection secret, so only this module's triggers can use it;
    // INNOCUOUS keeps it usable from TEMP triggers when trusted_schema is off.
    rc = sqlite3_create_function_v2(db, std::string(kMaintain).c_str(), 9,
                                    SQLITE_UTF8 | SQLITE_INNOCUOUS, ext.get(), &maintain_function,
                                    nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK) rc = register_top_k(db, ext.get());
  if (rc != SQLITE_OK) {
    throw Error(rc, std::string("Failed to register the vector functions: ") + sqlite3_errstr(rc));
  }
  return ext;
}

// ------------------------------------------------------------------------------------------------
// Schema synchronisation

std::int64_t Extension::schema_cookie(const std::string& schema) {
  Query q = sql_("PRAGMA " + quote_identifier(schema) + ".schema_version");
  return q.step() ? q.int64(0) : 0;
}

bool Extension::in_sync() {
  if (!synced_) return false;
  std::size_t i = 0;
  for (; const char* name = sqlite3_db_name(db_, static_cast<int>(i)); ++i) {
    if (i >= cookies_.size() || cookies_[i].first != name) return false;
    if (schema_cookie(cookies_[i].first) != cookies_[i].second) return false;
  }
  return i == cookies_.size();
}

void Extension::refresh() {
  std::map<std::string, IndexState> next;
  std::vector<std::pair<std::string, std::int64_t>> cookies;
  for (int i = 0; const char* db_name = sqlite3_db_name(db_, i); ++i) {
    const std::string schema = db_name;
    cookies.emplace_back(schema, schema_cookie(schema));
    auto q = sql_.try_prepare("SELECT name, tbl_name, sql FROM " + quote_identifier(schema) +
                              ".sqlite_schema WHERE type = 'index' AND sql LIKE "
                              "'%libsql_vector_idx%'");
    if (!q) continue;
    std::vector<IndexState> found;
    while (q->step()) {
      auto def = parse_vector_index(q->text(2));
      if (!def || def->error) continue;
      IndexState st;
      st.schema = schema;
      st.name = std::string(q->text(0));
      st.table = std::string(q->text(1));
      st.column = def->column;
      std::string expr = "libsql_vector_idx(" + quote_identifier(def->column);
      for (const std::string& option : def->options)
        expr += ", " + quote_string(option);
      st.marker_expr = expr + ")";
      st.where = def->where;
      found.push_back(std::move(st));
    }
    for (IndexState& st : found) {
      try {
        st.key = key_info(st.schema, st.table);
      } catch (const Error&) {
        continue;
      }
      const std::string key = key_of(st.schema, st.name);
      if (auto old = indexes_.find(key); old != indexes_.end() &&
                                         same_name(old->second.table, st.table) &&
                                         old->second.column == st.column) {
        st.cache = std::move(old->second.cache);
      }
      next.emplace(key, std::move(st));
    }
  }
  std::vector<std::string> tables;
  tables.reserve(next.size());
  for (const auto& [k, st] : next)
    tables.push_back(lower(st.table));
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  if (tables != indexed_tables_) ++generation_;
  indexed_tables_ = std::move(tables);
  indexes_.swap(next);
  cookies_ = std::move(cookies);
  synced_ = true;
}

std::vector<std::string> Extension::trigger_sql(const IndexState& ix,
                                                std::vector<std::string>& names) const {
  const std::string target = quote_identifier(ix.schema) + "." + quote_identifier(ix.table);
  const std::string key = ix.key.without_rowid ? quote_identifier(ix.key.column) : "rowid";
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
  const std::string fn = " BEGIN UPDATE " + std::string(kStateTable) +
                         " SET token = " + std::string(kMaintain) + "(" + args + ", ";
  const std::string where = ") WHERE name = " + quote_string(key_of(ix.schema, ix.name)) + "; END";
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
  for (auto& [k, ix] : indexes_) {
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
    refresh();
    install_triggers(false);
    return true;
  } catch (...) {
    synced_ = false;
    return false;
  }
}

void Extension::install_triggers(bool drop_stale) {
  if (!indexes_.empty()) ensure_state_table();
  std::set<std::string> wanted;
  bool created = false;
  for (auto& [k, ix] : indexes_) {
    {
      Query q = sql_("INSERT OR IGNORE INTO temp." + std::string(kStateTable) +
                     " (name, token) VALUES (?1, 0)");
      q.bind_text(1, key_of(ix.schema, ix.name)).run();
    }
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
    ix.triggers = true;
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
  if (created) {
    // The temp schema changed: note its new cookie.
    for (auto& [schema, cookie] : cookies_)
      cookie = schema_cookie(schema);
  }
}

void Extension::prepare_existing_indexes() noexcept {
  try {
    DdlScope scope(*this);
    refresh();
    ready_ = true;
    if (indexes_.empty()) return;
    ensure_state_table();
    for (auto& [k, ix] : indexes_) {
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
        const std::string key = ix.key.without_rowid ? quote_identifier(ix.key.column) : "rowid";
        const bool sums = ix.key.rowid_like;
        const std::string sum = sums ? concat({"total(", key, ")"}) : std::string("0");
        const std::string filter = ix.where.empty() ? "" : concat({" AND (", ix.where, ")"});
        Query with_vector = sql_(concat({"SELECT count(*), ", sum, " FROM ", table, by_index,
                                         " WHERE ", *ix.marker_expr, " = 1", filter}));
        Query nodes = sql_(
            concat({"SELECT count(*), ", sums ? "total(index_key)" : "0", " FROM ", shadow(ix)}));
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
    synced_ = false;
  }
}

// ------------------------------------------------------------------------------------------------
// Statement interception

bool Extension::wants(const Statement& stmt) const {
  if (stmt.classification().command != sql::Command::Create) return false;
  return is_drop_statement(stmt.sql()) || parse_vector_index(stmt.sql()).has_value();
}

std::unique_ptr<Statement> Extension::wrap(std::shared_ptr<Statement> stmt) {
  auto def = parse_vector_index(stmt->sql());
  return std::make_unique<DdlStatement>(*this, std::move(stmt), std::move(def));
}

bool Extension::may_write_indexed_table(std::string_view text) {
  if (indexed_tables_.empty()) return false;
  sql::Lexer lexer(text);
  sql::Token t{};
  while (lexer.next(t)) {
    if (t.kind != sql::TokenKind::Word && t.kind != sql::TokenKind::QuotedIdent) continue;
    std::string_view name = t.text;
    if (t.kind == sql::TokenKind::QuotedIdent && name.size() >= 2) {
      name = name.substr(1, name.size() - 2);
    }
    if (std::binary_search(indexed_tables_.begin(), indexed_tables_.end(), lower(name))) {
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------------------------------------------------
// Index data

Extension::IndexState* Extension::find(const std::string& schema, const std::string& name) {
  const auto it = indexes_.find(key_of(schema, name));
  return it == indexes_.end() ? nullptr : &it->second;
}

std::string Extension::shadow(const IndexState& ix) const {
  return quote_identifier(ix.schema) + "." + quote_identifier(ix.name + "_shadow");
}

IndexParams Extension::read_params(const std::string& schema, const std::string& name) {
  auto q = sql_.try_prepare("SELECT metadata FROM " + quote_identifier(schema) + "." +
                            std::string(kMetaTable) + " WHERE name = ?1");
  if (!q) throw Error(kCodeError, "no vector index metadata");
  q->bind_text(1, name);
  if (!q->step()) throw Error(kCodeError, "no vector index metadata");
  return decode_metadata(q->blob(0));
}

KeyInfo Extension::key_info(const std::string& schema, const std::string& table) {
  KeyInfo key;
  {
    Query q = sql_("SELECT wr FROM pragma_table_list WHERE schema = ?1 AND name = ?2");
    q.bind_text(1, schema).bind_text(2, table);
    if (!q.step()) throw Error(kCodeError, "vector index: no such table: " + table);
    key.without_rowid = q.int64(0) != 0;
  }
  if (!key.without_rowid) {
    key.affinity = " INTEGER";
    return key;
  }
  std::vector<std::string> pk;
  {
    Query q = sql_("SELECT name FROM pragma_table_info(?2, ?1) WHERE pk > 0 ORDER BY pk");
    q.bind_text(1, schema).bind_text(2, table);
    while (q.step())
      pk.emplace_back(q.text(0));
  }
  if (pk.size() != 1) {
    throw Error(kCodeError,
                "vector index: unsupported for tables without ROWID and composite primary key");
  }
  key.column = pk[0];
  const char* decl = nullptr;
  const char* coll = nullptr;
  sqlite3_table_column_metadata(db_, schema.c_str(), table.c_str(), key.column.c_str(), &decl,
                                &coll, nullptr, nullptr, nullptr);
  key.affinity = affinity_of(decl != nullptr ? decl : "");
  key.collation = coll != nullptr && !same_name(coll, "BINARY") ? std::string(coll) : "";
  key.rowid_like = key.affinity == " INTEGER" && key.collation.empty();
  return key;
}

void Extension::ensure_state_table() {
  // Always asked: a rollback may have removed the table.
  sql_.exec("CREATE TEMP TABLE IF NOT EXISTS " + std::string(kStateTable) +
            " (name TEXT PRIMARY KEY, token INTEGER) WITHOUT ROWID");
}

std::int64_t Extension::stored_token(const std::string& key) {
  auto q =
      sql_.try_prepare("SELECT token FROM temp." + std::string(kStateTable) + " WHERE name = ?1");
  if (!q) return 0;
  q->bind_text(1, key);
  return q->step() ? q->int64(0) : 0;
}

void Extension::store_token(IndexState& ix, Cache& cache) {
  ensure_state_table();
  const std::int64_t token = next_token();
  Query q = sql_("INSERT OR REPLACE INTO temp." + std::string(kStateTable) +
                 " (name, token) VALUES (?1, ?2)");
  q.bind_text(1, key_of(ix.schema, ix.name)).bind(2, token);
  q.run();
  cache.token = token;
}

Extension::Cache& Extension::cache_of(IndexState& ix) {
  if (!ix.cache) ix.cache = std::make_unique<Cache>();
  Cache& c = *ix.cache;
  std::int64_t version = 0;
  {
    Query q = sql_("PRAGMA " + quote_identifier(ix.schema) + ".data_version");
    if (q.step()) version = q.int64(0);
  }
  const std::int64_t token = stored_token(key_of(ix.schema, ix.name));
  if (c.valid && c.graph && c.data_version == version && c.token == token) return c;
  c.valid = false;
  c.graph.reset();
  c.params = read_params(ix.schema, ix.name);
  const IndexParams& p = c.params;
  Graph::Options options;
  options.dims = p.dims;
  options.metric = p.metric;
  options.max_degree = p.max_edges();
  options.alpha = p.alpha;
  options.payload_size = p.type == Type::F32 ? 0 : p.node_vector_size();
  c.graph.emplace(options);
  std::vector<float> floats(static_cast<std::size_t>(p.dims));
  Vector node;
  node.type = p.type;
  node.dims = p.dims;
  Query q = sql_("SELECT rowid, data FROM " + shadow(ix));
  while (q.step()) {
    const DecodedNode decoded = decode_block(p, q.blob(1));
    node.data.assign(decoded.vector.begin(), decoded.vector.end());
    to_floats(node, floats.data());
    c.graph->add_loaded(q.int64(0), floats.data(),
                        p.type == Type::F32 ? std::span<const std::uint8_t>() : decoded.vector,
                        decoded.edges);
  }
  c.graph->link();
  c.data_version = version;
  c.token = token;
  c.valid = true;
  return c;
}

Vector Extension::index_vector(const IndexParams& params, sqlite3_value* value) const {
  Vector v = value_to_vector(value, Type::F32);
  if (v.dims != params.dims) {
    throw Error(kCodeError, "vector index(insert): dimensions are different: " +
                                std::to_string(v.dims) + " != " + std::to_string(params.dims));
  }
  if (v.type != params.type) {
    throw Error(kCodeError, "vector index(insert): vector type differs from column type: " +
                                std::to_string(static_cast<int>(v.type)) +
                                " != " + std::to_string(static_cast<int>(params.type)));
  }
  return v;
}

std::int64_t Extension::shadow_rowid(IndexState& ix, sqlite3_value* key, bool create) {
  if (ix.key.rowid_like) return sqlite3_value_int64(key);
  {
    Query q = sql_("SELECT rowid FROM " + shadow(ix) + " WHERE index_key = ?1");
    q.bind_value(1, key);
    if (q.step()) return q.int64(0);
  }
  if (!create) return 0;
  Query q =
      sql_("INSERT INTO " + shadow(ix) + " (index_key, data) VALUES (?1, x'') RETURNING rowid");
  q.bind_value(1, key);
  if (!q.step()) throw Error(kCodeError, "vector index(insert): failed to insert shadow row");
  const std::int64_t rowid = q.int64(0);
  q.run();
  return rowid;
}

void Extension::write_nodes(IndexState& ix, Cache& cache, const std::vector<Graph::Id>& ids) {
  const IndexParams& p = cache.params;
  Graph& g = *cache.graph;
  const std::string upsert =
      ix.key.rowid_like
          ? "INSERT OR REPLACE INTO " + shadow(ix) + " (index_key, data) VALUES (?1, ?2)"
          : "UPDATE " + shadow(ix) + " SET data = ?2 WHERE rowid = ?1";
  const std::string remove = "DELETE FROM " + shadow(ix) + " WHERE rowid = ?1";
  std::vector<std::pair<Graph::Id, float>> neighbours;
  std::vector<std::vector<std::uint8_t>> edge_vectors;
  std::vector<EncodedEdge> edges;
  std::vector<std::uint8_t> block;
  const bool same_type = p.edge_type == p.type;
  auto node_bytes = [&](Graph::Id id) {
    return p.type == Type::F32
               ? float_bytes(g.vector_of(id), p.dims)
               : std::vector<std::uint8_t>(g.payload_of(id).begin(), g.payload_of(id).end());
  };
  for (const Graph::Id id : ids) {
    if (!g.contains(id)) {
      Query q = sql_(remove);
      q.bind(1, id).run();
      continue;
    }
    Vector node{p.type, p.dims, node_bytes(id)};
    const Vector node_edge = same_type ? Vector{} : convert(node, p.edge_type);
    g.neighbours(id, neighbours);
    edge_vectors.clear();
    edges.clear();
    for (const auto& [nid, distance] : neighbours) {
      Vector nb{p.type, p.dims, node_bytes(nid)};
      float d = distance;
      if (!same_type) {
        nb = convert(nb, p.edge_type);
        if (p.metric == Metric::Cosine) {
          d = static_cast<float>(distance_cos(node_edge, nb));
        } else if (auto l2 = distance_l2(node_edge, nb)) {
          d = static_cast<float>(*l2);
        }
      }
      edge_vectors.push_back(std::move(nb.data));
      edges.push_back(EncodedEdge{static_cast<std::uint64_t>(nid), d, {}});
    }
    for (std::size_t i = 0; i < edges.size(); ++i)
      edges[i].vector = edge_vectors[i];
    encode_block(p, static_cast<std::uint64_t>(id), node.data, edges, block);
    Query q = sql_(upsert);
    q.bind(1, id).bind_blob(2, block).run();
  }
}

void Extension::apply(IndexState& ix, Cache& cache, std::optional<std::int64_t> remove_id,
                      std::optional<std::int64_t> insert_id, const Vector* value) {
  cache.valid = false;  // until the shadow table matches the graph again
  std::vector<Graph::Id> changed;
  if (remove_id) {
    cache.graph->remove(*remove_id, changed);
    changed.push_back(*remove_id);
  }
  if (insert_id && value != nullptr) {
    std::vector<float> floats(static_cast<std::size_t>(value->dims));
    to_floats(*value, floats.data());
    cache.graph->insert(*insert_id, floats.data(),
                        value->type == Type::F32 ? std::span<const std::uint8_t>() : value->data,
                        cache.params.insert_l, changed);
  }
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  write_nodes(ix, cache, changed);
  // The trigger that called maintain() stores the new token, inside the statement, so that a
  // statement rolled back also rolls the token back.
  cache.token = next_token();
  cache.valid = true;
}

// ------------------------------------------------------------------------------------------------
// SQL callbacks

void Extension::marker(sqlite3_context* ctx, sqlite3_value* column) noexcept {
  try {
    if (ddl_depth_ == 0 && !in_sync()) {
      refresh();
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
    synced_ = false;
    const std::string message = "vector index: " + e.message();
    sqlite3_result_error(ctx, message.c_str(), -1);
    if ((e.code() & 0xff) == SQLITE_INTERRUPT) sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
  } catch (...) {
    synced_ = false;
    sqlite3_result_error_nomem(ctx);
  }
}

void Extension::maintain(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  try {
    if (argc != 9 || sqlite3_value_int64(argv[0]) != secret_) {
      sqlite3_result_error(ctx, "vector index: internal function", -1);
      return;
    }
    if (!in_sync()) refresh();
    IndexState* ix = find(text_arg(argv[1]), text_arg(argv[2]));
    // A trigger left from an older definition of the index does nothing: it writes back the
    // token that is stored already.
    if (ix == nullptr || !same_name(ix->table, text_arg(argv[3])) ||
        ix->column != text_arg(argv[4])) {
      sqlite3_result_int64(ctx, stored_token(key_of(text_arg(argv[1]), text_arg(argv[2]))));
      return;
    }
    const int op = sqlite3_value_int(argv[5]);
    Cache& cache = cache_of(*ix);
    sqlite3_value* value = argv[8];
    std::optional<Vector> v;
    if (op != 1 && sqlite3_value_type(value) != SQLITE_NULL) v = index_vector(cache.params, value);
    std::optional<std::int64_t> remove_id;
    std::optional<std::int64_t> insert_id;
    if (op == 1 || op == 2) {
      const std::int64_t id = shadow_rowid(*ix, argv[6], false);
      if ((ix->key.rowid_like || id != 0) && cache.graph->contains(id)) remove_id = id;
      if (!ix->key.rowid_like && id != 0 && !remove_id) {
        Query q = sql_("DELETE FROM " + shadow(*ix) + " WHERE rowid = ?1");
        q.bind(1, id).run();
      }
    }
    if ((op == 0 || op == 2) && v && !ix->where.empty()) {
      // A partial index holds the rows its condition selects.
      const std::string key = ix->key.without_rowid ? quote_identifier(ix->key.column) : "rowid";
      Query q =
          sql_("SELECT 1 FROM " + quote_identifier(ix->schema) + "." + quote_identifier(ix->table) +
               " WHERE " + key + " = ?1 AND (" + ix->where + ")");
      q.bind_value(1, argv[7]);
      if (!q.step()) v.reset();
    }
    if (op == 0 || op == 2) {
      if (v) {
        insert_id = shadow_rowid(*ix, argv[7], true);
      } else if (op == 0) {
        // A NULL vector is not indexed (an INSERT OR REPLACE may have replaced one).
        const std::int64_t id = shadow_rowid(*ix, argv[7], false);
        if ((ix->key.rowid_like || id != 0) && cache.graph->contains(id)) remove_id = id;
      }
    }
    if (remove_id || insert_id) apply(*ix, cache, remove_id, insert_id, v ? &*v : nullptr);
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

// ------------------------------------------------------------------------------------------------
// Search (vector_top_k)

std::vector<SearchHit> Extension::search(int argc, sqlite3_value** argv) {
  const auto fail = [](const std::string& what) {
    return Error(kCodeError, "vector index(search): " + what);
  };
  if (argc != 3) {
    throw fail("got " + std::to_string(argc) + " parameters, expected 3");
  }
  const Vector query = value_to_vector(argv[1], Type::F32);
  int k = 0;
  switch (sqlite3_value_type(argv[2])) {
    case SQLITE_INTEGER:
      k = sqlite3_value_int(argv[2]);
      if (k < 0) {
        throw fail(
            "third parameter (k) must be a non-negative integer, but negative value "
            "were provided");
      }
      break;
    case SQLITE_FLOAT: {
      const double kd = sqlite3_value_double(argv[2]);
      if (!(kd > -2147483649.0 && kd < 2147483648.0) ||
          static_cast<double>(static_cast<int>(kd)) != kd) {
        throw fail("third parameter (k) must be an integer, but float value were provided");
      }
      k = static_cast<int>(kd);
      if (k < 0) {
        throw fail(
            "third parameter (k) must be a non-negative integer, but negative value "
            "were provided");
      }
      break;
    }
    default:
      throw fail(
          "third parameter (k) must be an integer, but unexpected type of value were "
          "provided");
  }
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    throw fail("first parameter (index) must be a string");
  }
  std::string name = text_arg(argv[0]);
  std::string schema = "main";
  if (const auto dot = name.find('.'); dot != std::string::npos) {
    schema = name.substr(0, dot);
    name = name.substr(dot + 1);
    bool known = false;
    for (int i = 0; const char* db_name = sqlite3_db_name(db_, i); ++i)
      known = known || same_name(db_name, schema);
    if (!known) throw fail("unknown schema '" + schema + "'");
  }
  IndexParams params;
  try {
    params = read_params(schema, name);
  } catch (const Error&) {
    throw fail("failed to parse vector index parameters");
  }
  IndexState* ix = find(schema, name);
  if (ix == nullptr) {
    refresh();
    ix = find(schema, name);
  }
  if (ix == nullptr) throw fail("index not found");
  if (query.dims != params.dims) {
    throw fail("dimensions are different: " + std::to_string(query.dims) +
               " != " + std::to_string(params.dims));
  }
  if (query.type != params.type) {
    throw fail(
        "vector type differs from column type: " + std::to_string(static_cast<int>(query.type)) +
        " != " + std::to_string(static_cast<int>(params.type)));
  }
  Cache& cache = cache_of(*ix);
  std::vector<float> q(static_cast<std::size_t>(query.dims));
  to_floats(query, q.data());
  const auto found = cache.graph->search(q.data(), k, cache.params.search_l);
  std::vector<SearchHit> hits;
  hits.reserve(found.size());
  for (const auto& [distance, id] : found) {
    SearchHit hit;
    hit.rowid = id;
    if (!ix->key.rowid_like) {
      Query kq = sql_("SELECT index_key FROM " + shadow(*ix) + " WHERE rowid = ?1");
      kq.bind(1, id);
      if (!kq.step()) continue;
      hit.key = std::shared_ptr<sqlite3_value>(sqlite3_value_dup(sqlite3_column_value(kq.get(), 0)),
                                               &sqlite3_value_free);
    }
    hits.push_back(std::move(hit));
  }
  return hits;
}

// ------------------------------------------------------------------------------------------------
// DDL

std::string Extension::resolve_table_schema(const std::string& table) {
  Query q = sql_(
      "SELECT schema FROM pragma_table_list WHERE name = ?1 COLLATE NOCASE "
      "ORDER BY schema <> 'temp', schema <> 'main'");
  q.bind_text(1, table);
  return q.step() ? std::string(q.text(0)) : "main";
}

void Extension::create_index(const VectorIndexDefinition& def, Statement& inner) {
  DdlScope scope(*this);
  const std::string schema = def.schema.empty() ? resolve_table_schema(def.table) : def.schema;
  const auto run_inner = [&] {
    while (inner.step(nullptr) == Step::Row) {
    }
  };
  sql_.exec("SAVEPOINT " + std::string(kSavepoint));
  try {
    bool exists = false;
    {
      Query q = sql_("SELECT 1 FROM " + quote_identifier(schema) +
                     ".sqlite_schema WHERE type = 'index' AND name = ?1 COLLATE NOCASE");
      q.bind_text(1, def.name);
      exists = q.step();
    }
    if (def.if_not_exists && exists) {
      run_inner();
    } else {
      if (def.error) throw Error(kCodeError, *def.error);
      const char* decl = nullptr;
      int primary = 0;
      const int rc =
          sqlite3_table_column_metadata(db_, schema.c_str(), def.table.c_str(), def.column.c_str(),
                                        &decl, nullptr, nullptr, &primary, nullptr);
      const KeyInfo key = key_info(schema, def.table);
      bool rowid_alias = false;
      if (rc == SQLITE_OK && primary != 0 && !key.without_rowid && decl != nullptr &&
          same_name(decl, "INTEGER")) {
        Query q = sql_("SELECT count(*) FROM pragma_table_info(?2, ?1) WHERE pk > 0");
        q.bind_text(1, schema).bind_text(2, def.table);
        rowid_alias = q.step() && q.int64(0) == 1;
      }
      if ((rc != SQLITE_OK && def.column_may_be_rowid && !key.without_rowid) || rowid_alias) {
        throw Error(kCodeError,
                    "vector index: libsql_vector_idx first argument must be column "
                    "with vector type");
      }
      if (rc != SQLITE_OK) {
        throw Error(kCodeError,
                    "vector index: libsql_vector_idx first argument must be a column token");
      }
      const ColumnType column = parse_column_type(decl != nullptr ? decl : "");
      sql_.exec("CREATE TABLE IF NOT EXISTS " + quote_identifier(schema) + "." +
                std::string(kMetaTable) +
                " ( name TEXT PRIMARY KEY, metadata BLOB ) WITHOUT ROWID");
      const std::vector<std::uint8_t> metadata = build_metadata(column, def.options);
      // key_info() already refused composite keys, with libSQL's message.
      run_inner();
      const std::string shadow_name = plain_or_quoted(def.name + "_shadow");
      const std::string prefix = "CREATE TABLE IF NOT EXISTS " + quote_identifier(schema) + ".";
      if (key.rowid_like) {
        const std::string defs = "index_key " + key.affinity + " " + key.collation;
        sql_.exec(prefix + shadow_name + " (" + defs + ", data BLOB, PRIMARY KEY (index_key))");
        sql_.exec("CREATE INDEX IF NOT EXISTS " + quote_identifier(schema) + "." +
                  plain_or_quoted(def.name + "_shadow_idx") + " ON " + shadow_name +
                  " (index_key)");
      } else {
        const std::string defs = "index_key " + key.affinity + " " + key.collation;
        sql_.exec(prefix + shadow_name + " (rowid INTEGER PRIMARY KEY, " + defs +
                  ", data BLOB, UNIQUE (index_key))");
        sql_.exec("CREATE INDEX IF NOT EXISTS " + quote_identifier(schema) + "." +
                  plain_or_quoted(def.name + "_shadow_idx") + " ON " + shadow_name + " (rowid)");
      }
      bool refill = true;
      {
        Query q = sql_("INSERT INTO " + quote_identifier(schema) + "." + std::string(kMetaTable) +
                       " VALUES (?1, ?2) ON CONFLICT DO NOTHING RETURNING 1");
        q.bind_text(1, def.name).bind_blob(2, metadata);
        // An existing row means the shadow table came with the data (a dump being loaded).
        refill = q.step();
        q.run();
      }
      refresh();
      IndexState* ix = find(schema, def.name);
      if (ix == nullptr) throw Error(kCodeError, "vector index: index not found after creation");
      ix->cache.reset();
      ensure_state_table();
      if (refill) {
        auto cache = std::make_unique<Cache>();
        cache->params = decode_metadata(metadata);
        const IndexParams& p = cache->params;
        Graph::Options options;
        options.dims = p.dims;
        options.metric = p.metric;
        options.max_degree = p.max_edges();
        options.alpha = p.alpha;
        options.payload_size = p.type == Type::F32 ? 0 : p.node_vector_size();
        cache->graph.emplace(options);
        std::vector<Graph::Id> all;
        std::vector<Graph::Id> changed;
        std::vector<float> floats(static_cast<std::size_t>(p.dims));
        const std::string key_expr = key.without_rowid ? quote_identifier(key.column) : "rowid";
        Query rows = sql_("SELECT " + key_expr + ", " + quote_identifier(def.column) + " FROM " +
                          quote_identifier(schema) + "." + quote_identifier(def.table) +
                          (def.where.empty() ? "" : " WHERE (" + def.where + ")"));
        while (rows.step()) {
          sqlite3_value* value = sqlite3_column_value(rows.get(), 1);
          if (sqlite3_value_type(value) == SQLITE_NULL) continue;
          const Vector v = index_vector(p, value);
          const std::int64_t id = shadow_rowid(*ix, sqlite3_column_value(rows.get(), 0), true);
          to_floats(v, floats.data());
          changed.clear();
          cache->graph->insert(id, floats.data(),
                               v.type == Type::F32 ? std::span<const std::uint8_t>() : v.data,
                               p.insert_l, changed);
          all.push_back(id);
        }
        std::sort(all.begin(), all.end());
        write_nodes(*ix, *cache, all);
        // The module's own version of the shadow table: no reload needed.
        {
          Query q = sql_("PRAGMA " + quote_identifier(schema) + ".data_version");
          cache->data_version = q.step() ? q.int64(0) : -1;
        }
        store_token(*ix, *cache);
        cache->valid = true;
        ix->cache = std::move(cache);
      }
      install_triggers(false);
    }
    sql_.exec("RELEASE " + std::string(kSavepoint));
  } catch (...) {
    try {
      sql_.exec("ROLLBACK TO " + std::string(kSavepoint));
      sql_.exec("RELEASE " + std::string(kSavepoint));
    } catch (...) {
      // The original error matters more.
    }
    synced_ = false;
    for (auto& [k, ix] : indexes_)
      ix.cache.reset();
    throw;
  }
}

void Extension::drop(Statement& inner) {
  DdlScope scope(*this);
  std::vector<std::string> schemas;
  for (int i = 0; const char* db_name = sqlite3_db_name(db_, i); ++i) {
    if (sqlite3_table_column_metadata(db_, db_name, std::string(kMetaTable).c_str(), "name",
                                      nullptr, nullptr, nullptr, nullptr, nullptr) == SQLITE_OK) {
      schemas.emplace_back(db_name);
    }
  }
  const auto run_inner = [&] {
    while (inner.step(nullptr) == Step::Row) {
    }
  };
  if (schemas.empty()) {
    run_inner();
    return;
  }
  sql_.exec("SAVEPOINT " + std::string(kSavepoint));
  try {
    run_inner();
    for (const std::string& schema : schemas) {
      const std::string meta = quote_identifier(schema) + "." + std::string(kMetaTable);
      std::vector<std::string> orphans;
      {
        Query q = sql_("SELECT name FROM " + meta +
                       " WHERE lower(name) NOT IN (SELECT lower(name) "
                       "FROM " +
                       quote_identifier(schema) + ".sqlite_schema WHERE type = 'index')");
        while (q.step())
          orphans.emplace_back(q.text(0));
      }
      for (const std::string& name : orphans) {
        sql_.exec("DROP TABLE IF EXISTS " + quote_identifier(schema) + "." +
                  quote_identifier(name + "_shadow"));
        Query q = sql_("DELETE FROM " + meta + " WHERE name = ?1");
        q.bind_text(1, name).run();
        indexes_.erase(key_of(schema, name));
      }
    }
    sql_.exec("RELEASE " + std::string(kSavepoint));
  } catch (...) {
    try {
      sql_.exec("ROLLBACK TO " + std::string(kSavepoint));
      sql_.exec("RELEASE " + std::string(kSavepoint));
    } catch (...) {
      // The original error matters more.
    }
    synced_ = false;
    throw;
  }
  try {
    refresh();
    install_triggers(true);
  } catch (...) {
    synced_ = false;
  }
}

}  // namespace ecto_libsql::vector
