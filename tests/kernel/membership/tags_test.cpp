// Tags' bounds: what check_tags accepts and refuses, and normalize_tags' ordering.
#include "kernel/membership/tags.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

TEST(Tags, AcceptsSortedTagsWithinBounds) {
  EXPECT_TRUE(check_tags({}).ok());
  EXPECT_TRUE(check_tags({{"az", "eu-1"}, {"role", "cache node"}, {"v.2_x-y", ""}}).ok());
  wire::Tags many;
  for (int i = 0; i < 32; ++i)
    many.push_back({"k" + std::to_string(100 + i), "v"});
  EXPECT_TRUE(check_tags(many).ok());
}

TEST(Tags, RefusesTagsOutOfBounds) {
  wire::Tags too_many;
  for (int i = 0; i < 33; ++i)
    too_many.push_back({"k" + std::to_string(100 + i), ""});
  EXPECT_FALSE(check_tags(too_many).ok());
  EXPECT_FALSE(check_tags({{"", "v"}}).ok());
  EXPECT_FALSE(check_tags({{"a b", "v"}}).ok());
  EXPECT_FALSE(check_tags({{std::string(65, 'k'), "v"}}).ok());
  EXPECT_FALSE(check_tags({{"k", std::string(257, 'v')}}).ok());
  EXPECT_FALSE(check_tags({{"k", "line\nbreak"}}).ok());
  EXPECT_FALSE(check_tags({{"b", ""}, {"a", ""}}).ok());    // unsorted
  EXPECT_FALSE(check_tags({{"a", "1"}, {"a", "2"}}).ok());  // twice
  wire::Tags heavy;
  for (int i = 0; i < 3; ++i)
    heavy.push_back({"k" + std::to_string(i), std::string(200, 'v')});
  EXPECT_FALSE(check_tags(heavy).ok());  // 600 bytes in all
}

TEST(Tags, NormalizeSortsThenChecks) {
  auto sorted = normalize_tags({{"role", "db"}, {"az", "z1"}});
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ(sorted->front().key, "az");
  EXPECT_FALSE(normalize_tags({{"a", "1"}, {"a", "2"}}).ok());
  EXPECT_TRUE(has_tag(*sorted, "role", "db"));
  EXPECT_FALSE(has_tag(*sorted, "role", "cache"));
}

}  // namespace
}  // namespace ckv
