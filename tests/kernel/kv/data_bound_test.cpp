#include "kernel/kv/data_bound.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernel/core/random.h"

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
  EXPECT_EQ(bound.oldest_copy(), "c3");  // (an offered copy becomes the most recent)
  EXPECT_EQ(bound.oldest_copy(), "c1");
  EXPECT_EQ(bound.oldest_copy(), "c2");
  // Evicted copies leave the order; an own write never enters it.
  for (const char* key : {"c1", "c2", "c3"}) {
    const Record marker{RecordKind::kInvalidated, c1.version, 0, {}};
    bound.on_change(key, &c1, &marker);
  }
  EXPECT_EQ(bound.copies(), 0u);
  EXPECT_EQ(bound.oldest_copy(), std::nullopt) << "an own write was offered for eviction";
  EXPECT_FALSE(bound.over());
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

// The order is exact LRU over any sequence of fills, touches and evictions.
TEST(DataBound, TheOrderIsLeastRecentlyUsedFirst) {
  DataBound bound(kSelf, 1 << 20);
  std::vector<std::string> lru;  // the model: least recent first
  auto use = [&](const std::string& key) {
    std::erase(lru, key);
    lru.push_back(key);
  };
  const Record copy = value_of(9, 10);
  uint64_t state = 42;
  for (int step = 0; step < 2000; ++step) {
    const std::string key = "k" + std::to_string(splitmix64(state) % 50);
    switch (splitmix64(state) % 3) {
      case 0:
        bound.on_change(key, nullptr, &copy);
        use(key);
        break;
      case 1:
        bound.touch(key);
        if (std::find(lru.begin(), lru.end(), key) != lru.end()) use(key);
        break;
      default:
        bound.forget_copy(key);
        std::erase(lru, key);
        break;
    }
    ASSERT_EQ(bound.copies(), lru.size());
  }
  for (const std::string& want : std::vector<std::string>(lru)) {
    EXPECT_EQ(bound.oldest_copy(), want);
  }
}

}  // namespace
}  // namespace ckv
