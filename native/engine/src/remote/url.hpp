// URLs of remote servers (libsql://, https://, http://, wss://, ws://) and the values sent in
// request headers: parsed and checked here, redacted for messages. No network code: the fuzz
// target fuzz_url reaches all of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql::remote {

struct Url {
  bool tls = false;
  bool websocket = false;  // ws:// or wss://
  std::string host;
  std::string port;
  std::string path;  // prefix without a trailing '/', possibly empty
  // `?authToken=` of the URL (percent-decoded), which stands for the auth_token option, as in
  // libSQL's clients.
  std::optional<std::string> auth_token;
};

// Parses libsql://, https://, http://, wss://, ws:// (libsql:// means https://, or http:// with
// `?tls=0` and an explicit port). The query may hold `authToken` and `tls` (0 or 1), as
// libSQL's clients accept them; any other parameter, a fragment, a control character or a
// space is refused. Throws Error; messages never hold the URL's user info or query.
Url parse_url(std::string_view uri);

// `uri` for messages: user info, query and fragment replaced by "<redacted>".
std::string redact_url(std::string_view uri);

// Throws Error(kCodeMisuse) when `value`, sent in a request line or header, holds a control
// character (CR, LF, NUL, DEL ...): it would end the header and start another. `what` names
// the value in the message; the value itself is never printed.
void require_header_safe(std::string_view value, std::string_view what);

}  // namespace ecto_libsql::remote
