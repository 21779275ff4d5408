// CasChecker on fabricated histories: a double success and a stale precondition are
// counted; a chain of successes each from the state before it is not.
#include "sim/cas_checker.h"

#include <gtest/gtest.h>

namespace ckv::sim {
namespace {

using Kind = WriteCondition::Kind;

MonoTime at(int64_t ms) {
  return MonoTime{} + std::chrono::milliseconds(ms);
}

class CasHistory : public ::testing::Test {
 protected:
  // A write of key 0 at version `wall`, and, if `condition` is set, a success from it.
  Version write(uint64_t wall, bool tombstone, std::optional<WriteCondition> condition) {
    const Version v{wall, 0, 7};
    WriteRecord w{0, v, tombstone, wall, 8, 0, at(static_cast<int64_t>(wall))};
    writes_.emplace(v, w);
    if (condition)
      checker_.on_success(CasSuccess{0, v, *condition, at(static_cast<int64_t>(wall)), 1});
    return v;
  }
  const CasCounts& judge() {
    checker_.finish(writes_);
    return checker_.counts();
  }
  std::map<Version, WriteRecord> writes_;
  CasChecker checker_;
};

TEST_F(CasHistory, EachSuccessFromTheStateBeforeItIsFine) {
  const Version created = write(10, false, WriteCondition{Kind::kAbsent, {}});
  const Version swapped = write(20, false, WriteCondition{Kind::kMatch, {created}});
  write(30, true, WriteCondition{Kind::kMatch, {swapped}});
  write(40, false, WriteCondition{Kind::kAbsent, {}});  // after the delete
  const CasCounts& c = judge();
  EXPECT_EQ(c.double_successes, 0u);
  EXPECT_EQ(c.stale_preconditions, 0u);
}

TEST_F(CasHistory, TwoSuccessesFromOneVersionAreADoubleSuccess) {
  const Version base = write(10, false, WriteCondition{Kind::kAbsent, {}});
  write(20, false, WriteCondition{Kind::kMatch, {base}});
  write(30, false, WriteCondition{Kind::kMatch, {base}});
  const CasCounts& c = judge();
  EXPECT_EQ(c.double_successes, 1u);
  EXPECT_EQ(c.stale_preconditions, 0u);
  EXPECT_NE(c.first_violation.find("double success"), std::string::npos);
}

TEST_F(CasHistory, TwoCreatesWithNoDeleteBetweenAreADoubleSuccess) {
  write(10, false, WriteCondition{Kind::kAbsent, {}});
  write(20, false, WriteCondition{Kind::kAbsent, {}});
  EXPECT_EQ(judge().double_successes, 1u);
}

TEST_F(CasHistory, ASuccessOverAnUnconditionalWriteIsAStalePrecondition) {
  const Version base = write(10, false, WriteCondition{Kind::kAbsent, {}});
  write(15, false, std::nullopt);  // another write replaced `base` first
  write(20, false, WriteCondition{Kind::kMatch, {base}});
  const CasCounts& c = judge();
  EXPECT_EQ(c.stale_preconditions, 1u);
  EXPECT_EQ(c.double_successes, 0u);
}

TEST_F(CasHistory, AWriteLostBeforeTheSuccessBeganDoesNotCount) {
  const Version base = write(10, false, WriteCondition{Kind::kAbsent, {}});
  const Version lost = write(15, false, std::nullopt);
  writes_.at(lost).lost_at = at(16);  // a lossy crash took it before the next began
  write(20, false, WriteCondition{Kind::kMatch, {base}});
  EXPECT_EQ(judge().stale_preconditions, 0u);
}

}  // namespace
}  // namespace ckv::sim
