#include "kernel/membership/suspicion.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ckv {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Suspicion, MinimumTimeoutScalesWithLog10OfClusterSize) {
  EXPECT_EQ(suspicion_min_timeout(4, 1, seconds(1)), seconds(4));
  EXPECT_EQ(suspicion_min_timeout(4, 10, seconds(1)), seconds(4));
  EXPECT_EQ(suspicion_min_timeout(4, 100, seconds(1)), seconds(8));
  EXPECT_EQ(suspicion_min_timeout(4, 1000, seconds(1)), seconds(12));
  EXPECT_EQ(suspicion_min_timeout(4, 20, seconds(1)), milliseconds(5204));  // 4 * 1.30103
}

TEST(Suspicion, LifeguardTimeoutShrinksWithConfirmations) {
  const Duration min = seconds(4);
  const Duration max = seconds(24);
  EXPECT_EQ(suspicion_timeout(min, max, 0, 2), max);
  // 24 - 20 * log(2) / log(3) = 11.381...
  EXPECT_EQ(suspicion_timeout(min, max, 1, 2), milliseconds(11381));
  EXPECT_EQ(suspicion_timeout(min, max, 2, 2), min);
  EXPECT_EQ(suspicion_timeout(min, max, 5, 2), min);  // never below the minimum
  EXPECT_EQ(suspicion_timeout(min, max, 0, 0), min);  // nobody to confirm: the minimum
}

TEST(Suspicion, CountsEachAccuserOnceAndStopsAtExpected) {
  const MonoTime start = MonoTime{} + seconds(100);
  Suspicion s("n1", 3, "n2", start, seconds(4), seconds(24), 2);
  EXPECT_EQ(s.deadline(), start + seconds(24));
  EXPECT_FALSE(s.confirm("n2"));  // the first accuser is not a confirmation
  EXPECT_TRUE(s.confirm("n3"));
  EXPECT_FALSE(s.confirm("n3"));
  EXPECT_EQ(s.deadline(), start + milliseconds(11381));
  EXPECT_TRUE(s.confirm("n4"));
  EXPECT_EQ(s.deadline(), start + seconds(4));
  EXPECT_FALSE(s.confirm("n5"));
  EXPECT_EQ(s.confirmations(), 2);
}

}  // namespace
}  // namespace ckv
