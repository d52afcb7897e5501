// The search behind vector_top_k(index, query, k): the k nearest rows of an index, with
// libSQL's errors.
#include <string>
#include <vector>

#include "ecto_libsql/error.hpp"
#include "vector/extension.hpp"
#include "vector/sql_functions.hpp"
#include "vector/vector_value.hpp"

namespace ecto_libsql::vector {

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
    params = store_.read_params(schema, name);
  } catch (const Error&) {
    throw fail("failed to parse vector index parameters");
  }
  VectorIndex* ix = store_.find(schema, name);
  if (ix == nullptr) {
    store_.refresh();
    ix = store_.find(schema, name);
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
  GraphCache& cache = store_.graph(*ix);
  std::vector<float> q(static_cast<std::size_t>(query.dims));
  to_floats(query, q.data());
  const auto found = cache.graph->search(q.data(), k, cache.params.search_l);
  std::vector<SearchHit> hits;
  hits.reserve(found.size());
  for (const auto& [distance, id] : found) {
    SearchHit hit;
    hit.rowid = id;
    if (!ix->key.rowid_like) {
      hit.key = store_.base_key(*ix, id);
      if (!hit.key) continue;
    }
    hits.push_back(std::move(hit));
  }
  return hits;
}

}  // namespace ecto_libsql::vector
