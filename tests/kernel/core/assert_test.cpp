#include "kernel/core/assert.h"

#include <gtest/gtest.h>

#include <string>

namespace ckv {
namespace {

AssertionFailure g_seen{};

void record(const AssertionFailure& f) {
  g_seen = f;
  throw f;  // (a handler that returns makes the process abort)
}

TEST(Assert, AFailedAssertionCallsTheHandlerWithWhatAndWhere) {
  const AssertHandler previous = set_assert_handler(&record);
  int evaluated = 0;
  CKV_ASSERT(++evaluated == 1, "holds");
  EXPECT_EQ(evaluated, 1) << "the kernel tests run with assertions on";
  EXPECT_THROW(CKV_ASSERT(evaluated == 2, "does not hold"), AssertionFailure);
  EXPECT_EQ(std::string(g_seen.condition), "evaluated == 2");
  EXPECT_EQ(std::string(g_seen.why), "does not hold");
  EXPECT_NE(std::string(g_seen.file).find("assert_test.cpp"), std::string::npos);
  EXPECT_GT(g_seen.line, 0);
  set_assert_handler(previous);
}

TEST(AssertDeathTest, WithoutAHandlerAFailedAssertionAborts) {
  const AssertHandler previous = set_assert_handler(nullptr);
  EXPECT_DEATH(CKV_ASSERT(1 + 1 == 3, "arithmetic"), "");
  set_assert_handler(previous);
}

}  // namespace
}  // namespace ckv
