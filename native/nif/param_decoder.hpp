// Turns the arguments of a query (a list, or a map for named parameters) into engine Params.
// Written against a small term interface so that the same code runs in the NIF (over erl_nif)
// and in the fuzz target (over terms parsed from the external term format).
#pragma once

#include <cstdint>
#include <limits>
#include <list>
#include <string>
#include <string_view>

#include "ecto_libsql/error.hpp"
#include "ecto_libsql/value.hpp"

namespace ecto_libsql::nif {

// Storage for bytes the decoded Params point into but no term holds (byte lists, atom names).
// A list: elements never move, and an empty one allocates nothing.
using Arena = std::list<std::string>;

[[noreturn]] inline void unsupported_argument(const std::string& description) {
  throw Error(kCodeMisuse, "unsupported argument type: " + description +
                               " (expected nil, a boolean, a 64-bit integer, a float, a "
                               "binary or {:blob, binary})");
}

// Thrown for a value the Elixir side turns into a bindable one (a date, time or decimal struct,
// a plain map as JSON, `:null`): the caller encodes the arguments and calls again. Arguments are
// sent as given first, so the common case pays for no walk over them in Elixir.
struct NeedsEncoding {};

// Terms must provide: a Term type; kind(term) -> TermKind; get_int64; get_double;
// get_binary(term, string_view&); get_tuple2(term, a, b); is_atom(term, name);
// list_next(list&, head&) (false at the end, throws if `list` is not a proper list);
// list_length(list) (0 when it is not a proper list);
// for_each_map_pair(term, f(key, value)); get_atom(term, std::string&); describe(term);
// encoded_in_elixir(map) (true for the maps NeedsEncoding is for).
enum class TermKind { Integer, Float, Binary, Atom, Tuple, List, Map, Other };

template <class Terms>
ParamValue decode_value(Terms& terms, typename Terms::Term term, Arena& arena) {
  switch (terms.kind(term)) {
    case TermKind::Integer: {
      std::int64_t i = 0;
      if (terms.get_int64(term, i)) return i;
      throw Error(kCodeRange, "integer out of 64-bit range: " + terms.describe(term) +
                                  " (SQLite stores signed 64-bit integers; pass larger numbers "
                                  "as text)");
    }
    case TermKind::Float: {
      double d = 0;
      terms.get_double(term, d);
      return d;
    }
    case TermKind::Binary: {
      std::string_view bytes;
      if (!terms.get_binary(term, bytes)) break;  // a bitstring that is not whole bytes
      if (is_valid_utf8(bytes)) return bytes;
      return BlobView{std::as_bytes(std::span<const char>(bytes.data(), bytes.size()))};
    }
    case TermKind::Atom:
      if (terms.is_atom(term, "nil")) return Null{};
      if (terms.is_atom(term, "true")) return std::int64_t{1};
      if (terms.is_atom(term, "false")) return std::int64_t{0};
      // What results answer for SQLite's infinities (Erlang floats have none).
      if (terms.is_atom(term, "inf")) return std::numeric_limits<double>::infinity();
      if (terms.is_atom(term, "-inf")) return -std::numeric_limits<double>::infinity();
      if (terms.is_atom(term, "null")) throw NeedsEncoding{};
      break;
    case TermKind::Map:
      if (terms.encoded_in_elixir(term)) throw NeedsEncoding{};
      break;
    case TermKind::Tuple: {
      typename Terms::Term tag;
      typename Terms::Term payload;
      if (!terms.get_tuple2(term, tag, payload) || !terms.is_atom(tag, "blob")) break;
      std::string_view bytes;
      if (terms.get_binary(payload, bytes)) {
        return BlobView{std::as_bytes(std::span<const char>(bytes.data(), bytes.size()))};
      }
      if (terms.kind(payload) != TermKind::List) break;
      std::string& owned = arena.emplace_back();
      typename Terms::Term head;
      while (terms.list_next(payload, head)) {
        std::int64_t byte = 0;
        if (!terms.get_int64(head, byte) || byte < 0 || byte > 255) {
          unsupported_argument("{:blob, list} whose elements are not bytes");
        }
        owned.push_back(static_cast<char>(byte));
      }
      return BlobView{std::as_bytes(std::span<const char>(owned.data(), owned.size()))};
    }
    default:
      break;
  }
  unsupported_argument(terms.describe(term));
}

// The name of a named parameter's key: a string, or an atom's name (kept in `arena`). False
// for a key of another type.
template <class Terms>
bool decode_key(Terms& terms, typename Terms::Term key, Arena& arena, std::string_view& name,
                bool& atom) {
  atom = false;
  if (terms.get_binary(key, name)) return true;
  std::string& owned = arena.emplace_back();
  if (!terms.get_atom(key, owned)) return false;
  name = owned;
  atom = true;
  return true;
}

// Decodes into `params`, reusing its storage (a hot loop of one statement allocates nothing).
template <class Terms>
void decode_params_into(Terms& terms, typename Terms::Term args, Arena& arena, Params& params) {
  params.positional.clear();
  params.named.clear();
  params.is_named = false;
  params.borrowed = false;
  const TermKind kind = terms.kind(args);
  if (kind == TermKind::List) {
    params.positional.reserve(terms.list_length(args));
    typename Terms::Term head;
    while (terms.list_next(args, head)) {
      params.positional.push_back(decode_value(terms, head, arena));
    }
    return;
  }
  if (kind == TermKind::Map) {
    params.is_named = true;
    terms.for_each_map_pair(args, [&](typename Terms::Term key, typename Terms::Term value) {
      std::string_view name;
      bool atom = false;
      if (!decode_key(terms, key, arena, name, atom)) {
        throw Error(kCodeMisuse,
                    "named parameter keys must be atoms or strings, got: " + terms.describe(key));
      }
      params.named.push_back(NamedParam{name, decode_value(terms, value, arena), atom});
    });
    return;
  }
  throw Error(kCodeMisuse, "arguments must be a list or map, got: " + terms.describe(args));
}

template <class Terms>
Params decode_params(Terms& terms, typename Terms::Term args, Arena& arena) {
  Params params;
  decode_params_into(terms, args, arena, params);
  return params;
}

}  // namespace ecto_libsql::nif
