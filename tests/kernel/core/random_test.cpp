#include "kernel/core/random.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <set>

namespace ckv {
namespace {

TEST(Prng, SameSeedSameSequenceOnEveryPlatform) {
  // These values pin the generator: a change here breaks seed replay across versions.
  Prng a(42);
  Prng b(42);
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(a.next(), b.next());
  Prng c(1);
  EXPECT_EQ(c.next(), 0xb3f2af6d0fc710c5ULL);
  EXPECT_EQ(c.next(), 0x853b559647364ceaULL);
}

TEST(Prng, DifferentSeedsDiffer) {
  Prng a(1);
  Prng b(2);
  EXPECT_NE(a.next(), b.next());
}

RC_GTEST_PROP(Prng, BelowStaysInRange, (uint64_t seed, uint64_t bound)) {
  RC_PRE(bound > 0);
  Prng p(seed);
  for (int i = 0; i < 100; ++i)
    RC_ASSERT(p.below(bound) < bound);
}

RC_GTEST_PROP(Prng, BetweenIsInclusive, (uint64_t seed, int32_t a, int32_t b)) {
  const int64_t lo = std::min(a, b);
  const int64_t hi = std::max(a, b);
  Prng p(seed);
  for (int i = 0; i < 100; ++i) {
    const int64_t v = p.between(lo, hi);
    RC_ASSERT(v >= lo);
    RC_ASSERT(v <= hi);
  }
}

TEST(Prng, BelowIsRoughlyUniform) {
  Prng p(7);
  std::array<int, 6> counts{};
  const int draws = 60000;
  for (int i = 0; i < draws; ++i)
    counts[p.below(6)]++;
  for (int c : counts) {
    EXPECT_GT(c, draws / 6 * 0.95);
    EXPECT_LT(c, draws / 6 * 1.05);
  }
}

TEST(Prng, ChanceMatchesProbability) {
  Prng p(9);
  int hits = 0;
  for (int i = 0; i < 100000; ++i)
    hits += p.chance(0.25) ? 1 : 0;
  EXPECT_NEAR(hits / 100000.0, 0.25, 0.01);
  EXPECT_FALSE(p.chance(0.0));
  EXPECT_TRUE(p.chance(1.0));
}

RC_GTEST_PROP(Prng, ShuffleIsAPermutation, (uint64_t seed, std::vector<int> items)) {
  auto shuffled = items;
  Prng p(seed);
  p.shuffle(shuffled);
  std::sort(items.begin(), items.end());
  std::sort(shuffled.begin(), shuffled.end());
  RC_ASSERT(items == shuffled);
}

}  // namespace
}  // namespace ckv
