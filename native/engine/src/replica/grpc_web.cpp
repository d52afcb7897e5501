#include "replica/grpc_web.hpp"

#include <cctype>

#include "ecto_libsql/error.hpp"
#include "remote/hrana_json.hpp"
#include "replica/protobuf.hpp"

namespace ecto_libsql::replica::grpc {
namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw Error(kCodeProtocol, "libSQL gRPC replication log: malformed answer: " + what);
}

const proto::FailFn kMalformed = [](const std::string& what) { malformed(what); };

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

void read_trailers(std::string_view block, Answer& answer) {
  while (!block.empty()) {
    const auto end = block.find('\n');
    const std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view() : block.substr(end + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = trim(line.substr(0, colon));
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string value = trim(line.substr(colon + 1));
    if (name == "grpc-status") {
      try {
        answer.status = std::stoi(value);
      } catch (const std::exception&) {
        malformed("grpc-status " + value);
      }
    } else if (name == "grpc-message") {
      answer.message = percent_decode(value);
    }
  }
}

}  // namespace

std::string frame_message(std::string_view message) {
  std::string out(5, '\0');
  const auto n = static_cast<std::uint32_t>(message.size());
  out[1] = static_cast<char>(n >> 24);
  out[2] = static_cast<char>(n >> 16);
  out[3] = static_cast<char>(n >> 8);
  out[4] = static_cast<char>(n);
  out += message;
  return out;
}

Answer read_answer(const remote::HttpResponse& response, std::string_view body) {
  Answer answer;
  // A trailers-only answer carries the status in the HTTP headers.
  std::string header_block;
  for (const auto& [name, value] : response.headers) {
    if (name == "grpc-status" || name == "grpc-message") {
      header_block.append(name).append(":").append(value).append("\n");
    }
  }
  read_trailers(header_block, answer);
  while (!body.empty()) {
    if (body.size() < 5) malformed("truncated frame header");
    const auto flags = static_cast<unsigned char>(body[0]);
    const auto* u = reinterpret_cast<const unsigned char*>(body.data() + 1);
    const std::uint32_t n = (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) |
                            (std::uint32_t{u[2]} << 8) | std::uint32_t{u[3]};
    if (n > body.size() - 5) malformed("truncated frame");
    const std::string_view payload = body.substr(5, n);
    body.remove_prefix(5 + std::size_t{n});
    if ((flags & 0x80) != 0) {
      read_trailers(payload, answer);
    } else if ((flags & 0x01) != 0) {
      malformed("compressed message");
    } else {
      answer.messages.push_back(payload);
    }
  }
  return answer;
}

std::string encode_hello_request() {
  std::string out;
  proto::put_uint(out, 1, 1);
  return out;
}

HelloResponse decode_hello_response(std::string_view message) {
  HelloResponse hello;
  proto::Reader r(message, &kMalformed);
  while (!r.done()) {
    const std::uint64_t tag = r.varint();
    const std::uint64_t field = tag >> 3;
    const std::uint64_t wire = tag & 7;
    if (field == 1 && wire == 2) {
      hello.generation_id = std::string(r.delimited());
    } else if (field == 2 && wire == 0) {
      hello.generation_start_index = r.varint();
    } else if (field == 3 && wire == 2) {
      hello.log_id = std::string(r.delimited());
    } else if (field == 4 && wire == 2) {
      hello.session_token = std::string(r.delimited());
    } else if (field == 5 && wire == 0) {
      hello.current_replication_index = r.varint();
    } else {
      r.skip(wire);
    }
  }
  if (hello.log_id.empty()) malformed("HelloResponse without a log_id");
  return hello;
}

std::string encode_log_offset(std::uint64_t next_offset) {
  std::string out;
  proto::put_uint(out, 1, next_offset);
  return out;
}

std::string_view decode_frame(std::string_view message) {
  proto::Reader r(message, &kMalformed);
  std::string_view data;
  bool seen = false;
  while (!r.done()) {
    const std::uint64_t tag = r.varint();
    if ((tag >> 3) == 1 && (tag & 7) == 2) {
      data = r.delimited();
      seen = true;
    } else {
      r.skip(tag & 7);
    }
  }
  if (!seen) malformed("Frame without data");
  return data;
}

std::vector<std::string_view> decode_frames(std::string_view message) {
  std::vector<std::string_view> frames;
  proto::Reader r(message, &kMalformed);
  while (!r.done()) {
    const std::uint64_t tag = r.varint();
    if ((tag >> 3) == 1 && (tag & 7) == 2) {
      frames.push_back(decode_frame(r.delimited()));
    } else {
      r.skip(tag & 7);
    }
  }
  return frames;
}

remote::HttpExtras call_headers(std::string_view host, const std::string& auth_token,
                                const std::string& session_token) {
  remote::HttpExtras extras;
  extras.authorization = false;
  extras.keep_headers = true;
  if (!auth_token.empty()) extras.headers.emplace_back("x-authorization", "Bearer " + auth_token);
  extras.headers.emplace_back("x-namespace-bin", namespace_metadata(host));
  extras.headers.emplace_back("x-libsql-client-version", "libsql-rpc-ecto_libsql");
  extras.headers.emplace_back("accept", std::string(kContentType));
  if (!session_token.empty()) extras.headers.emplace_back("x-session-token", session_token);
  return extras;
}

std::string namespace_metadata(std::string_view host) {
  const auto dot = host.find('.');
  std::string_view ns =
      dot == std::string_view::npos || dot == 0 ? std::string_view("default") : host.substr(0, dot);
  std::string encoded = remote::base64_encode(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(ns.data()), ns.size()));
  while (!encoded.empty() && encoded.back() == '=')
    encoded.pop_back();
  return encoded;
}

}  // namespace ecto_libsql::replica::grpc
