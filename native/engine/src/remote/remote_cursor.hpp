// Rows of one statement read from a `v3/cursor` answer (Hrana 3 over HTTP: newline-separated
// JSON entries) as they are stepped: only the entries of the rows stepped so far are read from
// the socket.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "hrana_stream.hpp"
#include "value_rows.hpp"

namespace ecto_libsql::remote {

class CursorReader final : public ValueRowReader {
 public:
  // `own_stream`: the cursor opened a stream of its own (outside a transaction), closed when
  // the answer has been read.
  CursorReader(HranaStream& stream, HttpClient& client, bool own_stream);
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
  [[nodiscard]] std::vector<ColumnInfo> columns() const;
  [[nodiscard]] bool own_stream() const noexcept { return own_stream_; }
  // Reads the rest of the answer into memory, so that the stream and the socket are free for
  // other requests. Throws when the answer cannot be read.
  void drain();

 private:
  // The next entry of the answer, or null at its end.
  json::value next_entry();
  // Handles a step_begin/step_end/error entry; answers true for a row (now in `row_`).
  bool take(const json::value& entry, std::vector<Value>& row);
  // Reads entries up to the next row (answers true, the row in `row`) or the end of the rows
  // (answers false, rows_done_ set).
  bool next_row(std::vector<Value>& row);
  // Throws what a read of the answer that failed with `error` means (HranaStream::failure);
  // inside a transaction the transaction is abandoned with the stream.
  [[noreturn]] void lost(const Error& error);
  // Ends the exchange: discards what is left of the answer (inside a transaction) or drops
  // the socket, then closes the cursor's own stream.
  void finish() noexcept;
  [[nodiscard]] const Value& cell(int index) const override;

  HranaStream& stream_;
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

}  // namespace ecto_libsql::remote
