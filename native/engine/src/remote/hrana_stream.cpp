#include "hrana_stream.hpp"

#include <algorithm>

#include "remote_cursor.hpp"
#include "transaction_guard.hpp"

namespace ecto_libsql::remote {
namespace {

std::string error_text(const HttpResponse& res) {
  std::string body = res.body.substr(0, 500);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
    body.pop_back();
  return body;
}

// A server's WebSocket message as a JSON object; Error (PROTOCOL) when it is not one.
json::object message_object(const std::string& text) {
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    throw Error(kCodeError, "remote: malformed server message (not a JSON object)", "PROTOCOL");
  }
  return std::move(parsed.get_object());
}

bool has_type(const json::object& obj, std::string_view type) {
  const json::value* t = obj.if_contains("type");
  return t != nullptr && t->is_string() && t->get_string() == type;
}

}  // namespace

Error http_error(const HttpResponse& res) {
  json::error_code ec;
  const json::value parsed = json::parse(res.body, ec);
  const std::string status = std::to_string(res.status);
  const bool auth = res.status == 401 || res.status == 403;
  if (!ec && parsed.is_object() && parsed.get_object().contains("message")) {
    Error error = server_error(parsed);
    if (auth) return Error(kCodeAuth, error.message(), error.remote_code());
    return error;
  }
  if (auth) {
    return Error(kCodeAuth,
                 "remote: authentication failed (HTTP " + status + "): " + error_text(res),
                 "HTTP_" + status);
  }
  return Error(kCodeError, "remote: server answered HTTP " + status + ": " + error_text(res),
               "HTTP_" + status);
}

HranaStream::HranaStream(const ConnectOptions& options) {
  if (options.uri.empty()) throw Error(kCodeMisuse, "Failed to connect: no :uri given");
  Url url = parse_url(options.uri);
  // A token in the URL (`?authToken=`) stands for the option, as in libSQL's clients.
  auth_token_ = url.auth_token ? *url.auth_token : options.auth_token;
  require_header_safe(auth_token_, "auth_token");
  if (options.remote_encryption_key) {
    require_header_safe(*options.remote_encryption_key, "remote_encryption_key");
    remote_encryption_key_ = *options.remote_encryption_key;
  }
  ca_file_ = options.tls_ca_file;
  connect_timeout_ = options.connect_timeout;
  request_timeout_ = options.request_timeout;
  max_response_size_ = options.max_response_size;
  if (url.websocket || options.transport == "websocket") {
    url.websocket = true;
    protocol_ = Protocol::V3;
    http_ = make_http(url);
    ws_ = std::make_unique<WsClient>(url, connect_timeout_, request_timeout_, ca_file_);
    ws_->set_interrupter(&interrupter_);
    ws_->set_max_response_size(max_response_size_);
    if (!remote_encryption_key_.empty()) {
      ws_->add_header(std::string(kEncryptionKeyHeader), remote_encryption_key_);
    }
    Deadline deadline;
    ws_open(deadline);
    return;
  }
  http_ = make_http(url);
  // Probe what the server offers: v3, v2, or only the v2 pipeline (tursodb).
  HttpResponse v3 = http_->request(false, "/v3", "");
  if (v3.status >= 200 && v3.status < 300) {
    protocol_ = Protocol::V3;
    pipeline_path_ = "/v3/pipeline";
    return;
  }
  if (v3.status == 401 || v3.status == 403) throw http_error(v3);
  HttpResponse v2 = http_->request(false, "/v2", "");
  if (v2.status == 401 || v2.status == 403) throw http_error(v2);
  protocol_ = v2.status >= 200 && v2.status < 300 ? Protocol::V2 : Protocol::Minimal;
  pipeline_path_ = "/v2/pipeline";
}

HranaStream::~HranaStream() {
  close();
}

std::unique_ptr<HttpClient> HranaStream::make_http(const Url& url) {
  auto client =
      std::make_unique<HttpClient>(url, auth_token_, connect_timeout_, request_timeout_, ca_file_);
  client->set_interrupter(&interrupter_);
  client->set_max_response_size(max_response_size_);
  if (!remote_encryption_key_.empty()) {
    client->add_header(std::string(kEncryptionKeyHeader), remote_encryption_key_);
  }
  return client;
}

void HranaStream::close() noexcept {
  if (closed_) return;
  stored_sql_.clear();  // the server forgets it with the socket: no close_sql for each
  if (baton_ && protocol_ != Protocol::Minimal) {
    try {
      // Ends the server's stream (and rolls back its open transaction) at once.
      pipeline(json::array{json::object{{"type", "close"}}}, false, false);
    } catch (...) {
      // The server expires abandoned streams itself.
    }
  }
  closed_ = true;
  transaction_.lose();
  baton_.reset();
  stream_http_.reset();
  if (http_) http_->disconnect();
  if (cursor_http_) cursor_http_->disconnect();
  if (ws_) ws_->disconnect();
}

void HranaStream::abandon() noexcept {
  transaction_.lose();
  baton_.reset();
  stream_http_.reset();
}

void HranaStream::end_if_idle() noexcept {
  if (!transaction_.open() && baton_ && protocol_ != Protocol::Minimal) {
    baton_.reset();
    stream_http_.reset();
  }
}

Error HranaStream::failure(const Error& error, bool holds, bool idempotent) {
  const auto* lost = dynamic_cast<const TransportError*>(&error);
  const bool took_stream =
      lost != nullptr || error.code() == kCodeInterrupt || error.code() == kCodeTooBig;
  if (holds && took_stream) {
    abandon();
    if (error.code() == kCodeInterrupt) {
      return {kCodeInterrupt, "interrupted; the transaction was abandoned"};
    }
    if (error.code() == kCodeTooBig) {
      return {kCodeTooBig, error.message() + "; the transaction was abandoned"};
    }
    return {kCodeIoErr,
            "remote: connection lost inside a transaction; the transaction did not complete and "
            "was abandoned (" +
                error.message() + ")",
            "CONNECTION_LOST"};
  }
  if (lost == nullptr) return error;
  if (lost->maybe_processed() && !idempotent) {
    return {kCodeIoErr,
            error.message() + "; the write was not repeated and may or may not have been applied",
            "CONNECTION_LOST"};
  }
  return {kCodeIoErr, error.message(), "CONNECTION_LOST"};
}

Error HranaStream::refused(const HttpResponse& res, bool holds) {
  Error error = http_error(res);
  if (!holds) return error;
  abandon();
  return {error.code(), "remote: the transaction was abandoned: " + error.message(),
          error.remote_code()};
}

HttpResponse HranaStream::send(std::string_view body, bool idempotent) {
  return with_retry(idempotent, [&](bool retry, Deadline& deadline) {
    // A retry goes to the connection's own address: a moved stream (base_url) is over.
    HttpClient& client = stream_http_ && !retry ? *stream_http_ : *http_;
    const std::string& path = stream_http_ && !retry ? stream_pipeline_path_ : pipeline_path_;
    return client.request(true, path, body, "application/json", &deadline);
  });
}

void HranaStream::ws_open(Deadline& deadline) {
  ws_->connect(deadline);
  json::object hello{{"type", "hello"}};
  hello["jwt"] = auth_token_.empty() ? json::value(nullptr) : json::value(auth_token_);
  ws_->send(json::serialize(hello), &deadline);
  const json::object obj = message_object(ws_->receive(&deadline));
  if (!has_type(obj, "hello_ok")) {
    ws_->disconnect();
    const json::value* err = obj.if_contains("error");
    Error e = server_error(err != nullptr ? *err : json::value());
    throw Error(kCodeAuth, "remote: authentication failed: " + e.message(), e.remote_code());
  }
  json::array open{json::object{{"type", "open_stream"}}};
  // SQL stored on the previous socket is stored again: it belonged to that connection.
  for (const auto& [id, sql] : stored_sql_)
    open.push_back(json::object{{"type", "store_sql"}, {"sql_id", id}, {"sql", sql}});
  json::array results = ws_exchange(open, deadline);
  for (const json::value& result : results) {
    if (result.at("type") != "ok") throw server_error(result.at("error"));
  }
}

std::optional<std::int32_t> HranaStream::store_sql(const std::string& sql) {
  if (!ws_) return std::nullopt;
  const std::int32_t id = next_sql_id_++;
  if (next_sql_id_ == INT32_MAX) next_sql_id_ = 1;
  json::array request{json::object{{"type", "store_sql"}, {"sql_id", id}, {"sql", sql}}};
  json::array results = ws_pipeline(request, true);
  if (results.empty() || results[0].at("type") != "ok") {
    throw server_error(results.empty() ? json::value() : results[0].at("error"));
  }
  stored_sql_.emplace(id, sql);
  return id;
}

void HranaStream::close_sql(std::int32_t sql_id) noexcept {
  if (stored_sql_.erase(sql_id) == 0 || !ws_ || closed_ || !ws_->connected()) return;
  try {
    Deadline deadline;
    ws_exchange(json::array{json::object{{"type", "close_sql"}, {"sql_id", sql_id}}}, deadline);
  } catch (...) {
    // The server forgets stored SQL with the socket.
  }
}

json::array HranaStream::ws_exchange(const json::array& requests, Deadline& deadline) {
  std::vector<std::int32_t> ids;
  json::array results;
  for (const json::value& request : requests) {
    if (request.at("type") == "close") continue;  // the stream lives as long as the socket
    json::object body = request.as_object();
    // store_sql and close_sql belong to the connection, every other request to its stream.
    if (request.at("type") != "store_sql" && request.at("type") != "close_sql")
      body["stream_id"] = 1;
    const std::int32_t id = next_request_id_++;
    if (next_request_id_ == INT32_MAX) next_request_id_ = 1;
    ids.push_back(id);
    ws_->send(json::serialize(json::object{
                  {"type", "request"}, {"request_id", id}, {"request", std::move(body)}}),
              &deadline);
  }
  std::vector<json::value> by_order(ids.size());
  for (std::size_t got = 0; got < ids.size(); ++got) {
    json::object obj = message_object(ws_->receive(&deadline));
    const json::value* request_id = obj.if_contains("request_id");
    const std::optional<std::int64_t> id = request_id ? integer_of(*request_id) : std::nullopt;
    const auto at = id ? std::find(ids.begin(), ids.end(), *id) : ids.end();
    if (at == ids.end()) {
      throw Error(kCodeError, "remote: reply to an unknown request", "PROTOCOL");
    }
    json::object result;
    if (has_type(obj, "response_ok") && obj.contains("response")) {
      result["type"] = "ok";
      result["response"] = obj.at("response");
    } else {
      result["type"] = "error";
      result["error"] = obj.contains("error") ? obj.at("error") : json::value(nullptr);
    }
    by_order[static_cast<std::size_t>(at - ids.begin())] = std::move(result);
  }
  std::size_t k = 0;
  for (const json::value& request : requests) {
    if (request.at("type") == "close") {
      results.push_back(json::object{{"type", "ok"}, {"response", {{"type", "close"}}}});
    } else {
      results.push_back(std::move(by_order[k++]));
    }
  }
  return results;
}

json::array HranaStream::ws_pipeline(const json::array& requests, bool idempotent) {
  return with_retry(idempotent, [&](bool retry, Deadline& deadline) {
    if (retry || !ws_->connected()) ws_open(deadline);
    return ws_exchange(requests, deadline);
  });
}

json::array HranaStream::pipeline(json::array requests, bool idempotent, bool end_stream) {
  settle_cursor();
  if (end_stream && !ws_ && protocol_ != Protocol::Minimal)
    requests.push_back(json::object{{"type", "close"}});
  const std::vector<std::string> types = request_types(requests);
  json::array answers =
      ws_ ? ws_pipeline(requests, idempotent) : http_pipeline(std::move(requests), idempotent);
  check_answers(types, answers);
  return answers;
}

json::array HranaStream::http_pipeline(json::array requests, bool idempotent) {
  // See transaction_guard.hpp.
  const bool guard = protocol_ == Protocol::Minimal && transaction_.open();
  json::array sent = guard ? requests : json::array{};
  if (guard) {
    for (json::value& request : requests) {
      if (is_guardable(request)) request = guarded(request);
    }
  }
  json::object body;
  body["baton"] = baton_ ? json::value(json::string(*baton_)) : json::value(nullptr);
  body["requests"] = std::move(requests);
  const HttpResponse res = send(json::serialize(body), idempotent);
  if (res.status != 200) throw refused(res, holds());
  json::error_code ec;
  json::value reply = json::parse(res.body, ec);
  if (ec || !reply.is_object()) {
    throw Error(kCodeError, "remote: malformed server reply (not JSON)", "PROTOCOL");
  }
  json::object& obj = reply.get_object();
  const json::value* baton = obj.if_contains("baton");
  if (baton != nullptr && baton->is_string()) {
    baton_ = std::string(baton->get_string());
  } else {
    baton_.reset();
  }
  follow(obj.if_contains("base_url"));
  if (!baton_) stream_http_.reset();
  json::value* results = obj.if_contains("results");
  if (results == nullptr || !results->is_array()) {
    throw Error(kCodeError, "remote: malformed server reply (no results)", "PROTOCOL");
  }
  json::array& answers = results->get_array();
  if (guard) {
    bool lost = false;
    // A count of answers other than the requests' is reported by check_answers.
    for (std::size_t i = 0; i < std::min(answers.size(), sent.size()); ++i) {
      if (!is_guardable(sent[i])) continue;
      std::optional<json::value> answer = unguarded(sent[i], std::move(answers[i]));
      lost = lost || !answer;
      answers[i] = answer ? std::move(*answer) : json::value(nullptr);
    }
    if (lost) {
      abandon();
      throw Error(kCodeError,
                  "remote: the server no longer holds this connection's transaction (it "
                  "restarted, or another client ended the transaction on its shared "
                  "connection); the statement was not run and the transaction was abandoned",
                  "TRANSACTION_LOST");
    }
  }
  return std::move(answers);
}

void HranaStream::follow(const json::value* base_url) {
  if (!baton_ || base_url == nullptr || !base_url->is_string()) return;
  Url url = parse_url(std::string(base_url->get_string()));
  stream_pipeline_path_ = pipeline_path_;
  const Url& current = http_->url();
  if (url.host == current.host && url.port == current.port && url.tls == current.tls &&
      url.path == current.path) {
    stream_http_.reset();
  } else {
    stream_http_ = make_http(url);
  }
}

}  // namespace ecto_libsql::remote
