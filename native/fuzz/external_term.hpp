// A reader of Erlang's external term format (what :erlang.term_to_binary/1 writes) into a small
// term tree, and the term interface of param_decoder.hpp over it. Fuzz targets use it to drive
// the NIF's argument decoding with the terms a VM could pass, seeds written by Elixir itself.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "param_decoder.hpp"

namespace ecto_libsql::fuzz {

struct TermNode {
  nif::TermKind kind = nif::TermKind::Other;
  bool fits_int64 = false;                // Integer: whether `integer` holds the value
  std::int64_t integer = 0;               // Integer
  double number = 0;                      // Float
  std::string bytes;                      // Binary contents, atom name (UTF-8)
  std::vector<const TermNode*> elements;  // Tuple elements, list cells, map keys and values
  const TermNode* tail = nullptr;         // List: the tail after `elements` (nil when proper)
};

// Parses one term; nullopt on any malformed, truncated or unsupported input.
class ExternalTermReader {
 public:
  static constexpr int kMaxDepth = 64;

  const TermNode* parse(std::string_view data) {
    data_ = data;
    pos_ = 0;
    std::uint8_t version = 0;
    if (!byte(version) || version != 131) return nullptr;
    const TermNode* term = node(0);
    return (term != nullptr && pos_ == data_.size()) ? term : nullptr;
  }

 private:
  bool byte(std::uint8_t& out) {
    if (pos_ >= data_.size()) return false;
    out = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool be(std::uint64_t& out, int width) {
    if (data_.size() - pos_ < static_cast<std::size_t>(width)) return false;
    out = 0;
    for (int i = 0; i < width; ++i)
      out = (out << 8) | static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool take(std::string& out, std::uint64_t length) {
    if (data_.size() - pos_ < length) return false;
    out.assign(data_.substr(pos_, length));
    pos_ += length;
    return true;
  }
  TermNode& make(nif::TermKind kind) {
    TermNode& n = nodes_.emplace_back();
    n.kind = kind;
    return n;
  }
  const TermNode* nil() { return &make(nif::TermKind::List); }

  static std::string latin1_to_utf8(const std::string& latin1) {
    std::string out;
    for (unsigned char c : latin1) {
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
    return out;
  }

  const TermNode* big(std::uint64_t digits) {
    std::uint8_t sign = 0;
    std::string magnitude;
    if (!byte(sign) || sign > 1 || !take(magnitude, digits)) return nullptr;
    TermNode& n = make(nif::TermKind::Integer);
    // Little-endian magnitude; it fits when it is below 2^63 (or equals 2^63 when negative).
    std::size_t significant = magnitude.size();
    while (significant > 0 && magnitude[significant - 1] == 0)
      --significant;
    if (significant > 8) return &n;
    std::uint64_t value = 0;
    for (std::size_t i = significant; i > 0; --i)
      value = (value << 8) | static_cast<std::uint8_t>(magnitude[i - 1]);
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
    if (sign == 0 && value < kLimit) {
      n.fits_int64 = true;
      n.integer = static_cast<std::int64_t>(value);
    } else if (sign == 1 && value <= kLimit) {
      n.fits_int64 = true;
      n.integer = value == kLimit ? INT64_MIN : -static_cast<std::int64_t>(value);
    }
    return &n;
  }

  const TermNode* sequence(nif::TermKind kind, std::uint64_t count, int depth) {
    if (count > data_.size() - pos_) return nullptr;  // every element takes at least a byte
    TermNode& n = make(kind);
    n.elements.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      const TermNode* element = node(depth + 1);
      if (element == nullptr) return nullptr;
      n.elements.push_back(element);
    }
    return &n;
  }

  const TermNode* node(int depth) {
    if (depth > kMaxDepth) return nullptr;
    std::uint8_t tag = 0;
    std::uint64_t length = 0;
    if (!byte(tag)) return nullptr;
    switch (tag) {
      case 97: {  // SMALL_INTEGER_EXT
        if (!be(length, 1)) return nullptr;
        TermNode& n = make(nif::TermKind::Integer);
        n.fits_int64 = true;
        n.integer = static_cast<std::int64_t>(length);
        return &n;
      }
      case 98: {  // INTEGER_EXT
        if (!be(length, 4)) return nullptr;
        TermNode& n = make(nif::TermKind::Integer);
        n.fits_int64 = true;
        n.integer = static_cast<std::int32_t>(static_cast<std::uint32_t>(length));
        return &n;
      }
      case 110:  // SMALL_BIG_EXT
        return be(length, 1) ? big(length) : nullptr;
      case 111:  // LARGE_BIG_EXT
        return be(length, 4) ? big(length) : nullptr;
      case 70: {  // NEW_FLOAT_EXT
        if (!be(length, 8)) return nullptr;
        TermNode& n = make(nif::TermKind::Float);
        std::memcpy(&n.number, &length, sizeof n.number);
        if (n.number != n.number) return nullptr;  // the VM has no NaN
        return &n;
      }
      case 100:    // ATOM_EXT (Latin-1)
      case 115:    // SMALL_ATOM_EXT (Latin-1)
      case 118:    // ATOM_UTF8_EXT
      case 119: {  // SMALL_ATOM_UTF8_EXT
        if (!be(length, (tag == 115 || tag == 119) ? 1 : 2) || length > std::uint64_t{255} * 4)
          return nullptr;
        TermNode& n = make(nif::TermKind::Atom);
        if (!take(n.bytes, length)) return nullptr;
        if (tag == 100 || tag == 115) n.bytes = latin1_to_utf8(n.bytes);
        return &n;
      }
      case 109: {  // BINARY_EXT
        if (!be(length, 4)) return nullptr;
        TermNode& n = make(nif::TermKind::Binary);
        return take(n.bytes, length) ? &n : nullptr;
      }
      case 77: {  // BIT_BINARY_EXT: a bitstring that is not a binary
        std::uint8_t bits = 0;
        std::string ignored;
        if (!be(length, 4) || !byte(bits) || !take(ignored, length)) return nullptr;
        return &make(nif::TermKind::Other);
      }
      case 104:  // SMALL_TUPLE_EXT
        return be(length, 1) ? sequence(nif::TermKind::Tuple, length, depth) : nullptr;
      case 105:  // LARGE_TUPLE_EXT
        return be(length, 4) ? sequence(nif::TermKind::Tuple, length, depth) : nullptr;
      case 106:  // NIL_EXT
        return nil();
      case 107: {  // STRING_EXT: a list of small integers
        std::string chars;
        if (!be(length, 2) || !take(chars, length)) return nullptr;
        TermNode& n = make(nif::TermKind::List);
        for (unsigned char c : chars) {
          TermNode& element = make(nif::TermKind::Integer);
          element.fits_int64 = true;
          element.integer = c;
          n.elements.push_back(&element);
        }
        n.tail = nil();
        return &n;
      }
      case 108: {  // LIST_EXT: elements, then the tail
        if (!be(length, 4)) return nullptr;
        TermNode* n = const_cast<TermNode*>(sequence(nif::TermKind::List, length, depth));
        if (n == nullptr) return nullptr;
        n->tail = node(depth + 1);
        return n->tail != nullptr ? n : nullptr;
      }
      case 116: {  // MAP_EXT: keys and values alternate
        if (!be(length, 4) || length > (data_.size() - pos_) / 2) return nullptr;
        return sequence(nif::TermKind::Map, length * 2, depth);
      }
      default:  // pids, references, funs, ports...: terms the decoder must refuse
        return nullptr;
    }
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  std::deque<TermNode> nodes_;  // stable addresses
};

// The interface param_decoder.hpp expects. A List term is walked as a (node, index) cursor.
class ExternalTerms {
 public:
  struct Term {
    const TermNode* node = nullptr;
    std::size_t index = 0;  // for lists: the first element still ahead
  };

  static nif::TermKind kind(Term t) {
    if (t.node->kind == nif::TermKind::List && t.index == t.node->elements.size() &&
        t.node->tail != nullptr) {
      return kind(Term{t.node->tail, 0});
    }
    return t.node->kind;
  }
  static bool is_atom(Term t, std::string_view name) {
    return t.node->kind == nif::TermKind::Atom && t.node->bytes == name;
  }
  static bool get_int64(Term t, std::int64_t& out) {
    if (t.node->kind != nif::TermKind::Integer || !t.node->fits_int64) return false;
    out = t.node->integer;
    return true;
  }
  static bool get_double(Term t, double& out) {
    if (t.node->kind != nif::TermKind::Float) return false;
    out = t.node->number;
    return true;
  }
  static bool get_binary(Term t, std::string_view& out) {
    if (t.node->kind != nif::TermKind::Binary) return false;
    out = t.node->bytes;
    return true;
  }
  static bool get_tuple2(Term t, Term& a, Term& b) {
    if (t.node->kind != nif::TermKind::Tuple || t.node->elements.size() != 2) return false;
    a = Term{t.node->elements[0], 0};
    b = Term{t.node->elements[1], 0};
    return true;
  }
  // Follows tails that are themselves lists, as the VM's cons cells do.
  static bool list_next(Term& list, Term& head) {
    while (list.node->kind == nif::TermKind::List) {
      if (list.index < list.node->elements.size()) {
        head = Term{list.node->elements[list.index], 0};
        ++list.index;
        return true;
      }
      if (list.node->tail == nullptr) return false;  // nil
      list = Term{list.node->tail, 0};
    }
    throw Error(kCodeMisuse, "arguments must be a proper list");
  }
  static std::size_t list_length(Term list) {
    std::size_t length = 0;
    while (list.node->kind == nif::TermKind::List) {
      length += list.node->elements.size() - list.index;
      if (list.node->tail == nullptr) return length;
      list = Term{list.node->tail, 0};
    }
    return 0;
  }
  template <class F>
  static void for_each_map_pair(Term map, F&& f) {
    const auto& e = map.node->elements;
    for (std::size_t i = 0; i + 1 < e.size(); i += 2)
      f(Term{e[i], 0}, Term{e[i + 1], 0});
  }
  // As the NIF: plain maps and the structs EctoLibSql.Params encodes as text.
  static bool encoded_in_elixir(Term map) {
    const auto& e = map.node->elements;
    for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
      if (e[i]->kind != nif::TermKind::Atom || e[i]->bytes != "__struct__") continue;
      if (e[i + 1]->kind != nif::TermKind::Atom) return false;
      const std::string& m = e[i + 1]->bytes;
      return m == "Elixir.DateTime" || m == "Elixir.NaiveDateTime" || m == "Elixir.Date" ||
             m == "Elixir.Time" || m == "Elixir.Decimal";
    }
    return true;
  }
  static bool get_atom(Term t, std::string& out) {
    if (t.node->kind != nif::TermKind::Atom) return false;
    out = t.node->bytes;
    return true;
  }
  static std::string describe(Term t) {
    switch (kind(t)) {
      case nif::TermKind::Integer:
        return t.node->fits_int64 ? std::to_string(t.node->integer) : "a big integer";
      case nif::TermKind::Atom:
        return ":" + t.node->bytes;
      case nif::TermKind::Tuple:
        return "a tuple";
      case nif::TermKind::Map:
        return "a map";
      case nif::TermKind::List:
        return "a list";
      default:
        return "a term";
    }
  }
};

}  // namespace ecto_libsql::fuzz
