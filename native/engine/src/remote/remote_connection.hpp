// The remote connection: statements run on the server through Hrana pipelines; results come
// back whole and are read from memory, except cursors on Hrana 3 servers over HTTP, which read
// their rows from a `v3/cursor` answer as they are stepped.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "ecto_libsql/open.hpp"
#include "hrana_json.hpp"
#include "http_client.hpp"
#include "ws_client.hpp"

namespace ecto_libsql::remote {

class RemoteStatement;

// The error for an HTTP status other than 200.
Error http_error(const HttpResponse& res);

// What the server offers, found by probing at connect.
enum class Protocol {
  V3,       // GET /v3 answers: v3 pipeline, get_autocommit, close
  V2,       // GET /v2 answers: v2 pipeline, close
  Minimal,  // only execute and batch on /v2/pipeline (tursodb --sync-server)
};

// Rows whose cells are decoded values: the typed accessors read the current row's cell.
class ValueRowReader : public RowReader {
 public:
  [[nodiscard]] ValueType column_type(int index) const override;
  [[nodiscard]] std::int64_t column_int64(int index) const override;
  [[nodiscard]] double column_double(int index) const override;
  [[nodiscard]] std::string_view column_text(int index) const override;
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override;

 protected:
  // The cell `index` of the current row; throws when there is none.
  [[nodiscard]] virtual const Value& cell(int index) const = 0;
};

// Rows of one statement result, read from memory.
class ResultReader : public ValueRowReader {
 public:
  explicit ResultReader(StmtResult result) : result_(std::move(result)) {}
  ResultReader() = default;
  [[nodiscard]] int column_count() const override {
    return static_cast<int>(result_.columns.size());
  }
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] std::int64_t changes() const override { return result_.affected; }
  [[nodiscard]] std::int64_t last_insert_rowid() const override {
    return result_.last_insert_rowid.value_or(0);
  }
  [[nodiscard]] const StmtResult& result() const noexcept { return result_; }
  void rewind() noexcept { next_ = 0; }

 private:
  [[nodiscard]] const Value& cell(int index) const override;
  StmtResult result_;
  std::size_t next_ = 0;  // the row step() reads next
};

class RemoteConnection;

// Rows of one statement read from a `v3/cursor` answer (newline-separated JSON entries) as they
// are stepped: only the entries of the rows stepped so far are read from the socket.
class CursorReader final : public ValueRowReader {
 public:
  // `own_stream`: the cursor opened a stream of its own (outside a transaction), closed when
  // the answer has been read.
  CursorReader(RemoteConnection& conn, HttpClient& client, bool own_stream);
  ~CursorReader() override;
  CursorReader(const CursorReader&) = delete;
  CursorReader& operator=(const CursorReader&) = delete;
  CursorReader(CursorReader&&) = delete;
  CursorReader& operator=(CursorReader&&) = delete;

  // Reads the answer's first line (baton, base_url) and the step's columns.
  void open();
  [[nodiscard]] int column_count() const override { return static_cast<int>(columns_.size()); }
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] std::int64_t changes() const override { return affected_; }
  [[nodiscard]] std::int64_t last_insert_rowid() const override { return last_insert_rowid_; }
  [[nodiscard]] const std::vector<std::string>& columns() const noexcept { return columns_; }
  [[nodiscard]] const std::vector<std::optional<std::string>>& decltypes() const noexcept {
    return decltypes_;
  }
  [[nodiscard]] bool own_stream() const noexcept { return own_stream_; }
  // Reads the rest of the answer into memory, so that the stream and the socket are free for
  // other requests. Throws when the answer cannot be read.
  void drain();

 private:
  // The next entry of the answer, or null at its end.
  json::value next_entry();
  // Handles a step_begin/step_end/error entry; answers true for a row (now in `row_`).
  bool take(const json::value& entry, std::vector<Value>& row);
  // Throws `error` for a read of the answer that failed; inside a transaction the
  // transaction is abandoned with the stream.
  [[noreturn]] void lost(const Error& error);
  // Ends the exchange: discards what is left of the answer (inside a transaction) or drops
  // the socket, then closes the cursor's own stream.
  void finish() noexcept;
  [[nodiscard]] const Value& cell(int index) const override;

  RemoteConnection& conn_;
  HttpClient& client_;
  bool own_stream_;
  std::optional<std::string> baton_;  // of the cursor's own stream
  std::string pending_;               // bytes read but not yet parsed
  std::size_t parsed_ = 0;            // of pending_
  bool body_done_ = false;            // the answer was read to its end
  bool rows_done_ = false;            // the step ended (or failed)
  std::vector<std::string> columns_;
  std::vector<std::optional<std::string>> decltypes_;
  std::vector<Value> row_;
  bool has_row_ = false;
  std::deque<std::vector<Value>> buffered_;  // rows read ahead by drain()
  std::optional<Error> error_;               // the error that ended the rows
  std::uint64_t interrupts_seen_;            // Interrupter::count() when the cursor opened
  bool draining_ = false;                    // drain() is reading the answer into memory
  std::size_t drained_ = 0;                  // bytes drain() has read
  std::int64_t affected_ = 0;
  std::int64_t last_insert_rowid_ = 0;
};

class RemoteConnection final : public Connection {
  friend class CursorReader;

 public:
  explicit RemoteConnection(const ConnectOptions& options);
  ~RemoteConnection() override;

  [[nodiscard]] Mode mode() const noexcept override { return Mode::Remote; }
  [[nodiscard]] bool is_open() const noexcept override { return open_; }
  void close() noexcept override;
  void ping() override;
  std::shared_ptr<Statement> prepare(std::string_view sql) override;
  std::shared_ptr<Statement> open_cursor(std::string_view sql, const Params& params) override;
  StatementLease acquire(std::string_view sql, const ExecBudget* budget) override;
  void batch(std::span<const BatchStep> steps, bool transactional,
             const std::function<void(std::size_t, RowReader&)>& on_result) override;
  [[nodiscard]] bool always_blocking() const noexcept override { return true; }
  std::uint64_t begin(TransactionBehaviour behaviour, const ExecBudget* budget) override;
  void commit() override;
  void rollback() override;
  [[nodiscard]] bool autocommit() const override { return !in_transaction_; }
  [[nodiscard]] std::uint64_t transaction_serial() const noexcept override {
    return in_transaction_ ? serial_ : 0;
  }
  [[nodiscard]] std::int64_t last_insert_rowid() const override { return last_insert_rowid_; }
  [[nodiscard]] std::int64_t changes() const override { return changes_; }
  [[nodiscard]] std::int64_t total_changes() const override { return total_changes_; }
  void set_busy_timeout(int milliseconds) override { busy_timeout_ms_ = milliseconds; }
  // Aborts the request in flight: its socket is shut down.
  void interrupt() noexcept override { interrupter_.interrupt(); }
  [[nodiscard]] std::uint64_t interrupt_count() const noexcept override {
    return interrupter_.count();
  }
  void reset() override;

  // --- used by RemoteStatement ---------------------------------------------------------------
  // `sql_id`: the SQL stored on the server for a prepared statement (store_sql), sent in
  // place of the text.
  StmtResult execute(const std::string& sql, const sql::Classification& cls, bool readonly,
                     const std::vector<Value>& args, std::optional<std::int32_t> sql_id = {});
  // Stores `sql` on the server for the lifetime of the socket (Hrana `store_sql`, over
  // WebSocket, where stored SQL belongs to the connection); nullopt over HTTP, where it would
  // last one stream only. Stored SQL is stored again when the socket is reopened.
  std::optional<std::int32_t> store_sql(const std::string& sql);
  // Forgets stored SQL (`close_sql`); errors are ignored: the server drops it with the socket.
  void close_sql(std::int32_t sql_id) noexcept;
  // Column names and declared types of `sql` without running it (needs `describe`).
  std::vector<ColumnInfo> describe(const std::string& sql);
  void require_open() const;
  [[nodiscard]] Protocol protocol() const noexcept { return protocol_; }
  // True when a read-only statement can stream its rows through `v3/cursor`.
  [[nodiscard]] bool can_stream() const noexcept;
  // Sends `sql` as a `v3/cursor` request and reads up to its columns.
  std::unique_ptr<CursorReader> stream(const std::string& sql, const std::vector<Value>& args);

 private:
  // Sends `requests` on the current stream and answers the per-request results. `idempotent`
  // allows one retry on a fresh connection when the connection was lost outside a transaction;
  // `end_stream` closes the stream after the requests (when the server knows `close`).
  json::array pipeline(json::array requests, bool idempotent, bool end_stream);
  HttpResponse send(std::string_view body, bool idempotent);
  // The retry policy of every request (HTTP and WebSocket): `attempt(retry, deadline)` runs
  // once, and once more on a fresh connection when the connection was lost outside a
  // transaction and the request is a read or was not sent, within what is left of the first
  // attempt's request_timeout. Inside a transaction a lost connection abandons it.
  template <class Attempt>
  auto with_retry(bool idempotent, Attempt&& attempt);
  // The same over a WebSocket (Hrana 3): one stream per connection, opened at connect.
  json::array ws_pipeline(const json::array& requests, bool idempotent);
  json::array ws_exchange(const json::array& requests, Deadline& deadline);
  void ws_open(Deadline& deadline);
  // An HTTP client for `url` with this connection's token, timeouts, limits and interrupter.
  std::unique_ptr<HttpClient> make_http(const Url& url);
  void lose_transaction() noexcept;
  // Makes the stream free for another request: a cursor reading an answer on the
  // transaction's stream reads the rest of it into memory first.
  void settle_cursor();
  // Follows the server's `base_url` for the current stream.
  void follow(const json::value* base_url);
  // ": child.col (foreign key: name)" for a statement that failed with a foreign key
  // violation, found by running it again in a savepoint; empty when it cannot be found.
  std::string broken_foreign_key(const std::string& sql, const std::vector<Value>& args) noexcept;
  void note_counts(const StmtResult& result, bool write);
  void update_transaction_state(const sql::Classification& cls, std::string_view sql,
                                const json::value* autocommit_response, bool succeeded);

  Interrupter interrupter_;  // declared before the clients that point at it
  std::string auth_token_;
  // Sent as `x-turso-encryption-key` with every request, as libSQL's clients do (empty: none).
  std::string remote_encryption_key_;
  std::string ca_file_;  // ConnectOptions::tls_ca_file
  std::chrono::milliseconds connect_timeout_{};
  std::chrono::milliseconds request_timeout_{};
  std::size_t max_response_size_ = 0;  // ConnectOptions::max_response_size
  std::string pipeline_path_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<WsClient> ws_;
  std::int32_t next_request_id_ = 1;
  std::int32_t next_sql_id_ = 1;
  std::map<std::int32_t, std::string> stored_sql_;  // store_sql over WebSocket, by id
  // The client for a stream the server moved to another address (`base_url`).
  std::unique_ptr<HttpClient> stream_http_;
  std::string stream_pipeline_path_;
  // The socket cursors read their answers on, and the cursor reading one now.
  std::unique_ptr<HttpClient> cursor_http_;
  CursorReader* active_cursor_ = nullptr;
  Protocol protocol_ = Protocol::Minimal;
  std::optional<std::string> baton_;
  bool open_ = true;
  bool in_transaction_ = false;
  int savepoint_depth_ = 0;  // savepoints that opened the transaction (no BEGIN)
  std::uint64_t serial_ = 0;
  std::uint64_t next_serial_ = 1;
  std::int64_t last_insert_rowid_ = 0;
  std::int64_t changes_ = 0;
  std::int64_t total_changes_ = 0;
  int busy_timeout_ms_ = 5000;
  std::vector<std::weak_ptr<RemoteStatement>> user_statements_;
};

class RemoteStatement final : public Statement {
 public:
  RemoteStatement(RemoteConnection& conn, std::string sql);
  ~RemoteStatement() override;
  RemoteStatement(const RemoteStatement&) = delete;
  RemoteStatement& operator=(const RemoteStatement&) = delete;
  RemoteStatement(RemoteStatement&&) = delete;
  RemoteStatement& operator=(RemoteStatement&&) = delete;
  [[nodiscard]] std::string_view sql() const override { return sql_; }
  [[nodiscard]] const sql::Classification& classification() const override { return cls_; }
  [[nodiscard]] bool readonly() const override { return readonly_; }
  [[nodiscard]] int parameter_count() const override { return static_cast<int>(names_.size()); }
  [[nodiscard]] std::optional<std::string> parameter_name(int index) const override;
  [[nodiscard]] std::vector<ColumnInfo> columns() const override;
  void bind(const Params& params) override;
  // Reads the rows from a `v3/cursor` answer as they are stepped, where the server offers it.
  void stream_rows() noexcept { streaming_ = true; }
  void reset() noexcept override;
  [[nodiscard]] bool closed() const noexcept override { return conn_ == nullptr; }
  void close() noexcept override;
  [[nodiscard]] bool blocking() const noexcept override { return true; }

  [[nodiscard]] int column_count() const override;
  [[nodiscard]] std::string_view column_name(int index) const override;
  Step step(const ExecBudget* budget) override;
  [[nodiscard]] ValueType column_type(int index) const override;
  [[nodiscard]] std::int64_t column_int64(int index) const override;
  [[nodiscard]] double column_double(int index) const override;
  [[nodiscard]] std::string_view column_text(int index) const override;
  [[nodiscard]] std::span<const std::byte> column_blob(int index) const override;
  [[nodiscard]] std::int64_t changes() const override;
  [[nodiscard]] std::int64_t last_insert_rowid() const override;

 private:
  void require_open() const;
  // Runs the statement with its bindings unless it has run since the last bind or reset.
  void run() const;
  // The rows of the last run.
  [[nodiscard]] RowReader& reader() const;

  RemoteConnection* conn_;
  std::string sql_;
  sql::Classification cls_;
  bool readonly_;
  std::vector<std::string> names_;
  std::vector<Value> args_;
  bool bound_ = false;
  bool streaming_ = false;
  // Runs so far; a statement run again is stored on the server (store_sql, over WebSocket) and
  // sent by id from then on.
  mutable int runs_ = 0;
  mutable bool store_tried_ = false;
  mutable std::optional<std::int32_t> sql_id_;
  mutable std::optional<ResultReader> result_;
  mutable std::unique_ptr<CursorReader> streamed_;
  mutable std::optional<std::vector<ColumnInfo>> described_;
};

}  // namespace ecto_libsql::remote
