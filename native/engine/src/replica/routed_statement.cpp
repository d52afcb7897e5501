#include "replica/routed_statement.hpp"

#include "ecto_libsql/parameters.hpp"
#include "ecto_libsql/replica/replica_connection.hpp"

namespace ecto_libsql::replica {
bool may_run_on_server(const sql::Classification& cls, const Error& local_error) noexcept {
  if ((local_error.code() & 0xff) != kCodeError) return false;
  return cls.command == sql::Command::Insert || cls.command == sql::Command::Update ||
         cls.command == sql::Command::Delete || cls.command == sql::Command::Create;
}

bool begins_writing(std::string_view sql) noexcept {
  sql::Lexer lexer(sql);
  sql::Token token{};
  int words = 0;
  while (lexer.next(token)) {
    if (token.kind == sql::TokenKind::Space || token.kind == sql::TokenKind::Comment) continue;
    if (token.kind != sql::TokenKind::Word) return false;
    if (++words == 1) {
      if (!sql::keyword_equals(token.text, "BEGIN")) return false;
      continue;
    }
    return sql::keyword_equals(token.text, "IMMEDIATE") ||
           sql::keyword_equals(token.text, "EXCLUSIVE");
  }
  return false;
}

RoutedStatement::RoutedStatement(std::weak_ptr<ReplicaConnection> owner, std::string sql,
                                 std::shared_ptr<Statement> local,
                                 std::shared_ptr<Statement> server)
    : owner_(std::move(owner)),
      sql_(std::move(sql)),
      cls_(local ? local->classification() : sql::classify(sql_)),
      begins_writing_(cls_.command == sql::Command::Begin && begins_writing(sql_)),
      local_(std::move(local)),
      server_(std::move(server)) {
  if (!local_ && !server_) throw Error(kCodeMisuse, "a routed statement needs a statement");
}

const Statement& RoutedStatement::described() const {
  return local_ ? *local_ : *server_;
}

bool RoutedStatement::closed() const noexcept {
  return closed_ || (local_ ? local_->closed() : server_->closed());
}

void RoutedStatement::require_open() const {
  if (closed()) throw Error(kCodeMisuse, "Statement is closed");
}

bool RoutedStatement::readonly() const {
  if (running_ != nullptr) return running_->readonly();
  return described().readonly();
}

std::vector<ColumnInfo> RoutedStatement::columns() const {
  require_open();
  if (running_ != nullptr) return running_->columns();
  return described().columns();
}

void RoutedStatement::bind(const Params& params) {
  require_open();
  reset();
  // The statement that describes this one checks the names and counts.
  Statement& checker = local_ ? *local_ : *server_;
  checker.bind(params);
  bound_to_ = &checker;
  // Kept in parameter order for the place the statement runs.
  for (const ParamValue* value : parameter_values(parameter_names_of(checker), params))
    values_.push_back(owned_value(*value));
  bound_ = true;
}

void RoutedStatement::reset() noexcept {
  running_ = nullptr;
  finished_ = false;
  if (local_) local_->reset();
  if (server_) server_->reset();
  values_.clear();
  bound_ = false;
  bound_to_ = nullptr;
}

void RoutedStatement::close() noexcept {
  reset();
  closed_ = true;
  if (local_) local_->close();
  if (server_) server_->close();
}

bool RoutedStatement::goes_to_server() const noexcept {
  if (running_ != nullptr) return running_ == server_.get();
  auto owner = owner_.lock();
  if (!owner) return false;
  // Not prepared locally: it may still run there once the local file can prepare it.
  if (!local_) return true;
  return owner->place_of(cls_, begins_writing_, local_.get()) == ReplicaConnection::Place::Server;
}

bool RoutedStatement::blocking() const noexcept {
  return goes_to_server();
}

Statement& RoutedStatement::start() {
  auto owner = owner_.lock();
  if (!owner) throw Error(kCodeMisuse, "Connection is closed");
  if (!local_ && !owner->in_server_transaction()) {
    // Prepared inside a transaction that ran on the server, or refused by the local file (before
    // a pull): outside such a transaction the local file is asked again.
    try {
      local_ = owner->prepare_local(sql_);
    } catch (const Error& e) {
      if (!may_run_on_server(cls_, e)) throw;
    }
  }
  Statement* target = nullptr;
  if (owner->place_of(cls_, begins_writing_, local_.get()) == ReplicaConnection::Place::Local) {
    target = local_.get();
    was_in_transaction_ = owner->local_in_transaction();
    owner->note_local_statement();
  } else {
    Connection& server = owner->server_for_statement();
    if (!server_ || server_->closed()) server_ = server.prepare(sql_);
    target = server_.get();
  }
  if (bound_ && bound_to_ != target) {
    Params params;
    for (const Value& value : values_)
      params.positional.push_back(borrowed_value(value));
    params.borrowed = true;  // values_ lives until the statement is reset
    target->bind(params);
    bound_to_ = target;
  }
  running_ = target;
  return *target;
}

Step RoutedStatement::step(const ExecBudget* budget) {
  require_open();
  if (running_ == nullptr) {
    // The server is asked over the network: not where blocking is forbidden.
    if (budget != nullptr && budget->nonblocking && goes_to_server()) return Step::Yield;
    start();
  }
  auto owner = owner_.lock();
  if (!owner) throw Error(kCodeMisuse, "Connection is closed");
  if (running_ == local_.get()) {
    const Step step = local_->step(budget);
    if (step == Step::Done && cls_.is_transaction && !finished_) {
      finished_ = true;
      owner->after_local_transaction_statement(sql_, cls_, was_in_transaction_);
    }
    return step;
  }
  const Step step = on_server_failure([&] { return server_->step(budget); });
  if (step == Step::Done && !finished_) {
    finished_ = true;
    owner->after_server_statement(cls_, true);
  }
  return step;
}

const RowReader& RoutedStatement::rows() const {
  if (running_ != nullptr) return *running_;
  return described();
}

int RoutedStatement::column_count() const {
  require_open();
  if (running_ != nullptr) return running_->column_count();
  // Bound and about to run: the place decides (a table altered in a transaction on the server
  // has the server's columns), and on the server the statement runs now.
  if (bound_) {
    auto* self =
        const_cast<RoutedStatement*>(this);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    Statement& target = self->start();
    return self->on_server_failure([&] { return target.column_count(); });
  }
  // Not bound: described without running it.
  if (local_) return local_->column_count();
  return static_cast<int>(server_->columns().size());
}

std::string_view RoutedStatement::column_name(int index) const {
  require_open();
  if (running_ == nullptr && bound_) {
    auto* self =
        const_cast<RoutedStatement*>(this);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    Statement& target = self->start();
    return self->on_server_failure([&] { return target.column_name(index); });
  }
  return rows().column_name(index);
}

ValueType RoutedStatement::column_type(int index) const {
  return rows().column_type(index);
}
std::int64_t RoutedStatement::column_int64(int index) const {
  return rows().column_int64(index);
}
double RoutedStatement::column_double(int index) const {
  return rows().column_double(index);
}
std::string_view RoutedStatement::column_text(int index) const {
  return rows().column_text(index);
}
std::span<const std::byte> RoutedStatement::column_blob(int index) const {
  return rows().column_blob(index);
}
std::int64_t RoutedStatement::changes() const {
  return rows().changes();
}
std::int64_t RoutedStatement::last_insert_rowid() const {
  return rows().last_insert_rowid();
}

}  // namespace ecto_libsql::replica
