// URLs of remote servers and the values sent in request headers.
#include "url.hpp"

namespace ecto_libsql::remote {

namespace {

constexpr std::string_view kRedacted = "<redacted>";

bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding, as libSQL's clients read URL queries.
std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        throw Error(kCodeMisuse,
                    "Failed to connect: the URL's query has an invalid percent encoding");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool scheme_is(std::string_view scheme, std::string_view name) noexcept {
  if (scheme.size() != name.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = scheme[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != name[i]) return false;
  }
  return true;
}

}  // namespace

std::string redact_url(std::string_view uri) {
  std::string out;
  const std::size_t scheme_end = uri.find("://");
  std::string_view rest = uri;
  if (scheme_end != std::string_view::npos) {
    out = std::string(uri.substr(0, scheme_end + 3));
    rest = uri.substr(scheme_end + 3);
  }
  const std::size_t query = rest.find_first_of("?#");
  std::string_view before_query = rest.substr(0, query);
  const std::size_t slash = before_query.find('/');
  std::string_view authority = before_query.substr(0, slash);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    out += kRedacted;
    out += '@';
    authority = authority.substr(at + 1);
  }
  out += authority;
  if (slash != std::string_view::npos) out += before_query.substr(slash);
  if (query != std::string_view::npos) {
    out += rest[query];
    out += kRedacted;
  }
  // Control characters are shown percent-encoded: a message stays one line.
  std::string shown;
  shown.reserve(out.size());
  for (const char c : out) {
    if (is_control(c)) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      const auto u = static_cast<unsigned char>(c);
      shown += '%';
      shown += kHex[u >> 4];
      shown += kHex[u & 0xf];
    } else {
      shown += c;
    }
  }
  return shown;
}

void require_header_safe(std::string_view value, std::string_view what) {
  for (const char c : value) {
    if (is_control(c)) {
      throw Error(kCodeMisuse, std::string(what) +
                                   " contains a control character (CR, LF or another below "
                                   "0x20, or DEL), which would corrupt the request: refused");
    }
  }
}

Url parse_url(std::string_view uri) {
  for (const char c : uri) {
    if (is_control(c) || c == ' ') {
      throw Error(kCodeMisuse,
                  "Failed to connect: the URL contains a space or a control character (CR, LF "
                  "...): refused");
    }
  }
  Url url;
  const std::size_t scheme_end = uri.find("://");
  const std::string_view scheme =
      scheme_end == std::string_view::npos ? std::string_view() : uri.substr(0, scheme_end);
  const bool libsql = scheme_is(scheme, "libsql");
  if (libsql || scheme_is(scheme, "https")) {
    url.tls = true;
  } else if (scheme_is(scheme, "http")) {
    url.tls = false;
  } else if (scheme_is(scheme, "wss")) {
    url.tls = true;
    url.websocket = true;
  } else if (scheme_is(scheme, "ws")) {
    url.websocket = true;
  } else {
    throw Error(kCodeMisuse, "Failed to connect: unsupported URL scheme in '" + redact_url(uri) +
                                 "' (use libsql://, https://, http://, wss:// or ws://)");
  }
  std::string_view rest = uri.substr(scheme_end + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    throw Error(kCodeMisuse, "Failed to connect: URL fragments ('#...') are not supported");
  }
  std::optional<bool> tls_param;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      const std::size_t eq = pair.find('=');
      const std::string key = form_decode(pair.substr(0, eq));
      const std::string value =
          eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
      if (key == "authToken") {
        url.auth_token = value;
      } else if (key == "tls") {
        if (value != "0" && value != "1") {
          throw Error(kCodeMisuse, "Failed to connect: the URL's tls parameter must be 0 or 1");
        }
        tls_param = value == "1";
      } else {
        // Not named: a misplaced secret would be printed.
        throw Error(kCodeMisuse,
                    "Failed to connect: the URL has an unsupported query parameter (libSQL URLs "
                    "take authToken and tls)");
      }
    }
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/')
      path.remove_suffix(1);
    url.path = std::string(path);
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw Error(kCodeMisuse, "Failed to connect: bad URL");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw Error(kCodeMisuse, "Failed to connect: bad URL");
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw Error(kCodeMisuse, "Failed to connect: no host in URL");
  if (!port.empty() &&
      (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
       std::stoi(std::string(port)) > 65535)) {
    throw Error(kCodeMisuse, "Failed to connect: the URL's port is not a number up to 65535");
  }
  if (libsql && tls_param == false) {
    if (port.empty()) {
      throw Error(kCodeMisuse,
                  "Failed to connect: a libsql:// URL with ?tls=0 must give an explicit port");
    }
    url.tls = false;
  }
  url.host = std::string(host);
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string(port);
  return url;
}

}  // namespace ecto_libsql::remote
