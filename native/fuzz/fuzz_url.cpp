// Remote URLs and header values as users (and servers, through base_url) give them: parse_url,
// redact_url and require_header_safe. Besides not crashing: a parsed URL holds no control
// character, space or '@' in its host, a numeric port and no query in its path; messages never
// hold the URL's user info or query, nor a refused header value; redact_url keeps neither.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "invariant.hpp"
#include "remote/url.hpp"

namespace {

using namespace ecto_libsql;
using fuzz::check;

bool has_control(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Replaces every occurrence of `part` in `text` by a separator.
void blank_out(std::string& text, std::string_view part) {
  for (std::size_t at = 0; !part.empty() && (at = text.find(part)) != std::string::npos;)
    text.replace(at, part.size(), "\x01");
}

// The fixed text of url.cpp's messages, which a secret may happen to spell.
constexpr std::string_view kFixedText[] = {
    "Failed to connect: ",
    "the URL contains a space or a control character (CR, LF ...): refused",
    "unsupported URL scheme in '",
    "' (use libsql://, https://, http://, wss:// or ws://)",
    "URL fragments ('#...') are not supported",
    "the URL's query has an invalid percent encoding",
    "the URL's tls parameter must be 0 or 1",
    "the URL has an unsupported query parameter (libSQL URLs take authToken and tls)",
    "bad URL",
    "no host in URL",
    "the URL's port is not a number up to 65535",
    "a libsql:// URL with ?tls=0 must give an explicit port",
    "auth_token contains a control character (CR, LF or another below 0x20, or DEL), which would",
    "corrupt the request: refused",
};

// The parts of `uri` that must never be printed: user info and the query, when long enough
// not to occur in a message by chance. The redacted URL, which a message may quote, and the
// messages' fixed text are taken out of `text` first.
void check_secret_free(std::string_view uri, std::string text) {
  blank_out(text, remote::redact_url(uri));
  for (const std::string_view fixed : kFixedText)
    blank_out(text, fixed);
  const std::size_t scheme = uri.find("://");
  const std::string_view rest = scheme == std::string_view::npos ? uri : uri.substr(scheme + 3);
  const std::size_t q = rest.find_first_of("?#");
  if (q != std::string_view::npos && rest.size() - q > 12) {
    check(text.find(rest.substr(q + 1)) == std::string::npos, "query printed");
  }
  const std::string_view authority = rest.substr(0, std::min(q, rest.find('/')));
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos && at >= 12) {
    check(text.find(authority.substr(0, at)) == std::string::npos, "user info printed");
  }
}

// redact_url keeps the scheme, host, port and path; user info and query become "<redacted>".
void check_redacted(std::string_view uri, std::string_view redacted) {
  check(!has_control(redacted), "control character in a redacted URL");
  const std::size_t scheme = redacted.find("://");
  const std::string_view rest =
      scheme == std::string_view::npos ? redacted : redacted.substr(scheme + 3);
  const std::size_t q = rest.find_first_of("?#");
  if (q != std::string_view::npos) {
    check(rest.substr(q + 1) == "<redacted>", "query kept by redact_url");
  }
  const std::string_view authority = rest.substr(0, std::min(q, rest.find('/')));
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    check(authority.substr(0, at) == "<redacted>", "user info kept by redact_url");
  }
  check(redacted.size() <= std::size_t{3} * uri.size() + 20, "redact_url grew the URL");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  check_redacted(input, remote::redact_url(input));

  try {
    const remote::Url url = remote::parse_url(input);
    check(!url.host.empty(), "empty host");
    check(!has_control(url.host) && !has_control(url.path) && !has_control(url.port),
          "control character in a parsed URL");
    check(url.host.find_first_of(" @/?#") == std::string::npos, "separator in the host");
    check(!url.port.empty() && url.port.size() <= 5 &&
              url.port.find_first_not_of("0123456789") == std::string::npos,
          "port not numeric");
    check(url.path.find_first_of("?#") == std::string::npos, "query in the path");
    check(url.path.empty() || url.path.front() == '/', "path without a leading slash");
    if (url.auth_token) {
      try {
        remote::require_header_safe(*url.auth_token, "auth_token");
      } catch (const Error& e) {
        check(has_control(*url.auth_token), "safe token refused");
        check(std::string_view(e.message()).find(*url.auth_token) == std::string_view::npos,
              "refused token printed");
      }
    }
  } catch (const Error& e) {
    check(!e.message().empty(), "empty message");
    check_secret_free(input, std::string(e.message()));
  }

  try {
    remote::require_header_safe(input, "auth_token");
    check(!has_control(input), "control character accepted in a header value");
  } catch (const Error& e) {
    check(has_control(input), "header value refused without a control character");
    check(std::string_view(e.message()).find(input) == std::string_view::npos,
          "refused header value printed");
  }
  return 0;
}
