#include "vector/index_store.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <random>
#include <utility>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/sql_text.hpp"
#include "vector/node_block.hpp"
#include "vector/sql_functions.hpp"

namespace ecto_libsql::vector {
namespace {

constexpr std::string_view kMetaTable = "libsql_vector_meta_shadow";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
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

std::vector<std::uint8_t> float_bytes(const float* v, int dims) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(dims) * 4);
  std::memcpy(out.data(), v, out.size());
  return out;
}

// An empty graph for an index with parameters `p`.
Graph empty_graph(const IndexParams& p) {
  Graph::Options options;
  options.dims = p.dims;
  options.metric = p.metric;
  options.max_degree = p.max_edges();
  options.alpha = p.alpha;
  options.payload_size = p.type == Type::F32 ? 0 : p.node_vector_size();
  return Graph(options);
}

}  // namespace

std::string KeyInfo::expression() const {
  return without_rowid ? quote_identifier(column) : "rowid";
}

std::string IndexStore::key(std::string_view schema, std::string_view name) {
  return lower(schema) + '\x1f' + lower(name);
}

// ------------------------------------------------------------------------------------------------
// The catalogue

std::int64_t IndexStore::schema_cookie(const std::string& schema) {
  Query q = sql_("PRAGMA " + quote_identifier(schema) + ".schema_version");
  return q.step() ? q.int64(0) : 0;
}

bool IndexStore::in_sync() {
  if (!synced_) return false;
  std::size_t i = 0;
  for (; const char* name = sqlite3_db_name(sql_.db(), static_cast<int>(i)); ++i) {
    if (i >= cookies_.size() || cookies_[i].first != name) return false;
    if (schema_cookie(cookies_[i].first) != cookies_[i].second) return false;
  }
  return i == cookies_.size();
}

void IndexStore::refresh() {
  std::map<std::string, VectorIndex> next;
  std::vector<std::pair<std::string, std::int64_t>> cookies;
  for (int i = 0; const char* db_name = sqlite3_db_name(sql_.db(), i); ++i) {
    const std::string schema = db_name;
    cookies.emplace_back(schema, schema_cookie(schema));
    auto q = sql_.try_prepare("SELECT name, tbl_name, sql FROM " + quote_identifier(schema) +
                              ".sqlite_schema WHERE type = 'index' AND sql LIKE "
                              "'%libsql_vector_idx%'");
    if (!q) continue;
    std::vector<VectorIndex> found;
    while (q->step()) {
      auto def = parse_vector_index(q->text(2));
      if (!def || def->error) continue;
      VectorIndex ix;
      ix.schema = schema;
      ix.name = std::string(q->text(0));
      ix.table = std::string(q->text(1));
      ix.column = def->column;
      std::string expr = "libsql_vector_idx(" + quote_identifier(def->column);
      for (const std::string& option : def->options)
        expr += ", " + quote_string(option);
      ix.marker_expr = expr + ")";
      ix.where = def->where;
      found.push_back(std::move(ix));
    }
    for (VectorIndex& ix : found) {
      try {
        ix.key = key_info(ix.schema, ix.table);
      } catch (const Error&) {
        continue;
      }
      std::string k = key(ix.schema, ix.name);
      if (auto old = indexes_.find(k); old != indexes_.end() &&
                                       same_name(old->second.table, ix.table) &&
                                       old->second.column == ix.column) {
        ix.cache = std::move(old->second.cache);
      }
      next.emplace(std::move(k), std::move(ix));
    }
  }
  std::vector<std::string> tables;
  tables.reserve(next.size());
  for (const auto& [k, ix] : next)
    tables.push_back(lower(ix.table));
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  indexed_tables_ = std::move(tables);
  indexes_.swap(next);
  cookies_ = std::move(cookies);
  synced_ = true;
}

void IndexStore::invalidate_all() noexcept {
  synced_ = false;
  for (auto& [k, ix] : indexes_)
    ix.cache.reset();
}

void IndexStore::adopt_schema_cookies() {
  for (auto& [schema, cookie] : cookies_)
    cookie = schema_cookie(schema);
}

VectorIndex* IndexStore::find(std::string_view schema, std::string_view name) {
  const auto it = indexes_.find(key(schema, name));
  return it == indexes_.end() ? nullptr : &it->second;
}

bool IndexStore::may_write_indexed_table(std::string_view text) const {
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
// libSQL's tables

std::string IndexStore::shadow(const VectorIndex& ix) {
  return quote_identifier(ix.schema) + "." + quote_identifier(ix.name + "_shadow");
}

IndexParams IndexStore::read_params(const std::string& schema, const std::string& name) {
  auto q = sql_.try_prepare("SELECT metadata FROM " + quote_identifier(schema) + "." +
                            std::string(kMetaTable) + " WHERE name = ?1");
  if (!q) throw Error(kCodeError, "no vector index metadata");
  q->bind_text(1, name);
  if (!q->step()) throw Error(kCodeError, "no vector index metadata");
  return decode_metadata(q->blob(0));
}

KeyInfo IndexStore::key_info(const std::string& schema, const std::string& table) {
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
  sqlite3_table_column_metadata(sql_.db(), schema.c_str(), table.c_str(), key.column.c_str(), &decl,
                                &coll, nullptr, nullptr, nullptr);
  key.affinity = affinity_of(decl != nullptr ? decl : "");
  key.collation = coll != nullptr && !same_name(coll, "BINARY") ? std::string(coll) : "";
  key.rowid_like = key.affinity == " INTEGER" && key.collation.empty();
  return key;
}

std::vector<std::string> IndexStore::schemas_with_metadata() {
  std::vector<std::string> schemas;
  for (int i = 0; const char* db_name = sqlite3_db_name(sql_.db(), i); ++i) {
    if (sqlite3_table_column_metadata(sql_.db(), db_name, std::string(kMetaTable).c_str(), "name",
                                      nullptr, nullptr, nullptr, nullptr, nullptr) == SQLITE_OK) {
      schemas.emplace_back(db_name);
    }
  }
  return schemas;
}

void IndexStore::create_metadata_table(const std::string& schema) {
  sql_.exec("CREATE TABLE IF NOT EXISTS " + quote_identifier(schema) + "." +
            std::string(kMetaTable) + " ( name TEXT PRIMARY KEY, metadata BLOB ) WITHOUT ROWID");
}

void IndexStore::create_shadow_table(const std::string& schema, const std::string& name,
                                     const KeyInfo& key) {
  const std::string shadow_name = plain_or_quoted(name + "_shadow");
  const std::string prefix = "CREATE TABLE IF NOT EXISTS " + quote_identifier(schema) + ".";
  const std::string defs = "index_key " + key.affinity + " " + key.collation;
  if (key.rowid_like) {
    sql_.exec(prefix + shadow_name + " (" + defs + ", data BLOB, PRIMARY KEY (index_key))");
    sql_.exec("CREATE INDEX IF NOT EXISTS " + quote_identifier(schema) + "." +
              plain_or_quoted(name + "_shadow_idx") + " ON " + shadow_name + " (index_key)");
  } else {
    sql_.exec(prefix + shadow_name + " (rowid INTEGER PRIMARY KEY, " + defs +
              ", data BLOB, UNIQUE (index_key))");
    sql_.exec("CREATE INDEX IF NOT EXISTS " + quote_identifier(schema) + "." +
              plain_or_quoted(name + "_shadow_idx") + " ON " + shadow_name + " (rowid)");
  }
}

bool IndexStore::add_metadata(const std::string& schema, const std::string& name,
                              std::span<const std::uint8_t> metadata) {
  Query q = sql_("INSERT INTO " + quote_identifier(schema) + "." + std::string(kMetaTable) +
                 " VALUES (?1, ?2) ON CONFLICT DO NOTHING RETURNING 1");
  q.bind_text(1, name).bind_blob(2, metadata);
  const bool added = q.step();
  q.run();
  return added;
}

void IndexStore::drop_orphans(const std::string& schema) {
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
    indexes_.erase(key(schema, name));
  }
}

// ------------------------------------------------------------------------------------------------
// Tokens

void IndexStore::ensure_state_table() {
  sql_.exec("CREATE TEMP TABLE IF NOT EXISTS " + std::string(kStateTable) +
            " (name TEXT PRIMARY KEY, token INTEGER) WITHOUT ROWID");
}

void IndexStore::add_state_row(const VectorIndex& ix) {
  Query q = sql_("INSERT OR IGNORE INTO temp." + std::string(kStateTable) +
                 " (name, token) VALUES (?1, 0)");
  q.bind_text(1, key(ix.schema, ix.name)).run();
}

std::int64_t IndexStore::stored_token(std::string_view schema, std::string_view name) {
  auto q =
      sql_.try_prepare("SELECT token FROM temp." + std::string(kStateTable) + " WHERE name = ?1");
  if (!q) return 0;
  q->bind_text(1, key(schema, name));
  return q->step() ? q->int64(0) : 0;
}

void IndexStore::store_token(const VectorIndex& ix, GraphCache& cache) {
  ensure_state_table();
  const std::int64_t token = next_token();
  Query q = sql_("INSERT OR REPLACE INTO temp." + std::string(kStateTable) +
                 " (name, token) VALUES (?1, ?2)");
  q.bind_text(1, key(ix.schema, ix.name)).bind(2, token);
  q.run();
  cache.token = token;
}

// ------------------------------------------------------------------------------------------------
// Graphs

std::optional<std::int64_t> IndexStore::data_version(const std::string& schema) {
  Query q = sql_("PRAGMA " + quote_identifier(schema) + ".data_version");
  if (!q.step()) return std::nullopt;
  return q.int64(0);
}

GraphCache& IndexStore::graph(VectorIndex& ix) {
  if (!ix.cache) ix.cache = std::make_unique<GraphCache>();
  GraphCache& c = *ix.cache;
  const std::int64_t version = data_version(ix.schema).value_or(0);
  const std::int64_t token = stored_token(ix.schema, ix.name);
  if (c.valid && c.graph && c.data_version == version && c.token == token) return c;
  c.valid = false;
  c.graph.reset();
  c.params = read_params(ix.schema, ix.name);
  const IndexParams& p = c.params;
  c.graph.emplace(empty_graph(p));
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

void IndexStore::build(VectorIndex& ix, const VectorIndexDefinition& def,
                       std::span<const std::uint8_t> metadata) {
  auto cache = std::make_unique<GraphCache>();
  cache->params = decode_metadata(metadata);
  const IndexParams& p = cache->params;
  cache->graph.emplace(empty_graph(p));
  std::vector<Graph::Id> all;
  std::vector<Graph::Id> changed;
  std::vector<float> floats(static_cast<std::size_t>(p.dims));
  Query rows = sql_("SELECT " + ix.key.expression() + ", " + quote_identifier(def.column) +
                    " FROM " + quote_identifier(ix.schema) + "." + quote_identifier(def.table) +
                    (def.where.empty() ? "" : " WHERE (" + def.where + ")"));
  while (rows.step()) {
    sqlite3_value* value = sqlite3_column_value(rows.get(), 1);
    if (sqlite3_value_type(value) == SQLITE_NULL) continue;
    const Vector v = index_vector(p, value);
    const std::int64_t id = shadow_rowid(ix, sqlite3_column_value(rows.get(), 0), true);
    to_floats(v, floats.data());
    changed.clear();
    cache->graph->insert(id, floats.data(),
                         v.type == Type::F32 ? std::span<const std::uint8_t>() : v.data, p.insert_l,
                         changed);
    all.push_back(id);
  }
  std::sort(all.begin(), all.end());
  write_nodes(ix, *cache, all);
  // The module's own version of the shadow table: no reload needed.
  cache->data_version = data_version(ix.schema).value_or(-1);
  store_token(ix, *cache);
  cache->valid = true;
  ix.cache = std::move(cache);
}

Vector IndexStore::index_vector(const IndexParams& params, sqlite3_value* value) {
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

std::int64_t IndexStore::shadow_rowid(VectorIndex& ix, sqlite3_value* key, bool create) {
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

void IndexStore::delete_shadow_row(VectorIndex& ix, std::int64_t id) {
  Query q = sql_("DELETE FROM " + shadow(ix) + " WHERE rowid = ?1");
  q.bind(1, id).run();
}

bool IndexStore::selects(const VectorIndex& ix, sqlite3_value* key) {
  Query q = sql_("SELECT 1 FROM " + quote_identifier(ix.schema) + "." + quote_identifier(ix.table) +
                 " WHERE " + ix.key.expression() + " = ?1 AND (" + ix.where + ")");
  q.bind_value(1, key);
  return q.step();
}

std::shared_ptr<sqlite3_value> IndexStore::base_key(const VectorIndex& ix, std::int64_t id) {
  Query q = sql_("SELECT index_key FROM " + shadow(ix) + " WHERE rowid = ?1");
  q.bind(1, id);
  if (!q.step()) return nullptr;
  sqlite3_value* copy = sqlite3_value_dup(sqlite3_column_value(q.get(), 0));
  if (copy == nullptr) throw std::bad_alloc();
  return {copy, &sqlite3_value_free};
}

void IndexStore::write_nodes(const VectorIndex& ix, GraphCache& cache,
                             const std::vector<Graph::Id>& ids) {
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

void IndexStore::apply(VectorIndex& ix, GraphCache& cache, std::optional<std::int64_t> remove_id,
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

}  // namespace ecto_libsql::vector
