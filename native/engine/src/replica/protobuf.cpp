#include "replica/protobuf.hpp"

#include <stdexcept>

namespace ecto_libsql::replica::proto {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, std::uint32_t field, std::uint32_t wire_type) {
  put_varint(out, (std::uint64_t{field} << 3) | wire_type);
}

void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

void put_uint(std::string& out, std::uint32_t field, std::uint64_t v) {
  put_tag(out, field, 0);
  put_varint(out, v);
}

void Reader::malformed(const std::string& what) const {
  (*fail_)(what);
  throw std::logic_error("protobuf: the failure handler returned");
}

std::uint64_t Reader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) malformed("truncated varint");
    const auto byte = static_cast<unsigned char>(data_[pos_++]);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  malformed("varint too long");
}

std::string_view Reader::bytes(std::uint64_t n) {
  if (n > data_.size() - pos_) malformed("truncated field");
  std::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

void Reader::skip(std::uint64_t wire_type) {
  switch (wire_type) {
    case 0:
      varint();
      break;
    case 1:
      bytes(8);
      break;
    case 2:
      bytes(varint());
      break;
    case 5:
      bytes(4);
      break;
    default:
      malformed("unknown wire type " + std::to_string(wire_type));
  }
}

}  // namespace ecto_libsql::replica::proto
