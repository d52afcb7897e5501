#include "ecto_libsql/lock_wait.hpp"

namespace ecto_libsql {
namespace {
thread_local LockWait* t_lock_wait = nullptr;
}  // namespace

LockWaitScope::LockWaitScope(LockWait& wait) noexcept : previous_(t_lock_wait) {
  t_lock_wait = &wait;
}

LockWaitScope::~LockWaitScope() {
  t_lock_wait = previous_;
}

LockWait* LockWaitScope::current() noexcept {
  return t_lock_wait;
}

}  // namespace ecto_libsql
