// Waiting for a database lock without keeping a thread.
//
// A call that runs on a thread it must not keep while it waits (a dirty scheduler: the lock's
// holder may need one to release the lock) installs a LockWait while it runs. When a lock is
// busy and `may_yield` is set, SQLite's busy handler then gives up at once with SQLITE_BUSY and
// sets `yielded`: the caller waits elsewhere and runs the whole call again, passing
// `waiting_since` on so that the busy timeout counts the whole wait. Once the timeout has
// passed, SQLITE_BUSY is a real failure. With `may_yield` cleared (the call has done work that
// running it again would repeat) the busy handler waits in place until the timeout.
// Without a LockWait, a busy handler waits the whole busy timeout in place.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "ecto_libsql/error.hpp"

namespace ecto_libsql {

struct LockWait {
  bool may_yield = true;
  std::optional<std::chrono::steady_clock::time_point> waiting_since;
  // Connection::interrupt_count() when the wait began: interrupt() during the wait (while it
  // waits in place, or between two runs of the call) ends it with SQLITE_INTERRUPT.
  std::optional<std::uint64_t> interrupts;
  bool yielded = false;
  bool interrupted = false;

  // Records `count` when the wait begins; answers true (and notes it) once it has changed.
  bool interrupted_by(std::uint64_t count) noexcept {
    if (!interrupts) interrupts = count;
    if (*interrupts != count) interrupted = true;
    return interrupted;
  }

  // Whether `error` means "wait, then run the call again" rather than a failure.
  [[nodiscard]] bool should_retry(const Error& error) const noexcept {
    return yielded && !interrupted && (error.code() & 0xff) == kCodeBusy;
  }
};

// Installs `wait` for the calls made on this thread until the scope ends.
class LockWaitScope {
 public:
  explicit LockWaitScope(LockWait& wait) noexcept;
  ~LockWaitScope();
  LockWaitScope(const LockWaitScope&) = delete;
  LockWaitScope& operator=(const LockWaitScope&) = delete;

  // The LockWait of this thread, or null.
  static LockWait* current() noexcept;

 private:
  LockWait* previous_;
};

}  // namespace ecto_libsql
