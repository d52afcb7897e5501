// Linked into the precompiled NIF only (glibc builds), so that it loads on glibc 2.34 and later
// although it is built on a newer glibc.
//
// libstdc++ built on glibc >= 2.36 calls arc4random (GLIBC_2.36) for std::random_device; linked
// statically, that call would raise the NIF's glibc requirement to 2.36. This definition, which
// the version script keeps local to the NIF, satisfies it with getrandom (glibc 2.25) instead.
// arc4random never fails: neither does this (it aborts, as glibc's does, if no randomness can
// be had at all).
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

extern "C" uint32_t arc4random() {
  uint32_t value = 0;
  for (;;) {
    const ssize_t n = ::getrandom(&value, sizeof(value), 0);
    if (n == static_cast<ssize_t>(sizeof(value))) return value;
    if (n < 0 && errno != EINTR) std::abort();
  }
}
