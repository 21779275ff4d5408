#include "kernel/kv/hlc.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace ckv {
namespace {

WallTime at_us(int64_t us) {
  return WallTime(Duration(us));
}

TEST(HybridClock, TicksFollowTheWallClockAndNeverRepeat) {
  HybridClock c(7, 0);
  const Version a = c.tick(at_us(1000));
  EXPECT_EQ(a.wall_us, 1000u);
  EXPECT_EQ(a.node, 7u);
  const Version b = c.tick(at_us(1000));  // same microsecond: the counter orders them
  EXPECT_GT(b, a);
  const Version d = c.tick(at_us(900));  // the wall clock went back: still later
  EXPECT_GT(d, b);
  EXPECT_EQ(c.tick(at_us(5000)).wall_us, 5000u);
}

TEST(HybridClock, WitnessedVersionsOrderLaterWritesAfterThem) {
  HybridClock fast(1, 0), slow(2, 0);
  const Version ahead = fast.tick(at_us(9'000'000));
  slow.witness(ahead);
  EXPECT_GT(slow.tick(at_us(1'000)), ahead);
}

TEST(HybridClock, ARestartedClockStartsAtItsPersistedCeiling) {
  HybridClock before(3, 0);
  ASSERT_TRUE(before.needs_lease(at_us(50), 0));
  const uint64_t ceiling = before.next_ceiling(at_us(50));
  const Version issued = before.tick(at_us(50));
  EXPECT_LT(issued.wall_us, ceiling);
  HybridClock after(3, ceiling);  // its wall clock now reads earlier than before the crash
  EXPECT_GT(after.tick(at_us(10)), issued);
}

RC_GTEST_PROP(HybridClock, TicksIncreaseWhateverTheWallClockDoes,
              (std::vector<int64_t> walls, std::vector<uint64_t> seen)) {
  HybridClock c(9, 0);
  Version last;
  for (size_t i = 0; i < walls.size(); ++i) {
    if (i < seen.size()) c.witness(Version{seen[i] % (1ull << 50), 0, 1});
    const Version v = c.tick(at_us(walls[i] % (1ll << 50)));
    RC_ASSERT(v > last);
    RC_ASSERT(v.wall_us >= static_cast<uint64_t>(std::max<int64_t>(0, walls[i] % (1ll << 50))));
    last = v;
  }
}

}  // namespace
}  // namespace ckv
