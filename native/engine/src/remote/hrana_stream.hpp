// The connection's stream on the server (a Hrana stream: one SQL connection there): requests
// over HTTP carrying the stream's baton, or over the one stream of a WebSocket (Hrana 3); the
// transaction the stream holds; and the one policy for a connection lost on the way.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecto_libsql/open.hpp"
#include "hrana_json.hpp"
#include "http_client.hpp"
#include "transaction_state.hpp"
#include "ws_client.hpp"

namespace ecto_libsql::remote {

class CursorReader;

// The error for an HTTP status other than 200.
Error http_error(const HttpResponse& res);

// What the server offers, found by probing at connect.
enum class Protocol {
  V3,       // GET /v3 answers: v3 pipeline, get_autocommit, close
  V2,       // GET /v2 answers: v2 pipeline, close
  Minimal,  // only execute and batch on /v2/pipeline (tursodb --sync-server)
};

// The one policy for a request whose connection was lost (a TransportError): it is sent once
// more, on a fresh connection, only when the server's stream held nothing (no transaction, no
// baton: outside a transaction), only when it cannot have run (`maybe_processed` false) or may
// run twice (`idempotent`: a read), and only while time is left of request_timeout.
[[nodiscard]] constexpr bool retry_after_loss(bool holds, bool maybe_processed, bool idempotent,
                                              bool timed_out) noexcept {
  return !holds && (!maybe_processed || idempotent) && !timed_out;
}

class HranaStream {
 public:
  // Over WebSocket opens the stream at once; over HTTP probes what the server offers. Throws
  // Error.
  explicit HranaStream(const ConnectOptions& options);
  ~HranaStream();
  HranaStream(const HranaStream&) = delete;
  HranaStream& operator=(const HranaStream&) = delete;
  HranaStream(HranaStream&&) = delete;
  HranaStream& operator=(HranaStream&&) = delete;

  [[nodiscard]] Protocol protocol() const noexcept { return protocol_; }
  [[nodiscard]] TransactionState& transaction() noexcept { return transaction_; }
  [[nodiscard]] const TransactionState& transaction() const noexcept { return transaction_; }
  // Aborts the request in flight (its socket is shut down); safe from any thread.
  [[nodiscard]] Interrupter& interrupter() noexcept { return interrupter_; }
  [[nodiscard]] const Interrupter& interrupter() const noexcept { return interrupter_; }

  // Sends `requests` on the stream and answers the per-request results. `idempotent`: the
  // requests may be sent once more after the connection was lost (see failure()); `end_stream`:
  // the stream is closed after them (when the server knows `close`).
  json::array pipeline(json::array requests, bool idempotent, bool end_stream);
  // Once a transaction ended inside a request, the stream that held it is not kept.
  void end_if_idle() noexcept;
  // The transaction and the stream are given up (the server ends the stream itself).
  void abandon() noexcept;
  // Ends the stream on the server (and the transaction it holds) and disconnects.
  void close() noexcept;

  // Stores `sql` on the server for the lifetime of the socket (Hrana `store_sql`, over
  // WebSocket, where stored SQL belongs to the connection); nullopt over HTTP, where it would
  // last one stream only. Stored SQL is stored again when the socket is reopened.
  std::optional<std::int32_t> store_sql(const std::string& sql);
  // Forgets stored SQL (`close_sql`); errors are ignored: the server drops it with the socket.
  void close_sql(std::int32_t sql_id) noexcept;
  // Forgets all stored SQL without telling the server (before closing).
  void forget_stored_sql() noexcept { stored_sql_.clear(); }

  // The one answer to an exchange that failed with `error`. `holds`: the server's stream held
  // the connection's transaction (or a baton). When the error took the stream with it (the
  // connection was lost, the request interrupted, or its answer cut off over
  // max_response_size), the transaction is abandoned and the error says so; other errors are
  // answered as they are. Outside a transaction a lost connection is CONNECTION_LOST, and a
  // write that may have run (`idempotent` false) says that it was not repeated.
  [[nodiscard]] Error failure(const Error& error, bool holds, bool idempotent = true);
  // The error for an answer other than HTTP 200. With `holds` the stream and its transaction
  // are abandoned: the server refused the baton, or failed.
  [[nodiscard]] Error refused(const HttpResponse& res, bool holds);

  // --- cursors: `v3/cursor` answers read as they are stepped (remote_cursor.cpp) ---------
  // True when a read-only statement can stream its rows.
  [[nodiscard]] bool can_stream() const noexcept;
  // Sends `sql` as a `v3/cursor` request, on the transaction's stream inside a transaction,
  // else on a stream of its own, and reads the answer up to the statement's columns.
  std::unique_ptr<CursorReader> open_cursor(const std::string& sql, const std::vector<Value>& args);
  // Used by CursorReader.
  [[nodiscard]] std::size_t max_response_size() const noexcept { return max_response_size_; }
  void cursor_done(const CursorReader* cursor) noexcept;
  // The first line of a cursor's answer on the transaction's stream: its next baton and
  // address.
  void continue_after_cursor(std::optional<std::string> baton, const json::value* base_url);
  // Closes a cursor's own stream on the server at once rather than leave it to expire.
  void close_cursor_stream(HttpClient& client, const std::string& baton) noexcept;

 private:
  // Runs `attempt(retry, deadline)` once, and once more on a fresh connection when the
  // connection was lost outside a transaction and the request is a read or was not sent,
  // within what is left of the first attempt's request_timeout. Errors go through failure().
  template <class Attempt>
  auto with_retry(bool idempotent, Attempt&& attempt);
  [[nodiscard]] bool holds() const noexcept { return transaction_.open() || baton_.has_value(); }
  HttpResponse send(std::string_view body, bool idempotent);
  json::array http_pipeline(json::array requests, bool idempotent);
  json::array ws_pipeline(const json::array& requests, bool idempotent);
  json::array ws_exchange(const json::array& requests, Deadline& deadline);
  void ws_open(Deadline& deadline);
  // An HTTP client for `url` with this connection's token, timeouts, limits and interrupter.
  std::unique_ptr<HttpClient> make_http(const Url& url);
  // Makes the stream free for another request: a cursor reading an answer on the
  // transaction's stream reads the rest of it into memory first.
  void settle_cursor();
  // Follows the server's `base_url` for the current stream.
  void follow(const json::value* base_url);

  Interrupter interrupter_;  // declared before the clients that point at it
  std::string auth_token_;
  // Sent as `x-turso-encryption-key` with every request, as libSQL's clients do (empty: none).
  std::string remote_encryption_key_;
  std::string ca_file_;  // ConnectOptions::tls_ca_file
  std::chrono::milliseconds connect_timeout_{};
  std::chrono::milliseconds request_timeout_{};
  std::size_t max_response_size_ = 0;  // ConnectOptions::max_response_size
  Protocol protocol_ = Protocol::Minimal;
  std::string pipeline_path_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<WsClient> ws_;
  std::int32_t next_request_id_ = 1;
  std::int32_t next_sql_id_ = 1;
  std::map<std::int32_t, std::string> stored_sql_;  // store_sql over WebSocket, by id
  std::optional<std::string> baton_;
  // The client for a stream the server moved to another address (`base_url`).
  std::unique_ptr<HttpClient> stream_http_;
  std::string stream_pipeline_path_;
  // The socket cursors read their answers on, and the cursor reading one now.
  std::unique_ptr<HttpClient> cursor_http_;
  CursorReader* active_cursor_ = nullptr;
  TransactionState transaction_;
  bool closed_ = false;
};

template <class Attempt>
auto HranaStream::with_retry(bool idempotent, Attempt&& attempt) {
  Deadline deadline;
  try {
    return attempt(false, deadline);
  } catch (const TransportError& e) {
    if (!retry_after_loss(holds(), e.maybe_processed(), idempotent,
                          deadline && Clock::now() >= *deadline)) {
      throw failure(e, holds(), idempotent);
    }
  } catch (const Error& e) {
    throw failure(e, holds(), idempotent);
  }
  try {
    return attempt(true, deadline);
  } catch (const Error& e) {
    throw failure(e, holds());
  }
}

}  // namespace ecto_libsql::remote
