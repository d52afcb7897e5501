// The few protobuf wire-format pieces the sync protocols need (Turso's pull-updates, libSQL's
// gRPC replication log), encoded and decoded by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ecto_libsql::replica::proto {

// Thrown through `fail`, which must not return.
using FailFn = std::function<void(const std::string&)>;

void put_varint(std::string& out, std::uint64_t v);
void put_tag(std::string& out, std::uint32_t field, std::uint32_t wire_type);
void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes);
void put_uint(std::string& out, std::uint32_t field, std::uint64_t v);

class Reader {
 public:
  // `fail` is called (and must throw) on malformed input.
  Reader(std::string_view data, const FailFn* fail) : data_(data), fail_(fail) {}
  [[nodiscard]] bool done() const noexcept { return pos_ >= data_.size(); }
  std::uint64_t varint();
  std::string_view bytes(std::uint64_t n);
  // A length-delimited field's content.
  std::string_view delimited() { return bytes(varint()); }
  // Skips a field of `wire_type` whose tag was read.
  void skip(std::uint64_t wire_type);

 private:
  [[noreturn]] void malformed(const std::string& what) const;
  std::string_view data_;
  std::size_t pos_ = 0;
  const FailFn* fail_;
};

}  // namespace ecto_libsql::replica::proto
