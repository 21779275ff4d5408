// The change feed (kernel/kv/change_feed.h) alone, and as a node's outbox gives it on a
// hand-driven three-node cluster: puts and deletes of watched keys, each version once and
// rising, resets when the epoch moves.
#include "kernel/kv/change_feed.h"

#include <gtest/gtest.h>

#include "tests/support/mem_cluster.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;
using Kind = ChangeEvent::Kind;

TEST(ChangeFeed, OnlyWatchedKeysEachVersionOnceAndRising) {
  ChangeFeed feed(100);
  std::vector<ChangeEvent> out;
  feed.on_change("a/1", Version{5, 0, 1}, Kind::kPut, out);
  EXPECT_TRUE(out.empty()) << "nobody watches";
  feed.watch("a/");
  feed.on_change("b/1", Version{5, 0, 1}, Kind::kPut, out);
  feed.on_change("a/1", Version{5, 0, 1}, Kind::kPut, out);
  feed.on_change("a/1", Version{5, 0, 1}, Kind::kPut, out);     // again: once
  feed.on_change("a/1", Version{4, 0, 9}, Kind::kDelete, out);  // older: never
  feed.on_change("a/1", Version{6, 0, 1}, Kind::kDelete, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (ChangeEvent{Kind::kPut, "a/1", Version{5, 0, 1}}));
  EXPECT_EQ(out[1], (ChangeEvent{Kind::kDelete, "a/1", Version{6, 0, 1}}));
  out.clear();
  feed.reset(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Kind::kReset);
  feed.on_change("a/1", Version{4, 0, 9}, Kind::kPut, out);  // after a reset, anything
  EXPECT_EQ(out.size(), 2u);
}

TEST(ChangeFeed, APutWithATtlExpiresOnceUnlessALaterVersionCameFirst) {
  ChangeFeed feed(100);
  feed.watch("");
  std::vector<ChangeEvent> out;
  feed.on_change("a", Version{1, 0, 1}, Kind::kPut, out, /*expires_us=*/500);
  feed.on_change("b", Version{1, 0, 1}, Kind::kPut, out, 300);
  feed.on_change("c", Version{1, 0, 1}, Kind::kPut, out, 400);
  feed.on_change("c", Version{2, 0, 1}, Kind::kDelete, out);  // before its expiry
  EXPECT_EQ(feed.next_expiry_us(), 300u);
  out.clear();
  feed.on_clock(299, out);
  EXPECT_TRUE(out.empty());
  feed.on_clock(1000, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (ChangeEvent{Kind::kExpire, "b", Version{1, 0, 1}}));
  EXPECT_EQ(out[1], (ChangeEvent{Kind::kExpire, "a", Version{1, 0, 1}}));
  feed.on_clock(2000, out);
  EXPECT_EQ(out.size(), 2u) << "once";
  EXPECT_EQ(feed.next_expiry_us(), 0u);
}

TEST(ChangeFeed, PastItsBoundItForgetsAndResets) {
  ChangeFeed feed(2);
  feed.watch("");
  std::vector<ChangeEvent> out;
  feed.on_change("a", Version{1, 0, 1}, Kind::kPut, out);
  feed.on_change("b", Version{1, 0, 1}, Kind::kPut, out);
  feed.on_change("c", Version{1, 0, 1}, Kind::kPut, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].kind, Kind::kReset);
  EXPECT_EQ(out[3].key, "c");
  EXPECT_EQ(feed.keys_remembered(), 1u);
}

TEST(ChangeFeed, CountedWatches) {
  ChangeFeed feed(10);
  feed.watch("x");
  feed.watch("x");
  feed.unwatch("x");
  EXPECT_TRUE(feed.watched("xy"));
  feed.unwatch("x");
  EXPECT_FALSE(feed.watching());
}

class Feed : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cluster_.error(), ""); }
  std::vector<ChangeEvent> events_on(size_t node) {
    std::vector<ChangeEvent> out = std::move(cluster_.events[node]);
    cluster_.events[node].clear();
    return out;
  }
  MemCluster cluster_{3, 100};
  uint64_t next_ = 1;
};

TEST_F(Feed, PutsAndDeletesOfOthersArriveWithTheirKind) {
  cluster_.node(1).watch("k");
  cluster_.node(0).put(cluster_.now(0), next_++, "k1", "v");
  cluster_.run_for(50ms);
  cluster_.node(2).erase(cluster_.now(2), next_++, "k1");
  cluster_.node(2).put(cluster_.now(2), next_++, "other", "v");
  cluster_.run_for(50ms);
  // (An origin's first entry after its empty log was acknowledged starts a new epoch at
  // each receiver, kv/key_value.h: a reset before each of these two.)
  std::vector<ChangeEvent> got;
  for (ChangeEvent& e : events_on(1)) {
    if (e.kind != Kind::kReset) got.push_back(std::move(e));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Kind::kPut);
  EXPECT_EQ(got[0].version.node, node_id(cluster_.node(0).name()));
  EXPECT_EQ(got[1].kind, Kind::kDelete);
  EXPECT_EQ(got[1].version.node, node_id(cluster_.node(2).name()));
  EXPECT_TRUE(events_on(0).empty()) << "n0 watches nothing";
}

TEST_F(Feed, AnotherNodesPutWithATtlExpiresHereToo) {
  cluster_.node(1).watch("t");
  cluster_.node(0).put(cluster_.now(0), next_++, "ttl", "v", std::chrono::milliseconds(200));
  cluster_.run_for(50ms);
  std::vector<ChangeEvent> got;
  for (ChangeEvent& e : events_on(1)) {
    if (e.kind != Kind::kReset) got.push_back(std::move(e));
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, Kind::kPut);
  cluster_.run_for(300ms);
  std::vector<ChangeEvent> later = events_on(1);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0], (ChangeEvent{Kind::kExpire, "ttl", got[0].version}));
}

TEST_F(Feed, AMemberThatFailsIsAReset) {
  cluster_.node(1).watch("");
  cluster_.run_for(50ms);
  events_on(1);
  cluster_.nodes[2].reset();  // down
  cluster_.run_for(20s);      // n1 holds n2 failed: its epoch moves
  std::vector<ChangeEvent> got = events_on(1);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().kind, Kind::kReset);
}

}  // namespace
}  // namespace ckv
