// Collection (kernel/kv/collection.cpp) on a hand-driven three-node cluster with a short
// horizon: what is collected, when, and what a node back from a long absence drops. The
// simulator checks the same under faults (tests/sim/kv_properties_test.cpp).
#include <gtest/gtest.h>

#include "kernel/wire/codec.h"
#include "tests/support/mem_cluster.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;

NodeConfig short_horizon() {
  NodeConfig config;
  // Half of it well beyond the longest a live node goes unprobed (with a member down,
  // Lifeguard may slow the other's probes to one every 8 s, and it alternates between two).
  config.kv.tombstone_horizon = 60s;
  config.kv.max_query_timeout = 1s;
  return config;
}

class Collection : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cluster_.error(), ""); }
  const Record* held(size_t node, const std::string& key) { return cluster_.store(node).peek(key); }
  MemCluster cluster_{3, 100, short_horizon()};
};

TEST_F(Collection, ATombstoneAndTheMarkersOfItGoOnceTheHorizonHasPassed) {
  cluster_.node(0).put(cluster_.now(0), 1, "k", "v");
  cluster_.run_for(5ms);
  cluster_.node(2).get(cluster_.now(2), 2, "k");  // n2 holds a copy
  cluster_.pump();
  cluster_.run_for(5ms);
  cluster_.node(0).erase(cluster_.now(0), 3, "k");
  cluster_.run_for(1s);
  ASSERT_NE(held(0, "k"), nullptr);
  EXPECT_EQ(held(0, "k")->kind, RecordKind::kTombstone);
  ASSERT_NE(held(2, "k"), nullptr);
  EXPECT_EQ(held(2, "k")->kind, RecordKind::kInvalidated);
  cluster_.run_for(50s);  // 51 s: still within the horizon
  EXPECT_NE(held(0, "k"), nullptr);
  cluster_.run_for(15s);  // past it, and a collection pass (every horizon/16)
  EXPECT_EQ(held(0, "k"), nullptr);
  EXPECT_EQ(held(2, "k"), nullptr);
  EXPECT_GT(cluster_.node(0).stats().collect_rounds, 1u) << "two checks per batch";
  EXPECT_GT(cluster_.node(1).stats().collect_checks_answered, 0u);
  cluster_.node(1).get(cluster_.now(1), 4, "k");
  cluster_.pump();
  const Reply* r = cluster_.reply_to(4);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, ReplyStatus::kNotFound);
  EXPECT_TRUE(r->current);
}

TEST_F(Collection, AValueIsNeverCollectedAndOneThatExpiredIs) {
  cluster_.node(0).put(cluster_.now(0), 1, "kept", "v");
  cluster_.node(0).put(cluster_.now(0), 2, "brief", "v", 100ms);
  cluster_.run_for(70s);
  ASSERT_NE(held(0, "kept"), nullptr);
  EXPECT_EQ(held(0, "kept")->kind, RecordKind::kValue);
  EXPECT_EQ(held(0, "brief"), nullptr);
}

TEST_F(Collection, NothingIsCollectedWhileAMemberIsDown) {
  cluster_.node(0).erase(cluster_.now(0), 1, "k");
  cluster_.advance(5ms);
  ASSERT_NE(cluster_.reply_to(1), nullptr);
  ASSERT_EQ(cluster_.reply_to(1)->status, ReplyStatus::kOk) << cluster_.reply_to(1)->error;
  cluster_.nodes[2].reset();  // down: held suspect, then dead
  cluster_.run_for(100s);
  ASSERT_NE(held(0, "k"), nullptr);
  EXPECT_EQ(held(0, "k")->kind, RecordKind::kTombstone);
  EXPECT_EQ(cluster_.node(0).stats().records_collected, 0u);
  EXPECT_EQ(cluster_.node(0).stats().records_dropped_absent, 0u);
  EXPECT_EQ(cluster_.node(0).stats().collect_rounds, 0u);
}

TEST_F(Collection, ANodeNobodyProbedForHalfTheHorizonDropsItsOldRecordsWhenItIsBack) {
  cluster_.node(2).put(cluster_.now(2), 1, "old", "v");
  cluster_.run_for(10s);
  // n2 hears nothing and is heard by nobody for 40 s (more than half the horizon)...
  const auto cut = [](const MemCluster::InFlight& m) { return m.from == 2 || m.to == 2; };
  cluster_.run_for(40s, cut);
  cluster_.in_flight.clear();
  cluster_.node(2).put(cluster_.now(2), 2, "new", "v");  // (written while cut off)
  cluster_.run_for(5ms, cut);
  EXPECT_TRUE(cluster_.node(2).kv().away(0));
  EXPECT_NE(held(2, "old"), nullptr);
  // ...then is probed again: it drops what is older than three quarters of the horizon
  // (here: 45 s), keeping what is newer, before it answers anyone.
  cluster_.run_for(5s);
  EXPECT_EQ(cluster_.node(2).kv().absence_drops(), 1u);
  EXPECT_EQ(held(2, "old"), nullptr);
  EXPECT_NE(held(2, "new"), nullptr);
  EXPECT_EQ(cluster_.node(2).stats().records_dropped_absent, 1u);
  EXPECT_FALSE(cluster_.node(2).kv().away(0));
}

TEST(CollectionConfig, AHorizonWithinTwiceTheLongestReadIsRefused) {
  NodeConfig config;
  config.kv.max_query_timeout = 1s;
  config.kv.tombstone_horizon = 2s;
  EXPECT_FALSE(Node::validate(config).ok());
  config.kv.tombstone_horizon = 0s;  // never collect
  EXPECT_TRUE(Node::validate(config).ok());
  config.kv.tombstone_horizon = 2001ms;
  EXPECT_TRUE(Node::validate(config).ok());
}

}  // namespace
}  // namespace ckv
