// Engine batches as Hrana `batch` requests: each statement with its arguments in parameter
// order, every step run only when the one before it succeeded, BEGIN ... COMMIT (or a savepoint
// inside a transaction) around a transactional batch, and, for servers that report no counts
// (tursodb), changes() and last_insert_rowid() asked for after each write. The answer is read
// back into one result per statement.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "ecto_libsql/connection.hpp"
#include "hrana_json.hpp"

namespace ecto_libsql::remote {

// True for INSERT, UPDATE and DELETE.
[[nodiscard]] bool is_dml(const sql::Classification& cls) noexcept;
// True for a statement that cannot change the database (a plain SELECT).
[[nodiscard]] bool is_plain_read(const sql::Classification& cls) noexcept;

// Adds a step asking for changes() and last_insert_rowid() after step `after` (for servers that
// report no counts) and answers its index.
std::size_t add_counts_step(json::array& steps, std::size_t after);
// Takes the counts a counts step (see add_counts_step) answered into `result`.
void take_counts(StmtResult& result, const json::value& counts_result);

class HranaBatch {
 public:
  // `inside_transaction`: the stream holds a transaction (a transactional batch then runs in a
  // savepoint); `ask_counts`: the server reports no counts. Throws Error for a statement whose
  // parameters do not fit it, before anything is sent.
  HranaBatch(std::span<const BatchStep> steps, bool transactional, bool inside_transaction,
             bool ask_counts);

  // The `batch` request (once).
  [[nodiscard]] json::object take_request();
  // True when every statement is a plain read: the request may be sent again.
  [[nodiscard]] bool read_only() const noexcept { return read_only_; }
  [[nodiscard]] const sql::Classification& classification(std::size_t i) const {
    return classes_[i];
  }
  // The statements' results from the batch's result (`response.result` of the request's ok
  // result), in order. Throws the error of the first step that failed.
  [[nodiscard]] std::vector<StmtResult> results(const json::object& batch_result) const;

 private:
  json::array steps_;
  std::vector<sql::Classification> classes_;
  std::vector<std::size_t> index_of_;               // each statement's step
  std::vector<std::optional<std::size_t>> counts_;  // each statement's counts step
  std::optional<std::size_t> begin_;                // BEGIN or SAVEPOINT
  std::optional<std::size_t> finish_;               // COMMIT or RELEASE
  bool read_only_ = true;
};

}  // namespace ecto_libsql::remote
