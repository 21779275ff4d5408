#include "kernel/kv/data_bound.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

constexpr uint64_t kSelf = 7;

Record value_of(uint64_t node, size_t bytes, uint64_t wall = 1) {
  return Record{RecordKind::kValue, Version{wall, 0, node}, 0, std::string(bytes, 'v')};
}

TEST(DataBound, CountsOwnWritesApartFromCopies) {
  DataBound bound(kSelf, 1000);
  const Record own = value_of(kSelf, 300), copy = value_of(9, 200);
  bound.on_change("a", nullptr, &own);
  bound.on_change("b", nullptr, &copy);
  EXPECT_EQ(bound.own_bytes(), 300u);
  EXPECT_EQ(bound.copy_bytes(), 200u);
  const Record marker{RecordKind::kInvalidated, copy.version, 0, {}};
  bound.on_change("b", &copy, &marker);
  EXPECT_EQ(bound.copy_bytes(), 0u);
  EXPECT_EQ(bound.copies(), 0u);
  const Record bigger = value_of(kSelf, 500, 2);
  bound.on_change("a", &own, &bigger);
  EXPECT_EQ(bound.own_bytes(), 500u);
}

TEST(DataBound, EvictsLeastRecentlyUsedCopiesAndNeverOwnWrites) {
  DataBound bound(kSelf, 1000);
  const Record own = value_of(kSelf, 600);
  const Record c1 = value_of(9, 200), c2 = value_of(9, 200), c3 = value_of(9, 200);
  bound.on_change("own", nullptr, &own);
  bound.on_change("c1", nullptr, &c1);
  bound.on_change("c2", nullptr, &c2);
  bound.on_change("c3", nullptr, &c3);
  EXPECT_TRUE(bound.over());
  bound.touch("c1");  // used since: c2 goes first
  EXPECT_EQ(bound.oldest_copy(), "c2");
  EXPECT_EQ(bound.oldest_copy(), "c3");
  EXPECT_EQ(bound.oldest_copy(), "c1");
  EXPECT_EQ(bound.oldest_copy(), std::nullopt) << "an own write was offered for eviction";
}

TEST(DataBound, AnOwnWriteFitsOnlyWithinTheBoundWhateverTheCopies) {
  DataBound bound(kSelf, 1000);
  const Record own = value_of(kSelf, 600), copy = value_of(9, 400);
  bound.on_change("own", nullptr, &own);
  bound.on_change("copy", nullptr, &copy);
  EXPECT_TRUE(bound.own_write_fits(0, 400));     // copies make room
  EXPECT_FALSE(bound.own_write_fits(0, 401));    // own writes alone would pass it
  EXPECT_TRUE(bound.own_write_fits(600, 1000));  // replacing its own value
}

TEST(DataBound, DisabledKeepsNothing) {
  DataBound bound(kSelf, 0);
  const Record copy = value_of(9, 5000);
  bound.on_change("c", nullptr, &copy);
  EXPECT_FALSE(bound.over());
  EXPECT_EQ(bound.copies(), 0u);
  EXPECT_TRUE(bound.own_write_fits(0, 1 << 30));
}

TEST(DataBound, ManyTouchesKeepTheQueueBounded) {
  DataBound bound(kSelf, 1 << 20);
  const Record copy = value_of(9, 10);
  bound.on_change("c", nullptr, &copy);
  for (int i = 0; i < 100000; ++i)
    bound.touch("c");
  EXPECT_EQ(bound.oldest_copy(), "c");
  EXPECT_EQ(bound.oldest_copy(), std::nullopt);
}

}  // namespace
}  // namespace ckv
