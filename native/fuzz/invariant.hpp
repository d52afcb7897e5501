// What a fuzz target does when the code under test breaks one of its invariants: say which, and
// abort so that libFuzzer keeps the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace ecto_libsql::fuzz {

inline void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace ecto_libsql::fuzz
