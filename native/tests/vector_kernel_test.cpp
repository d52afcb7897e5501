// The index's distance kernels (vector/graph.hpp): the wide-lane paths, their tails and
// unaligned inputs against a double-precision reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "vector/graph.hpp"

namespace {

using ecto_libsql::vector::dot_product;
using ecto_libsql::vector::squared_l2;

struct Reference {
  double dot = 0;
  double l2 = 0;
  double magnitude = 0;  // sum of |terms|, the scale of float rounding
};

Reference reference(const float* a, const float* b, int n) {
  Reference r;
  for (int i = 0; i < n; ++i) {
    const double x = a[i];
    const double y = b[i];
    r.dot += x * y;
    r.l2 += (x - y) * (x - y);
    r.magnitude += std::abs(x * y) + (x - y) * (x - y);
  }
  return r;
}

TEST(VectorKernels, MatchADoublePrecisionSumForEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-2.0F, 2.0F);
  std::vector<float> a(1100);
  std::vector<float> b(1100);
  for (float& x : a)
    x = value(rng);
  for (float& x : b)
    x = value(rng);
  // Every tail length of the 4-, 8-, 16- and 32-float loops, and both aligned and unaligned
  // starts.
  for (int n = 0; n <= 1030; n += (n < 70 ? 1 : 37)) {
    for (std::size_t offset = 0; offset < 3; ++offset) {
      const float* pa = a.data() + offset;
      const float* pb = b.data() + 2 * offset;
      const Reference r = reference(pa, pb, n);
      const double tolerance = 1e-5 * r.magnitude + 1e-6;
      EXPECT_NEAR(dot_product(pa, pb, n), r.dot, tolerance) << "n=" << n << " offset=" << offset;
      EXPECT_NEAR(squared_l2(pa, pb, n), r.l2, tolerance) << "n=" << n << " offset=" << offset;
    }
  }
}

TEST(VectorKernels, ExactForSmallIntegersAndZeroForIdenticalVectors) {
  std::vector<float> a(131);
  std::vector<float> b(131);
  for (int i = 0; i < 131; ++i) {
    a[static_cast<std::size_t>(i)] = static_cast<float>(i % 7 - 3);
    b[static_cast<std::size_t>(i)] = static_cast<float>(i % 5 - 2);
  }
  const Reference r = reference(a.data(), b.data(), 131);
  EXPECT_EQ(dot_product(a.data(), b.data(), 131), static_cast<float>(r.dot));
  EXPECT_EQ(squared_l2(a.data(), b.data(), 131), static_cast<float>(r.l2));
  EXPECT_EQ(squared_l2(a.data(), a.data(), 131), 0.0F);
  EXPECT_EQ(dot_product(a.data(), b.data(), 0), 0.0F);
}

}  // namespace
