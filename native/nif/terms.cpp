#include "terms.hpp"

#include <cmath>

#include "atoms.hpp"

namespace ecto_libsql::nif {

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view bytes) {
  ERL_NIF_TERM term;
  unsigned char* data = enif_make_new_binary(env, bytes.size(), &term);
  if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  return term;
}

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::span<const std::byte> bytes) {
  return make_binary(env,
                     std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

ERL_NIF_TERM make_columns(ErlNifEnv* env, const RowReader& reader) {
  const int n = reader.column_count();
  // Built from the end: no buffer, whatever the number of columns.
  ERL_NIF_TERM list = enif_make_list(env, 0);
  for (int i = n - 1; i >= 0; --i)
    list = enif_make_list_cell(env, make_binary(env, reader.column_name(i)), list);
  return list;
}

ERL_NIF_TERM make_row(ErlNifEnv* env, const RowReader& reader, int columns) {
  constexpr int kStack = 32;
  if (columns <= kStack) {
    ERL_NIF_TERM cells[kStack];
    for (int i = 0; i < columns; ++i)
      cells[i] = make_cell(env, reader, i);
    return enif_make_list_from_array(env, cells, static_cast<unsigned>(columns));
  }
  std::vector<ERL_NIF_TERM> cells(static_cast<std::size_t>(columns));
  for (int i = 0; i < columns; ++i)
    cells[static_cast<std::size_t>(i)] = make_cell(env, reader, i);
  return enif_make_list_from_array(env, cells.data(), static_cast<unsigned>(columns));
}

ERL_NIF_TERM command_atom(sql::Command command) {
  switch (command) {
    case sql::Command::Select:
      return atoms::select;
    case sql::Command::Insert:
      return atoms::insert;
    case sql::Command::Update:
      return atoms::update;
    case sql::Command::Delete:
      return atoms::delete_;
    case sql::Command::Begin:
      return atoms::begin;
    case sql::Command::Commit:
      return atoms::commit;
    case sql::Command::Rollback:
      return atoms::rollback;
    case sql::Command::Create:
      return atoms::create;
    case sql::Command::Pragma:
      return atoms::pragma;
    case sql::Command::Savepoint:
      return atoms::savepoint;
    case sql::Command::Release:
      return atoms::release;
    case sql::Command::Unknown:
      break;
  }
  return atoms::unknown;
}

ERL_NIF_TERM make_result(ErlNifEnv* env, ERL_NIF_TERM command, ERL_NIF_TERM columns,
                         ERL_NIF_TERM rows, ERL_NIF_TERM num_rows) {
  ERL_NIF_TERM keys[] = {atoms::struct_, atoms::command, atoms::columns, atoms::rows,
                         atoms::num_rows};
  ERL_NIF_TERM values[] = {atoms::result_module, command, columns, rows, num_rows};
  ERL_NIF_TERM map;
  enif_make_map_from_arrays(env, keys, values, 5, &map);
  return map;
}

namespace {

ERL_NIF_TERM make_atom(ErlNifEnv* env, std::string_view name) {
  return enif_make_atom_len(env, name.data(), name.size());
}

ERL_NIF_TERM error_tuple(ErlNifEnv* env, int code, std::string_view message, ERL_NIF_TERM remote,
                         ERL_NIF_TERM constraint) {
  ERL_NIF_TERM parts[] = {atoms::ecto_libsql_error,
                          enif_make_int(env, code),
                          make_atom(env, primary_code_name(code)),
                          make_atom(env, extended_code_name(code)),
                          make_binary(env, message),
                          remote,
                          constraint};
  return enif_make_tuple2(env, atoms::error, enif_make_tuple_from_array(env, parts, 7));
}

}  // namespace

ERL_NIF_TERM make_error(ErlNifEnv* env, int code, std::string_view message) {
  return error_tuple(env, code, message, atoms::nil, atoms::nil);
}

ERL_NIF_TERM make_error(ErlNifEnv* env, const Error& error) {
  const ERL_NIF_TERM remote =
      error.remote_code().empty() ? atoms::nil : make_binary(env, error.remote_code());
  const std::optional<Constraint>& constraint = error.constraint();
  const ERL_NIF_TERM constraint_term =
      constraint ? enif_make_tuple2(env, make_atom(env, constraint_kind_name(constraint->kind)),
                                    make_binary(env, constraint->name))
                 : atoms::nil;
  return error_tuple(env, error.code(), error.message(), remote, constraint_term);
}

ERL_NIF_TERM make_ok(ErlNifEnv* env, ERL_NIF_TERM value) {
  return enif_make_tuple2(env, atoms::ok, value);
}

}  // namespace ecto_libsql::nif
