#include "transaction_state.hpp"

namespace ecto_libsql::remote {

void TransactionState::open_new() {
  if (!open_) serial_ = next_serial_++;
  open_ = true;
}

void TransactionState::begun() {
  open_new();
}

void TransactionState::lose() noexcept {
  open_ = false;
  savepoint_depth_ = 0;
}

void TransactionState::autocommit_is(bool autocommit) {
  if (autocommit) {
    lose();
  } else {
    open_new();
  }
}

void TransactionState::ran(const sql::Classification& cls, std::string_view sql, bool succeeded) {
  if (!succeeded) return;
  switch (cls.command) {
    case sql::Command::Begin:
      open_new();
      break;
    case sql::Command::Commit:
      lose();
      break;
    case sql::Command::Rollback:
      if (!sql::rolls_back_to_savepoint(sql)) lose();
      break;
    case sql::Command::Savepoint:
      if (!open_) {
        open_new();
        savepoint_depth_ = 1;
      } else if (savepoint_depth_ > 0) {
        ++savepoint_depth_;
      }
      break;
    case sql::Command::Release:
      if (savepoint_depth_ > 0 && --savepoint_depth_ == 0) open_ = false;
      break;
    default:
      break;
  }
}

}  // namespace ecto_libsql::remote
