#include "kernel/core/compact_string.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <utility>

namespace ckv {
namespace {

TEST(CompactString, HoldsShortAndLongStrings) {
  for (std::string s : {std::string(), std::string("n1"), std::string(15, 'x'),
                        std::string(16, 'y'), std::string(300, 'z')}) {
    CompactString c(s);
    EXPECT_EQ(c.view(), s);
    EXPECT_EQ(c.size(), s.size());
  }
}

RC_GTEST_PROP(CompactString, CopiesAndMovesKeepTheValue,
              (const std::string& a, const std::string& b)) {
  CompactString x(a);
  CompactString y(b);
  CompactString copy = x;
  RC_ASSERT(copy == x);
  y = copy;
  RC_ASSERT(y.view() == a);
  CompactString moved = std::move(copy);
  RC_ASSERT(moved.view() == a);
  RC_ASSERT(copy.empty());  // NOLINT: a moved-from CompactString is empty by contract
  x = CompactString(b);
  RC_ASSERT(x.view() == b);
  RC_ASSERT((CompactString(a) < CompactString(b)) == (a < b));
}

}  // namespace
}  // namespace ckv
