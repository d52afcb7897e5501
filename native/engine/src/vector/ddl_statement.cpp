#include "vector/ddl_statement.hpp"

#include "ecto_libsql/error.hpp"
#include "vector/extension.hpp"

namespace ecto_libsql::vector {

Step DdlStatement::step(const ExecBudget* /*budget*/) {
  if (inner_->closed()) throw_misuse("Statement not found: it is closed");
  if (done_) return Step::Done;
  if (create_) {
    ext_->create_index(*create_, *inner_);
  } else {
    ext_->drop(*inner_);
  }
  done_ = true;
  return Step::Done;
}

}  // namespace ecto_libsql::vector
