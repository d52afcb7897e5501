// The term interface of param_decoder.hpp over erl_nif.
#pragma once

#include <erl_nif.h>

#include <string>
#include <string_view>

#include "atoms.hpp"
#include "ecto_libsql/error.hpp"
#include "param_decoder.hpp"

namespace ecto_libsql::nif {

class EnifTerms {
 public:
  using Term = ERL_NIF_TERM;
  explicit EnifTerms(ErlNifEnv* env) : env_(env) {}

  TermKind kind(Term t) const {
    switch (enif_term_type(env_, t)) {
      case ERL_NIF_TERM_TYPE_INTEGER:
        return TermKind::Integer;
      case ERL_NIF_TERM_TYPE_FLOAT:
        return TermKind::Float;
      case ERL_NIF_TERM_TYPE_BITSTRING:
        // A bitstring that is not whole bytes fails get_binary(), and so the decoder.
        return TermKind::Binary;
      case ERL_NIF_TERM_TYPE_ATOM:
        return TermKind::Atom;
      case ERL_NIF_TERM_TYPE_TUPLE:
        return TermKind::Tuple;
      case ERL_NIF_TERM_TYPE_LIST:
        return TermKind::List;
      case ERL_NIF_TERM_TYPE_MAP:
        return TermKind::Map;
      default:
        return TermKind::Other;
    }
  }
  bool is_atom(Term t, std::string_view name) const {
    // Atoms are immediate terms: the names the decoder asks about most compare as words.
    if (name == "nil") return t == atoms::nil;
    if (name == "blob") return t == atoms::blob;
    if (name == "true") return t == atoms::true_;
    if (name == "false") return t == atoms::false_;
    if (name == "inf") return t == atoms::inf;
    if (name == "-inf") return t == atoms::neg_inf;
    if (name == "null") return t == atoms::null;
    char buf[16];
    if (name.size() >= sizeof(buf) || !enif_is_atom(env_, t)) return false;
    const int n = enif_get_atom(env_, t, buf, sizeof(buf), ERL_NIF_LATIN1);
    return n > 0 && std::string_view(buf, static_cast<std::size_t>(n - 1)) == name;
  }
  // Plain maps (sent as JSON) and the structs EctoLibSql.Params encodes as text.
  bool encoded_in_elixir(Term map) const {
    ERL_NIF_TERM module;
    if (!enif_get_map_value(env_, map, atoms::struct_, &module)) return true;
    return module == atoms::date_time_module || module == atoms::naive_date_time_module ||
           module == atoms::date_module || module == atoms::time_module ||
           module == atoms::decimal_module;
  }
  bool get_int64(Term t, std::int64_t& out) const {
    ErlNifSInt64 v = 0;
    if (!enif_get_int64(env_, t, &v)) return false;
    out = v;
    return true;
  }
  bool get_double(Term t, double& out) const { return enif_get_double(env_, t, &out) != 0; }
  bool get_binary(Term t, std::string_view& out) const {
    ErlNifBinary bin;
    if (!enif_inspect_binary(env_, t, &bin)) return false;
    out = std::string_view(reinterpret_cast<const char*>(bin.data), bin.size);
    return true;
  }
  bool get_tuple2(Term t, Term& a, Term& b) const {
    int arity = 0;
    const ERL_NIF_TERM* elems = nullptr;
    if (!enif_get_tuple(env_, t, &arity, &elems) || arity != 2) return false;
    a = elems[0];
    b = elems[1];
    return true;
  }
  std::size_t list_length(Term list) const {
    unsigned length = 0;
    return enif_get_list_length(env_, list, &length) ? length : 0;
  }
  bool list_next(Term& list, Term& head) const {
    Term tail;
    if (enif_get_list_cell(env_, list, &head, &tail)) {
      list = tail;
      return true;
    }
    if (!enif_is_empty_list(env_, list))
      throw Error(kCodeMisuse, "arguments must be a proper list");
    return false;
  }
  template <class F>
  void for_each_map_pair(Term map, F&& f) const {
    ErlNifMapIterator it;
    if (!enif_map_iterator_create(env_, map, &it, ERL_NIF_MAP_ITERATOR_FIRST)) return;
    struct Destroy {
      ErlNifEnv* env;
      ErlNifMapIterator* it;
      ~Destroy() { enif_map_iterator_destroy(env, it); }
    } destroy{env_, &it};
    Term key;
    Term value;
    while (enif_map_iterator_get_pair(env_, &it, &key, &value)) {
      f(key, value);
      enif_map_iterator_next(env_, &it);
    }
  }
  // Atom text as UTF-8 (OTP 25 reads atoms as Latin-1 only).
  bool get_atom(Term t, std::string& out) const {
    unsigned len = 0;
    if (!enif_get_atom_length(env_, t, &len, ERL_NIF_LATIN1)) return false;
    std::string latin1(len + 1, '\0');
    const int n = enif_get_atom(env_, t, latin1.data(), len + 1, ERL_NIF_LATIN1);
    if (n <= 0) return false;
    latin1.resize(static_cast<std::size_t>(n - 1));
    out.clear();
    for (unsigned char c : latin1) {
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
    return true;
  }
  std::string describe(Term t) const {
    char buf[256];
    const int n = enif_snprintf(buf, sizeof(buf), "%T", t);
    if (n < 0) return "a term";
    std::string out(buf, static_cast<std::size_t>(std::min<int>(n, sizeof(buf) - 1)));
    if (n >= static_cast<int>(sizeof(buf))) out += "...";
    return out;
  }

 private:
  ErlNifEnv* env_;
};

}  // namespace ecto_libsql::nif
