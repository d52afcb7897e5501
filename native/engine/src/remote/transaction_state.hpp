// Whether the connection's stream on the server holds a transaction, followed from the
// statements that ran on it or read from the server's answer to `get_autocommit` (Hrana 3).
#pragma once

#include <cstdint>
#include <string_view>

#include "ecto_libsql/sql_text.hpp"

namespace ecto_libsql::remote {

class TransactionState {
 public:
  [[nodiscard]] bool open() const noexcept { return open_; }
  // The transaction's number for Connection::transaction_serial(): 0 outside a transaction.
  [[nodiscard]] std::uint64_t serial() const noexcept { return open_ ? serial_ : 0; }
  // The statement `sql`, classified as `cls`, ran (`succeeded`: without an error).
  void ran(const sql::Classification& cls, std::string_view sql, bool succeeded);
  // The server answered whether the stream is in autocommit mode.
  void autocommit_is(bool autocommit);
  // A BEGIN the connection sent succeeded.
  void begun();
  // The stream and its transaction are gone.
  void lose() noexcept;

 private:
  void open_new();
  bool open_ = false;
  int savepoint_depth_ = 0;  // savepoints that opened the transaction (no BEGIN)
  std::uint64_t serial_ = 0;
  std::uint64_t next_serial_ = 1;
};

}  // namespace ecto_libsql::remote
