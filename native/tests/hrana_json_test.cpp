// Hrana JSON values, results and errors; remote URLs.
#include "remote/hrana_json.hpp"

#include <gtest/gtest.h>

#include "remote/http_client.hpp"

namespace ecto_libsql::remote {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> list) {
  std::vector<std::byte> out;
  for (int b : list)
    out.push_back(static_cast<std::byte>(b));
  return out;
}

TEST(HranaJson, Base64RoundTripsEveryLength) {
  std::vector<std::byte> data;
  for (int n = 0; n < 70; ++n) {
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << n;
    data.push_back(static_cast<std::byte>(n * 37));
  }
  EXPECT_EQ(base64_decode("/w"), bytes({0xFF}));  // unpadded, as servers send it
  EXPECT_EQ(base64_decode("/w=="), bytes({0xFF}));
  EXPECT_EQ(base64_encode(bytes({0xFF})), "/w==");
  EXPECT_THROW(base64_decode("a*b"), Error);
}

TEST(HranaJson, ValuesEncodeAsTheSpecSays) {
  EXPECT_EQ(json::serialize(encode_value(std::int64_t{-9223372036854775807 - 1})),
            R"({"type":"integer","value":"-9223372036854775808"})");
  EXPECT_EQ(json::serialize(encode_value(Null{})), R"({"type":"null"})");
  EXPECT_EQ(json::serialize(encode_value(1.5)), R"({"type":"float","value":1.5E0})");
  EXPECT_EQ(json::serialize(encode_value(std::string("é"))), R"({"type":"text","value":"é"})");
  EXPECT_EQ(json::serialize(encode_param(BlobView{bytes({0, 255})})),
            R"({"type":"blob","base64":"AP8="})");
}

TEST(HranaJson, ValuesDecode) {
  EXPECT_EQ(std::get<std::int64_t>(
                decode_value(json::parse(R"({"type":"integer","value":"9223372036854775807"})"))),
            std::int64_t{9223372036854775807});
  EXPECT_EQ(std::get<double>(decode_value(json::parse(R"({"type":"float","value":2})"))), 2.0);
  EXPECT_EQ(std::get<std::vector<std::byte>>(
                decode_value(json::parse(R"({"type":"blob","base64":"/w"})"))),
            bytes({0xFF}));
  EXPECT_TRUE(std::holds_alternative<Null>(decode_value(json::parse(R"({"type":"null"})"))));
  EXPECT_THROW(decode_value(json::parse(R"({"type":"integer","value":"1x"})")), Error);
  EXPECT_THROW(decode_value(json::parse(R"({"type":"integer","value":"99999999999999999999"})")),
               Error);
  EXPECT_THROW(decode_value(json::parse(R"({"type":"other"})")), Error);
  EXPECT_THROW(decode_value(json::parse("[]")), Error);
}

TEST(HranaJson, ResultsCheckRowWidths) {
  const StmtResult r = decode_stmt_result(json::parse(
      R"({"cols":[{"name":"a","decltype":"INTEGER"},{"name":"b"}],"rows":[[{"type":"null"},{"type":"text","value":"x"}]],"affected_row_count":3,"last_insert_rowid":"7"})"));
  EXPECT_EQ(r.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.decltypes[0], std::optional<std::string>("INTEGER"));
  EXPECT_EQ(r.row_count, 1U);
  EXPECT_EQ(r.affected, 3);
  EXPECT_EQ(r.last_insert_rowid, 7);
  EXPECT_THROW(decode_stmt_result(json::parse(R"({"cols":[{"name":"a"}],"rows":[[]]})")), Error);
  // A count that is no integer is a malformed reply (an Error, not a JSON library exception);
  // an id that is none is no id.
  for (const char* count : {"1.5", "1e300", "\"x\"", "true", "[]"}) {
    SCOPED_TRACE(count);
    EXPECT_THROW(
        decode_stmt_result(json::parse(std::string(R"({"affected_row_count":)") + count + "}")),
        Error);
  }
  EXPECT_EQ(decode_stmt_result(json::parse(R"({"affected_row_count":null})")).affected, 0);
  EXPECT_EQ(decode_stmt_result(json::parse(R"({"last_insert_rowid":"7x"})")).last_insert_rowid,
            std::nullopt);
}

TEST(HranaJson, IntegersAsServersSendThem) {
  EXPECT_EQ(integer_of(json::parse("42")), 42);
  EXPECT_EQ(integer_of(json::parse("-9223372036854775808")), INT64_MIN);
  EXPECT_EQ(integer_of(json::parse("9223372036854775807")), INT64_MAX);
  EXPECT_EQ(integer_of(json::parse("2.0")), 2);
  EXPECT_EQ(integer_of(json::parse(R"("-17")")), -17);
  for (const char* other : {"9223372036854775808", "1.5", "1e300", R"("")", R"("1 ")", R"("0x1")",
                            R"("99999999999999999999")", "null", "true", "{}", "[]"}) {
    SCOPED_TRACE(other);
    EXPECT_EQ(integer_of(json::parse(other)), std::nullopt);
  }
}

TEST(HranaJson, AnswersAreCheckedAgainstTheirRequests) {
  const json::array requests =
      json::parse(
          R"([{"type":"execute"},{"type":"batch"},{"type":"describe"},{"type":"close"},{}])")
          .as_array();
  const std::vector<std::string> types = request_types(requests);
  EXPECT_EQ(types, (std::vector<std::string>{"execute", "batch", "describe", "close", ""}));
  const auto answers = [](const char* text) { return json::parse(text).as_array(); };
  EXPECT_NO_THROW(check_answers(types, answers(R"([
      {"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[]}}},
      {"type":"ok","response":{"type":"batch","result":{"step_results":[null],"step_errors":[{}]}}},
      {"type":"ok","response":{"type":"describe","result":{"cols":[{"name":"a"}]}}},
      {"type":"ok","response":{"type":"close"}},
      {"type":"error","error":{"message":"no"}}])")));
  // Each of these would have a reader take a field that is not there.
  const std::vector<std::string> one_execute{"execute"};
  const std::vector<std::string> one_batch{"batch"};
  const std::vector<std::string> one_describe{"describe"};
  const std::vector<std::pair<const std::vector<std::string>*, const char*>> malformed{
      {&one_execute, "[]"},
      {&one_execute, "[1]"},
      {&one_execute, R"([{"type":"ok"}])"},
      {&one_execute, R"([{"type":"ok","response":[]}])"},
      {&one_execute, R"([{"type":"ok","response":{"type":"execute"}}])"},
      {&one_execute, R"([{"type":"ok","response":{"result":7}}])"},
      {&one_execute, R"([{"type":"error"}])"},
      {&one_execute, R"([{"type":"maybe"}])"},
      {&one_execute, R"([{"response":{"result":{}}}])"},
      {&one_batch, R"([{"type":"ok","response":{"result":{"step_results":[]}}}])"},
      {&one_batch, R"([{"type":"ok","response":{"result":{"step_results":[],"step_errors":{}}}}])"},
      {&one_batch,
       R"([{"type":"ok","response":{"result":{"step_results":[1],"step_errors":[]}}}])"},
      {&one_describe, R"([{"type":"ok","response":{"result":{}}}])"},
      {&one_describe, R"([{"type":"ok","response":{"result":{"cols":[1]}}}])"},
  };
  for (const auto& [kinds, text] : malformed) {
    SCOPED_TRACE(text);
    try {
      check_answers(*kinds, answers(text));
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.remote_code(), "PROTOCOL");
      EXPECT_NE(e.message().find("malformed server reply"), std::string::npos) << e.message();
    }
  }
}

TEST(HranaJson, ServerErrorsKeepTheirCode) {
  const Error unique = server_error("SQLITE_CONSTRAINT", "UNIQUE constraint failed: t.x");
  EXPECT_EQ(unique.code(), 2067);
  EXPECT_EQ(unique.remote_code(), "SQLITE_CONSTRAINT");
  EXPECT_EQ(server_error("SQLITE_BUSY", "database is locked").code(), 5);
  EXPECT_EQ(server_error("PREPARE_ERROR", "near \"x\": syntax error").code(), 1);
  EXPECT_EQ(server_error("", "x").remote_code(), "UNKNOWN");
}

TEST(RemoteUrl, SchemesHostsPortsAndPaths) {
  Url u = parse_url("libsql://db-org.turso.io");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "db-org.turso.io");
  EXPECT_EQ(u.port, "443");
  u = parse_url("http://127.0.0.1:8080/base/?authToken=x");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.path, "/base");
  EXPECT_EQ(u.auth_token, "x");
  u = parse_url("ws://[::1]:9/");
  EXPECT_TRUE(u.websocket);
  EXPECT_EQ(u.host, "::1");
  EXPECT_TRUE(parse_url("wss://h").tls);
  EXPECT_THROW(parse_url("ftp://h"), Error);
  EXPECT_THROW(parse_url("http://:80"), Error);
  EXPECT_EQ(parse_url("HTTPS://H").port, "443");
}

// The message of the Error `f` throws.
template <class F>
std::string thrown(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "(nothing thrown)";
}

TEST(RemoteUrl, QueryParametersAsLibsqlClientsReadThem) {
  Url u = parse_url("libsql://db.turso.io?authToken=a%2Bb+c%3D");
  EXPECT_EQ(u.auth_token, "a+b c=");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "db.turso.io");
  u = parse_url("libsql://127.0.0.1:8080?tls=0&authToken=t");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.auth_token, "t");
  EXPECT_TRUE(parse_url("libsql://h:1?tls=1").tls);
  EXPECT_FALSE(parse_url("libsql://h").auth_token.has_value());
  EXPECT_EQ(parse_url("libsql://h?authToken=").auth_token, "");
  EXPECT_NE(thrown([] { parse_url("libsql://h?tls=0"); }).find("explicit port"), std::string::npos);
  EXPECT_NE(thrown([] { parse_url("libsql://h?tls=yes"); }).find("0 or 1"), std::string::npos);
  const std::string unknown = thrown([] { parse_url("libsql://h?SECRETKEY=1"); });
  EXPECT_NE(unknown.find("unsupported query parameter"), std::string::npos);
  EXPECT_EQ(unknown.find("SECRETKEY"), std::string::npos);
  EXPECT_NE(thrown([] { parse_url("libsql://h#x"); }).find("fragments"), std::string::npos);
  EXPECT_THROW(parse_url("libsql://h?authToken=%zz"), Error);
  EXPECT_THROW(parse_url("libsql://h?authToken=%4"), Error);
  EXPECT_THROW(parse_url("http://h:65536"), Error);
  EXPECT_THROW(parse_url("http://h:8x"), Error);
  EXPECT_THROW(parse_url("http://[::1]x"), Error);
}

TEST(RemoteUrl, ControlCharactersAndSpacesAreRefused) {
  for (const char* uri :
       {"http://h/a\r\nX-Evil: 1", "http://h/a b", "http://h\n", "http://h/\x7f", "http://h/\t"}) {
    const std::string message = thrown([&] { parse_url(uri); });
    EXPECT_NE(message.find("control character"), std::string::npos) << uri;
    EXPECT_EQ(message.find("Evil"), std::string::npos);
  }
}

TEST(RemoteUrl, RedactionKeepsHostAndPathOnly) {
  EXPECT_EQ(redact_url("ftp://admin:hunter2pass@example.com/db?authToken=SECRETQ"),
            "ftp://<redacted>@example.com/db?<redacted>");
  EXPECT_EQ(redact_url("libsql://h:1/p"), "libsql://h:1/p");
  EXPECT_EQ(redact_url("http://h#frag"), "http://h#<redacted>");
  EXPECT_EQ(redact_url("a@b@c/x"), "<redacted>@c/x");
  EXPECT_EQ(redact_url("http://h/\r\n"), "http://h/%0D%0A");
  const std::string message =
      thrown([] { parse_url("ftp://admin:hunter2pass@example.com/db?authToken=SECRETQ"); });
  EXPECT_NE(message.find("unsupported URL scheme"), std::string::npos);
  EXPECT_EQ(message.find("hunter2pass"), std::string::npos);
  EXPECT_EQ(message.find("SECRETQ"), std::string::npos);
}

TEST(RemoteUrl, HeaderValuesWithControlCharactersAreRefused) {
  EXPECT_NO_THROW(require_header_safe("eyJhbGciOi.x-y_z~+/=", "auth_token"));
  EXPECT_NO_THROW(require_header_safe("", "auth_token"));
  for (const std::string& value :
       {std::string("SECRET\r\nX-Evil: injected"), std::string("SECRET\n"),
        std::string("SECRET\0b", 8), std::string("SECRET\x7f")}) {
    const std::string message = thrown([&] { require_header_safe(value, "auth_token"); });
    EXPECT_NE(message.find("auth_token contains a control character"), std::string::npos);
    EXPECT_EQ(message.find("SECRET"), std::string::npos);
  }
}

}  // namespace
}  // namespace ecto_libsql::remote
