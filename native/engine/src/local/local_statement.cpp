#include "local/local_statement.hpp"

#include <string>

#include "ecto_libsql/local/local_connection.hpp"
#include "ecto_libsql/parameters.hpp"

namespace ecto_libsql::local {

LocalStatement::LocalStatement(LocalConnection& conn, sqlite3_stmt* stmt, std::string_view sql)
    : conn_(&conn),
      stmt_(stmt),
      sql_(sql),
      classification_(sql::classify(sql)),
      readonly_(sqlite3_stmt_readonly(stmt) != 0 && !classification_.is_transaction) {}

LocalStatement::~LocalStatement() {
  close();
}

void LocalStatement::close() noexcept {
  if (stmt_ != nullptr) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
}

void LocalStatement::require_open() const {
  if (stmt_ == nullptr) throw_misuse("Statement not found: it is closed");
}

int LocalStatement::column_count() const {
  require_open();
  return sqlite3_column_count(stmt_);
}

std::string_view LocalStatement::column_name(int index) const {
  const char* name = sqlite3_column_name(stmt_, index);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

std::string_view LocalStatement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  const int size = sqlite3_column_bytes(stmt_, index);
  return text != nullptr ? std::string_view(text, static_cast<std::size_t>(size))
                         : std::string_view();
}

std::span<const std::byte> LocalStatement::column_blob(int index) const {
  const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, index));
  const int size = sqlite3_column_bytes(stmt_, index);
  return data != nullptr ? std::span<const std::byte>(data, static_cast<std::size_t>(size))
                         : std::span<const std::byte>();
}

std::int64_t LocalStatement::last_insert_rowid() const {
  return conn_->last_insert_rowid();
}

int LocalStatement::parameter_count() const {
  require_open();
  return sqlite3_bind_parameter_count(stmt_);
}

std::optional<std::string> LocalStatement::parameter_name(int index) const {
  require_open();
  const int count = sqlite3_bind_parameter_count(stmt_);
  if (index < 1 || index > count) {
    throw Error(kCodeRange, "Parameter index " + std::to_string(index) +
                                " out of bounds (statement has " + std::to_string(count) +
                                " parameters)");
  }
  const char* name = sqlite3_bind_parameter_name(stmt_, index);
  if (name == nullptr) return std::nullopt;
  return std::string(name);
}

std::vector<ColumnInfo> LocalStatement::columns() const {
  require_open();
  const int count = sqlite3_column_count(stmt_);
  std::vector<ColumnInfo> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    ColumnInfo info;
    info.name = std::string(column_name(i));
    const char* origin = sqlite3_column_origin_name(stmt_, i);
    info.origin = origin != nullptr ? std::string(origin) : info.name;
    if (const char* decl = sqlite3_column_decltype(stmt_, i)) info.decltype_ = std::string(decl);
    out.push_back(std::move(info));
  }
  return out;
}

void LocalStatement::bind_value(int index, const ParamValue& value, bool borrowed) {
  int rc = SQLITE_OK;
  auto lifetime = borrowed ? SQLITE_STATIC : SQLITE_TRANSIENT;
  switch (value.index()) {
    case 0:
      rc = sqlite3_bind_null(stmt_, index);
      break;
    case 1:
      rc = sqlite3_bind_int64(stmt_, index, std::get<std::int64_t>(value));
      break;
    case 2:
      rc = sqlite3_bind_double(stmt_, index, std::get<double>(value));
      break;
    case 3: {
      std::string_view text = std::get<std::string_view>(value);
      rc = sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(), lifetime,
                               SQLITE_UTF8);
      break;
    }
    case 4: {
      auto bytes = std::get<BlobView>(value).bytes;
      rc = bytes.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                         : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), lifetime);
      break;
    }
    default:
      break;
  }
  if (rc != SQLITE_OK) conn_->throw_error(rc, "bind");
}

void LocalStatement::bind(const Params& params) {
  require_open();
  if (dirty_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  dirty_ = true;
  const int count = sqlite3_bind_parameter_count(stmt_);
  if (!params.is_named) {
    require_parameter_count(static_cast<std::size_t>(count), params.positional.size());
    for (int i = 0; i < count; ++i) {
      bind_value(i + 1, params.positional[static_cast<std::size_t>(i)], params.borrowed);
    }
    return;
  }
  std::vector<std::string_view> names(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt_, i + 1);
    if (name != nullptr) names[static_cast<std::size_t>(i)] = name;
  }
  const std::vector<std::size_t> chosen = resolve_named(names, params.named);
  for (int i = 0; i < count; ++i) {
    bind_value(i + 1, params.named[chosen[static_cast<std::size_t>(i)]].value, params.borrowed);
  }
}

namespace {

// PRAGMA [schema.]journal_mode = ...: switching to or from WAL answers SQLITE_BUSY without
// calling the busy handler while another connection holds a lock (ten connections opening a
// new file at once, say).
bool switches_journal_mode(const sql::Classification& cls, std::string_view sql) {
  if (cls.command != sql::Command::Pragma) return false;
  sql::Lexer lexer(sql);
  sql::Token token{};
  bool assigned = false;
  bool named = false;
  while (lexer.next(token)) {
    if (token.kind == sql::TokenKind::Word && sql::keyword_equals(token.text, "journal_mode")) {
      named = true;
    } else if (named && (token.text == "=" || token.text == "(")) {
      assigned = true;
    }
  }
  return named && assigned;
}

}  // namespace

Step LocalStatement::step(const ExecBudget* budget) {
  require_open();
  dirty_ = true;
  conn_->enter_budget(budget, readonly_);
  int rc = sqlite3_step(stmt_);
  bool yielded = conn_->leave_budget();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE && !yielded && conn_->retry_after_vector_change()) {
    // The statement wrote to a vector index this connection was not maintaining yet; it failed
    // before writing, and runs again now that it is.
    sqlite3_reset(stmt_);
    conn_->enter_budget(budget, readonly_);
    rc = sqlite3_step(stmt_);
    yielded = conn_->leave_budget();
  }
  if (rc == SQLITE_BUSY && !yielded &&
      (conn_->write_lock_may_wait() || switches_journal_mode(classification_, sql_))) {
    // A write of a transaction that has read, or a journal mode switch, which SQLite does not
    // let the busy handler wait for: it waits here, as the busy handler would (yielding when it
    // may), and runs again.
    sqlite3_reset(stmt_);
    for (int count = 0;; ++count) {
      conn_->enter_budget(budget, readonly_);
      const bool again = conn_->wait_busy(count);
      if (again) {
        sqlite3_reset(stmt_);
        rc = sqlite3_step(stmt_);
      }
      yielded = conn_->leave_budget();
      if (!again || rc != SQLITE_BUSY) break;
    }
  }
  if (rc == SQLITE_ROW) return Step::Row;
  if (rc == SQLITE_DONE) {
    const auto cmd = classification_.command;
    changes_ =
        (cmd == sql::Command::Insert || cmd == sql::Command::Update || cmd == sql::Command::Delete)
            ? sqlite3_changes64(conn_->handle())
            : 0;
    return Step::Done;
  }
  if (yielded && ((rc & 0xff) == SQLITE_BUSY || rc == SQLITE_INTERRUPT)) {
    // The statement's effects were undone (statement rollback, or nothing was written yet).
    sqlite3_reset(stmt_);
    return Step::Yield;
  }
  conn_->throw_error(rc, {}, stmt_);
}

bool LocalStatement::blocking() const noexcept {
  return !readonly_ && conn_->may_maintain_vector_index(sql_);
}

void LocalStatement::reset() noexcept {
  if (stmt_ != nullptr && dirty_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    dirty_ = false;
  }
}

}  // namespace ecto_libsql::local
