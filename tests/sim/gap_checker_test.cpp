// GapChecker on fabricated histories: an old copy served as current after a member change
// fires while a member that held newer is still a witness, and stays quiet when the
// witness restarted, when the observer's view of it changed (it may have been skipped
// honestly), for versions the observer wrote later, and after the observer restarted.
#include "sim/gap_checker.h"

#include <gtest/gtest.h>

namespace ckv::sim {
namespace {

constexpr uint32_t kKey = 3;
const Version kOld{1000, 0, 7};
const Version kNewer{2000, 0, 8};

class Gap : public ::testing::Test {
 protected:
  // Three nodes: n0 observes; a member went in its view while it held kOld and n1 held
  // kNewer.
  GapChecker checker_{3};
  void SetUp() override {
    checker_.on_view_change(0, 2);
    checker_.on_gap(0, kKey, kOld, 1, kNewer);
  }
};

TEST_F(Gap, AnOldCopyServedAsCurrentFires) {
  const auto wrong = checker_.check_local_hit(0, kKey, kOld);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_NE(wrong->find("never revalidated"), std::string::npos) << *wrong;
}

TEST_F(Gap, OtherKeysAndOtherNodesAreNotJudged) {
  EXPECT_FALSE(checker_.check_local_hit(0, kKey + 1, kOld));
  EXPECT_FALSE(checker_.check_local_hit(1, kKey, kOld));
}

TEST_F(Gap, TheNewerVersionOrALaterOwnWriteIsFine) {
  EXPECT_FALSE(checker_.check_local_hit(0, kKey, kNewer));
  EXPECT_FALSE(checker_.check_local_hit(0, kKey, Version{1500, 0, 7}));  // above the old copy
}

TEST_F(Gap, AWitnessThatRestartedNoLongerBinds) {
  checker_.on_crash(1);
  EXPECT_FALSE(checker_.check_local_hit(0, kKey, kOld));
}

TEST_F(Gap, AWitnessTheObserverSawChangeNoLongerBinds) {
  checker_.on_view_change(0, 1);
  EXPECT_FALSE(checker_.check_local_hit(0, kKey, kOld));
}

TEST_F(Gap, OtherNodesViewsOfTheWitnessDoNotMatter) {
  checker_.on_view_change(2, 1);
  checker_.on_crash(2);
  EXPECT_TRUE(checker_.check_local_hit(0, kKey, kOld));
}

TEST_F(Gap, AnObserverThatRestartedStartsOver) {
  checker_.on_crash(0);
  EXPECT_FALSE(checker_.check_local_hit(0, kKey, kOld));
}

TEST(OpensGap, GoingComingBackAndAnUnseenLifeDoReapingAndSuspicionDoNot) {
  const auto change = [](MemberState from, Incarnation from_inc, MemberState to, Incarnation to_inc,
                         bool reaped = false) {
    return MemberChange{{}, "n1", {}, from, from_inc, to, to_inc, false, reaped};
  };
  EXPECT_TRUE(opens_gap(change(MemberState::kSuspect, 1, MemberState::kDead, 1)));
  EXPECT_TRUE(opens_gap(change(MemberState::kAlive, 1, MemberState::kLeft, 1)));
  EXPECT_TRUE(opens_gap(change(MemberState::kDead, 1, MemberState::kAlive, 2)));
  EXPECT_TRUE(opens_gap(change(MemberState::kDead, 1, MemberState::kDead, 2)));
  EXPECT_TRUE(opens_gap(change(MemberState::kDead, 1, MemberState::kLeft, 1)));
  EXPECT_FALSE(opens_gap(change(MemberState::kLeft, 1, MemberState::kLeft, 1)));
  EXPECT_FALSE(opens_gap(change(MemberState::kAlive, 1, MemberState::kSuspect, 1)));
  EXPECT_FALSE(opens_gap(change(MemberState::kDead, 1, MemberState::kDead, 1, true)));
  EXPECT_FALSE(opens_gap(change(MemberState::kAlive, 1, MemberState::kDead, 1, true)));
}

}  // namespace
}  // namespace ckv::sim
