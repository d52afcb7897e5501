// Reading SQL text without a connection: parse_create/1 (sql::parse_create as Elixir terms).
#include <erl_nif.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atoms.hpp"
#include "ecto_libsql/create_statement.hpp"
#include "nif_functions.hpp"
#include "nif_support.hpp"
#include "terms.hpp"

namespace ecto_libsql::nif {
namespace {

// Atoms of this function only, made when used (a lookup in the atom table): this is no hot path.
ERL_NIF_TERM atom(ErlNifEnv* env, const char* name) {
  return enif_make_atom(env, name);
}

ERL_NIF_TERM make_map(ErlNifEnv* env,
                      std::initializer_list<std::pair<const char*, ERL_NIF_TERM>> pairs) {
  std::vector<ERL_NIF_TERM> keys;
  std::vector<ERL_NIF_TERM> values;
  for (const auto& [key, value] : pairs) {
    keys.push_back(atom(env, key));
    values.push_back(value);
  }
  ERL_NIF_TERM map;
  enif_make_map_from_arrays(env, keys.data(), values.data(), keys.size(), &map);
  return map;
}

ERL_NIF_TERM string_or_nil(ErlNifEnv* env, const std::string& text) {
  return text.empty() ? atoms::nil : make_binary(env, text);
}

ERL_NIF_TERM strings(ErlNifEnv* env, const std::vector<std::string>& texts) {
  ERL_NIF_TERM list = enif_make_list(env, 0);
  for (auto it = texts.rbegin(); it != texts.rend(); ++it)
    list = enif_make_list_cell(env, make_binary(env, *it), list);
  return list;
}

const char* object_name(sql::ObjectKind kind) {
  switch (kind) {
    case sql::ObjectKind::Table:
      return "table";
    case sql::ObjectKind::VirtualTable:
      return "virtual_table";
    case sql::ObjectKind::Index:
      return "index";
    case sql::ObjectKind::View:
      return "view";
    case sql::ObjectKind::Trigger:
      break;
  }
  return "trigger";
}

// A column's constraint, or the kind of a table constraint (:foreign_key there, :references on
// a column).
const char* clause_name(sql::ClauseKind kind, bool column) {
  switch (kind) {
    case sql::ClauseKind::PrimaryKey:
      return "primary_key";
    case sql::ClauseKind::Unique:
      return "unique";
    case sql::ClauseKind::Check:
      return "check";
    case sql::ClauseKind::ForeignKey:
      return column ? "references" : "foreign_key";
    case sql::ClauseKind::NotNull:
      return "not_null";
    case sql::ClauseKind::Null:
      return "null";
    case sql::ClauseKind::Default:
      return "default";
    case sql::ClauseKind::Collate:
      return "collate";
    case sql::ClauseKind::Generated:
      break;
  }
  return "generated";
}

ERL_NIF_TERM make_item(ErlNifEnv* env, ERL_NIF_TERM source, std::string_view sql,
                       const sql::TableItem& item) {
  ERL_NIF_TERM clauses = enif_make_list(env, 0);
  std::string references;
  for (auto it = item.clauses.rbegin(); it != item.clauses.rend(); ++it) {
    if (it->autoincrement) clauses = enif_make_list_cell(env, atom(env, "autoincrement"), clauses);
    clauses = enif_make_list_cell(env, atom(env, clause_name(it->kind, item.is_column)), clauses);
    if (it->kind == sql::ClauseKind::ForeignKey) references = it->references;
  }
  // A table constraint item: its first constraint's kind, name and columns (parse_create()
  // gives every table constraint item one).
  const sql::Clause* constraint = item.is_column ? nullptr : &item.clauses.at(0);
  const ERL_NIF_TERM kind = atom(env, constraint ? clause_name(constraint->kind, false) : "column");
  const auto offset = static_cast<std::size_t>(item.text.data() - sql.data());
  return make_map(
      env,
      {{"kind", kind},
       {"name", item.is_column ? make_binary(env, item.name)
                               : string_or_nil(env, constraint ? constraint->name : "")},
       {"text", enif_make_sub_binary(env, source, offset, item.text.size())},
       {"columns", strings(env, constraint ? constraint->columns : std::vector<std::string>{})},
       {"clauses", clauses},
       {"references", string_or_nil(env, references)}});
}

ERL_NIF_TERM options(ErlNifEnv* env, const std::vector<sql::TableOption>& options) {
  ERL_NIF_TERM list = enif_make_list(env, 0);
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    list = enif_make_list_cell(
        env, atom(env, *it == sql::TableOption::Strict ? "strict" : "without_rowid"), list);
  }
  return list;
}

ERL_NIF_TERM make_create(ErlNifEnv* env, ERL_NIF_TERM source, std::string_view sql,
                         const sql::CreateStatement& create) {
  ERL_NIF_TERM head = atoms::nil;
  ERL_NIF_TERM items = atoms::nil;
  ERL_NIF_TERM tail = atoms::nil;
  ERL_NIF_TERM table_options = atoms::nil;
  if (create.columns) {
    const auto [open, close] = *create.columns;
    head = enif_make_sub_binary(env, source, 0, open);
    tail = enif_make_sub_binary(env, source, close + 1, sql.size() - close - 1);
    std::vector<ERL_NIF_TERM> terms;
    terms.reserve(create.items.size());
    for (const sql::TableItem& item : create.items)
      terms.push_back(make_item(env, source, sql, item));
    items = enif_make_list_from_array(env, terms.data(), static_cast<unsigned>(terms.size()));
    table_options = options(env, create.options);
  }
  const auto boolean = [](bool b) { return b ? atoms::true_ : atoms::false_; };
  return make_map(env, {{"type", atom(env, object_name(create.kind))},
                        {"schema", string_or_nil(env, create.schema)},
                        {"name", make_binary(env, create.name)},
                        {"name_at", enif_make_tuple2(env, enif_make_uint64(env, create.name_offset),
                                                     enif_make_uint64(env, create.name_length))},
                        {"temporary", boolean(create.temporary)},
                        {"unique", boolean(create.unique)},
                        {"if_not_exists", boolean(create.if_not_exists)},
                        {"head", head},
                        {"items", items},
                        {"tail", tail},
                        {"options", table_options}});
}

// Text this long is read on a dirty scheduler (about a millisecond of work).
constexpr std::size_t kLongText = std::size_t{256} * 1024;

ERL_NIF_TERM parse_create_now(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    const std::string_view sql = binary_arg(env, argv[0]);
    std::string error;
    const auto create = sql::parse_create(sql, &error);
    if (!create) return enif_make_tuple2(env, atoms::error, make_binary(env, error));
    return make_ok(env, make_create(env, argv[0], sql, *create));
  });
}

}  // namespace

// parse_create(sql) -> {:ok, map} | {:error, reason}
ERL_NIF_TERM parse_create(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  ErlNifBinary bin;
  if (argc == 1 && enif_inspect_binary(env, argv[0], &bin) && bin.size > kLongText &&
      !on_dirty_scheduler()) {
    return reschedule_dirty(env, "parse_create", parse_create_now, argc, argv);
  }
  return parse_create_now(env, argc, argv);
}

}  // namespace ecto_libsql::nif
