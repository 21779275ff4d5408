// Conditional writes (kernel/kv/conditional_writes.cpp) on a hand-driven three-node
// cluster: the owner decides, conditions hold or fail with the current version, racing
// writes from one state get one success, and an owner that is gone makes the write
// "unavailable". The simulator checks the same under faults (sim/cas_checker.h).
#include <gtest/gtest.h>

#include "tests/support/mem_cluster.h"

namespace ckv {
namespace {

using namespace std::chrono_literals;
using Kind = WriteCondition::Kind;

WriteCondition when(Kind kind, std::vector<Version> versions = {}) {
  return WriteCondition{kind, std::move(versions)};
}

class ConditionalWrites : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cluster_.error(), "");
    cluster_.run_for(3s);  // past every node's hand-off wait
  }
  // The node that owns `key` by everyone's view, and one that does not.
  size_t owner(const std::string& key) {
    size_t best = 0;
    for (size_t i = 1; i < cluster_.size(); ++i) {
      if (KeyValue::owner_score(key, cluster_.node(i).name()) >
          KeyValue::owner_score(key, cluster_.node(best).name())) {
        best = i;
      }
    }
    return best;
  }
  size_t not_owner(const std::string& key) { return (owner(key) + 1) % cluster_.size(); }
  Reply write_if(size_t node, uint64_t request, const std::string& key, WriteCondition c,
                 std::string value = "v", bool erase = false) {
    cluster_.node(node).write_if(cluster_.now(node), request, key, erase, std::move(value),
                                 std::nullopt, std::move(c));
    cluster_.advance(50ms);
    const Reply* r = cluster_.reply_to(request);
    return r != nullptr ? *r : Reply{request, ClientOp::kGet, ReplyStatus::kTimeout};
  }
  MemCluster cluster_{3, 100};
};

TEST_F(ConditionalWrites, CreateOnlyOnceThenCompareAndSet) {
  const size_t asker = not_owner("k");
  Reply created = write_if(asker, 1, "k", when(Kind::kAbsent), "one");
  ASSERT_EQ(created.status, ReplyStatus::kOk) << created.error;
  EXPECT_EQ(created.version.node, node_id(cluster_.node(owner("k")).name()))
      << "the owner made the write";
  Reply again = write_if(owner("k"), 2, "k", when(Kind::kAbsent), "two");
  EXPECT_EQ(again.status, ReplyStatus::kPreconditionFailed);
  EXPECT_EQ(again.version, created.version) << "a 412 names the current version";
  Reply swapped = write_if(asker, 3, "k", when(Kind::kMatch, {created.version}), "three");
  ASSERT_EQ(swapped.status, ReplyStatus::kOk);
  EXPECT_GT(swapped.version, created.version);
  Reply stale = write_if(asker, 4, "k", when(Kind::kMatch, {created.version}), "four");
  EXPECT_EQ(stale.status, ReplyStatus::kPreconditionFailed);
  EXPECT_EQ(stale.version, swapped.version);
  // Read-your-writes on the asker, at once.
  cluster_.node(asker).get(cluster_.now(asker), 5, "k");
  cluster_.advance(50ms);
  ASSERT_NE(cluster_.reply_to(5), nullptr);
  EXPECT_EQ(cluster_.reply_to(5)->value, "three");
}

TEST_F(ConditionalWrites, ASeesAWriteAcknowledgedElsewhereBeforeIt) {
  // An unconditional write on one node, acknowledged: the owner's read finds it.
  const size_t other = not_owner("k");
  cluster_.node(other).put(cluster_.now(other), 1, "k", "plain");
  cluster_.pump();
  ASSERT_NE(cluster_.reply_to(1), nullptr);
  const Version plain = cluster_.reply_to(1)->version;  // (replies move as more come)
  Reply created = write_if(owner("k"), 2, "k", when(Kind::kAbsent));
  EXPECT_EQ(created.status, ReplyStatus::kPreconditionFailed);
  EXPECT_EQ(created.version, plain);
  Reply matched = write_if(owner("k"), 3, "k", when(Kind::kMatch, {plain}));
  EXPECT_EQ(matched.status, ReplyStatus::kOk);
}

TEST_F(ConditionalWrites, TwoRacingWritesFromOneStateGetOneSuccess) {
  Reply base = write_if(0, 1, "k", when(Kind::kAbsent));
  ASSERT_EQ(base.status, ReplyStatus::kOk);
  // Both sent in the same instant, from two different nodes.
  cluster_.node(1).write_if(cluster_.now(1), 2, "k", false, "a", std::nullopt,
                            when(Kind::kMatch, {base.version}));
  cluster_.node(2).write_if(cluster_.now(2), 3, "k", false, "b", std::nullopt,
                            when(Kind::kMatch, {base.version}));
  cluster_.advance(100ms);
  ASSERT_NE(cluster_.reply_to(2), nullptr);
  ASSERT_NE(cluster_.reply_to(3), nullptr);
  const int wins = (cluster_.reply_to(2)->status == ReplyStatus::kOk) +
                   (cluster_.reply_to(3)->status == ReplyStatus::kOk);
  EXPECT_EQ(wins, 1);
}

TEST_F(ConditionalWrites, DeleteIfMatchAndIfExists) {
  Reply base = write_if(1, 1, "k", when(Kind::kAbsent));
  ASSERT_EQ(base.status, ReplyStatus::kOk);
  EXPECT_EQ(write_if(2, 2, "gone", when(Kind::kExists), "", true).status,
            ReplyStatus::kPreconditionFailed);
  Reply erased = write_if(2, 3, "k", when(Kind::kMatch, {base.version}), "", true);
  EXPECT_EQ(erased.status, ReplyStatus::kOk);
  EXPECT_EQ(write_if(0, 4, "k", when(Kind::kNotMatch, {base.version})).status, ReplyStatus::kOk)
      << "If-None-Match with a version: holds once the key has no value";
}

TEST_F(ConditionalWrites, AnOwnerThatIsGoneMakesTheWriteUnavailable) {
  const size_t gone = owner("k");
  const size_t asker = not_owner("k");
  cluster_.nodes[gone].reset();  // crashed: it answers nothing
  Reply r = write_if(asker, 1, "k", when(Kind::kAbsent));
  EXPECT_EQ(r.status, ReplyStatus::kTimeout) << "no answer yet: the owner is suspected, not dead";
  cluster_.advance(6s);
  const Reply* late = cluster_.reply_to(1);
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->status, ReplyStatus::kError);
  EXPECT_EQ(late->code, ErrorCode::kUnavailable);
  EXPECT_NE(late->error.find("may or may not"), std::string::npos) << late->error;
}

TEST_F(ConditionalWrites, AnOwnerCutOffWithAMinorityDecidesNothing) {
  // Two of three nodes crash; the third, once it holds them dead, owns every key but sees
  // one member of three: it refuses rather than risk a split deciding twice.
  const size_t survivor = 0;
  cluster_.nodes[1].reset();
  cluster_.nodes[2].reset();
  cluster_.advance(60s);
  ASSERT_EQ(cluster_.node(survivor).members().count(MemberState::kAlive), 1u);
  Reply r = write_if(survivor, 1, "k", when(Kind::kAbsent));
  EXPECT_EQ(r.status, ReplyStatus::kError);
  EXPECT_EQ(r.code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error.find("majority"), std::string::npos) << r.error;
  // Unconditional writes go on as ever.
  cluster_.node(survivor).put(cluster_.now(survivor), 2, "k", "v");
  cluster_.pump();
  ASSERT_NE(cluster_.reply_to(2), nullptr);
  EXPECT_EQ(cluster_.reply_to(2)->status, ReplyStatus::kOk);
}

TEST_F(ConditionalWrites, ConditionsAreChecked) {
  WriteCondition none;
  Reply r = write_if(0, 1, "k", none);
  EXPECT_EQ(r.status, ReplyStatus::kError);
  EXPECT_EQ(r.code, ErrorCode::kInvalidArgument);
  std::vector<Version> many(WriteCondition::kMaxVersions + 1);
  r = write_if(0, 2, "k", when(Kind::kMatch, many));
  EXPECT_EQ(r.code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(when(Kind::kAbsent).holds(false, {}));
  EXPECT_FALSE(when(Kind::kAbsent).holds(true, Version{1, 0, 1}));
  EXPECT_TRUE(when(Kind::kExists).holds(true, Version{1, 0, 1}));
  EXPECT_FALSE(when(Kind::kMatch, {Version{2, 0, 1}}).holds(true, Version{1, 0, 1}));
  EXPECT_FALSE(when(Kind::kMatch, {Version{}}).holds(false, {})) << "nothing matches no value";
  EXPECT_TRUE(when(Kind::kNotMatch, {Version{2, 0, 1}}).holds(true, Version{1, 0, 1}));
}

}  // namespace
}  // namespace ckv
