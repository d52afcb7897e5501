#include "replica/forwarded_statement.hpp"

#include "ecto_libsql/replica/replica_connection.hpp"

namespace ecto_libsql::replica {
namespace {

Value own(const ParamValue& v) {
  return std::visit(
      [](const auto& x) -> Value {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          return std::string(x);
        } else if constexpr (std::is_same_v<T, BlobView>) {
          return std::vector<std::byte>(x.bytes.begin(), x.bytes.end());
        } else {
          return x;
        }
      },
      v);
}

ParamValue view(const Value& v) {
  return std::visit(
      [](const auto& x) -> ParamValue {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return std::string_view(x);
        } else if constexpr (std::is_same_v<T, std::vector<std::byte>>) {
          return BlobView{std::span<const std::byte>(x)};
        } else {
          return x;
        }
      },
      v);
}

}  // namespace

ForwardedStatement::ForwardedStatement(std::weak_ptr<ReplicaConnection> owner, std::string sql,
                                       std::shared_ptr<Statement> local)
    : owner_(std::move(owner)), sql_(std::move(sql)), local_(std::move(local)) {}

void ForwardedStatement::bind(const Params& params) {
  if (closed()) throw Error(kCodeMisuse, "Statement is closed");
  local_->bind(params);  // checks names and counts like a local statement
  reset();
  values_.clear();
  names_.clear();
  named_ = params.is_named;
  if (params.is_named) {
    for (const NamedParam& p : params.named) {
      names_.emplace_back(p.name);
      values_.push_back(own(p.value));
    }
  } else {
    for (const ParamValue& p : params.positional)
      values_.push_back(own(p));
  }
}

void ForwardedStatement::reset() noexcept {
  if (remote_) remote_->reset();
  remote_.reset();
  local_->reset();
}

void ForwardedStatement::close() noexcept {
  reset();
  local_->close();
}

Step ForwardedStatement::step(const ExecBudget* budget) {
  if (closed()) throw Error(kCodeMisuse, "Statement is closed");
  if (budget != nullptr && budget->nonblocking && !remote_) return Step::Yield;
  auto owner = owner_.lock();
  if (!owner) throw Error(kCodeMisuse, "Connection is closed");
  if (!remote_) {
    Connection& remote = owner->remote_for_write();
    remote_ = remote.prepare(sql_);
    Params params;
    params.is_named = named_;
    for (std::size_t i = 0; i < values_.size(); ++i) {
      if (named_) {
        params.named.push_back(NamedParam{names_[i], view(values_[i])});
      } else {
        params.positional.push_back(view(values_[i]));
      }
    }
    params.borrowed = true;
    remote_->bind(params);
  }
  const Step step = remote_->step(budget);
  if (step == Step::Done) owner->after_forwarded_write();
  return step;
}

const RowReader& ForwardedStatement::rows() const {
  if (!remote_) return *local_;
  return *remote_;
}

int ForwardedStatement::column_count() const {
  return local_->column_count();
}
std::string_view ForwardedStatement::column_name(int index) const {
  return local_->column_name(index);
}
ValueType ForwardedStatement::column_type(int index) const {
  return rows().column_type(index);
}
std::int64_t ForwardedStatement::column_int64(int index) const {
  return rows().column_int64(index);
}
double ForwardedStatement::column_double(int index) const {
  return rows().column_double(index);
}
std::string_view ForwardedStatement::column_text(int index) const {
  return rows().column_text(index);
}
std::span<const std::byte> ForwardedStatement::column_blob(int index) const {
  return rows().column_blob(index);
}
std::int64_t ForwardedStatement::changes() const {
  return rows().changes();
}
std::int64_t ForwardedStatement::last_insert_rowid() const {
  return rows().last_insert_rowid();
}

}  // namespace ecto_libsql::replica
