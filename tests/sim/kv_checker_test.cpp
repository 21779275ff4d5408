// KvChecker on fabricated histories: each property fires on the wrong answer it exists for
// and stays quiet for the answers the guarantees allow (a write concurrent with the read,
// a writer the reader did not have to hear from, a write a crash lost, a local hit).
#include "sim/kv_checker.h"

#include <gtest/gtest.h>

#include "sim/kv_workload.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kKey = 0;

MonoTime at(int64_t ms) {
  return MonoTime{} + std::chrono::milliseconds(ms);
}

class History : public ::testing::Test {
 protected:
  // Three nodes; node 0 reads, nodes 1 and 2 write.
  KvChecker checker_{3, 1};
  std::vector<bool> hears_all_{true, true, true};
  uint64_t next_op_ = 1;

  // A write of the key acknowledged by `node` at `ms`, with a version whose wall time is
  // `wall` (so version order is chosen by the test, whatever the clocks).
  Version write(uint32_t node, int64_t ms, uint64_t wall, bool tombstone = false) {
    const Version v{wall, 0, 100 + node};
    const uint64_t op = next_op_++;
    checker_.on_write(at(ms), WriteRecord{kKey, v, tombstone, op, 10, node, at(ms)}, 0us);
    ops_[v] = op;
    return v;
  }
  // Any write, with the version given whole (a duplicate, or one below another).
  void ack(uint32_t node, int64_t ms, const Version& v, Duration d = 0us, bool tombstone = false) {
    checker_.on_write(at(ms), WriteRecord{kKey, v, tombstone, next_op_++, 10, node, at(ms)}, d);
  }
  Reply value(const Version& v, bool remote = true, bool current = true) {
    Reply r{0, ClientOp::kGet, ReplyStatus::kOk, v, value_for(ops_.at(v), 10)};
    r.content = content_for(ops_.at(v));
    r.remote = remote;
    r.current = current;
    return r;
  }
  static Reply not_found(const Version& v = {}, bool current = true) {
    Reply r{0, ClientOp::kGet, ReplyStatus::kNotFound, v};
    r.remote = true;
    r.current = current;
    return r;
  }
  // Node 0 reads: started at `from_ms` after `acked_before` writes, answered at `to_ms`.
  void read(int64_t from_ms, uint64_t acked_before, int64_t to_ms, const Reply& r,
            const std::vector<bool>& heard) {
    checker_.on_get(at(to_ms), 0, kKey, at(from_ms), acked_before, r, heard);
  }
  size_t violations(const std::string& property) const {
    size_t n = 0;
    for (const Violation& v : checker_.violations())
      n += v.property == property;
    return n;
  }
  std::map<Version, uint64_t> ops_;
};

constexpr const char* kExplained = "reads are explained by the history";

TEST_F(History, A404WhileTheNewestWriteBeforeTheReadIsAValueFires) {
  write(1, 10, 1000);
  read(20, checker_.acked(), 21, not_found(), hears_all_);
  EXPECT_EQ(violations(kExplained), 1u);
}

TEST_F(History, AValueAlreadyOverwrittenBeforeTheReadBeganFires) {
  const Version old_value = write(1, 10, 1000);
  write(2, 15, 2000);
  read(20, checker_.acked(), 21, value(old_value), hears_all_);
  EXPECT_EQ(violations(kExplained), 1u);
}

// A value must come back with the content type its put gave it (sim: content_for).
TEST_F(History, AValueWithAnotherContentTypeFires) {
  const Version v = write(1, 10, 1000);
  Reply r = value(v);
  read(20, checker_.acked(), 21, r, hears_all_);
  EXPECT_TRUE(checker_.violations().empty());
  r.content = {"application/x-not-the-one", ""};
  read(20, checker_.acked(), 21, r, hears_all_);
  EXPECT_EQ(violations("content types kept"), 1u);
  ListedKey listed{"key0", v, 10, 0, r.value, content_for(ops_.at(v))};
  checker_.on_listed_value(at(30), 0, kKey, listed);
  EXPECT_EQ(violations("content types kept"), 1u);
  listed.content = {};
  checker_.on_listed_value(at(30), 0, kKey, listed);
  EXPECT_EQ(violations("content types kept"), 2u);
  listed.content = content_for(ops_.at(v));
  listed.value = "";
  checker_.on_listed_value(at(30), 0, kKey, listed);
  EXPECT_EQ(violations("integrity"), 1u);
}

TEST_F(History, AnAnswerAConcurrentWriteExplainsDoesNotFire) {
  const Version first = write(1, 10, 1000);
  // The read begins; a delete is acknowledged while it is in flight: the old value and
  // the 404 are both explained (the read may be ordered before or after the delete).
  const uint64_t before = checker_.acked();
  const Version deleted = write(2, 25, 2000, /*tombstone=*/true);
  read(20, before, 30, value(first), hears_all_);
  read(20, before, 30, not_found(deleted), hears_all_);
  // And a put acknowledged during the read may be its answer.
  const uint64_t before_put = checker_.acked();
  const Version second = write(1, 45, 3000);
  read(40, before_put, 50, value(second), hears_all_);
  EXPECT_TRUE(checker_.violations().empty()) << checker_.violations().front().detail;
}

TEST_F(History, ACurrentClusterReadBeforeJoiningFires) {
  const Version v = write(1, 10, 1000);
  checker_.on_get(at(21), 0, kKey, at(20), checker_.acked(), value(v), hears_all_,
                  /*joined=*/false);
  EXPECT_EQ(violations("no current answer before joining"), 1u);
  // Not current, or a local hit (the node's own copy), is no claim about the cluster.
  checker_.on_get(at(31), 0, kKey, at(30), checker_.acked(), value(v, true, false), {}, false);
  checker_.on_get(at(41), 0, kKey, at(40), checker_.acked(), value(v, false), {}, false);
  EXPECT_EQ(violations("no current answer before joining"), 1u);
}

TEST_F(History, AnErrorFiresUnlessTheStoreFailedTheOperation) {
  checker_.on_error(at(11), 1, /*excused=*/false, "store refused");
  EXPECT_EQ(violations("no errors"), 1u);
  checker_.on_error(at(12), 1, /*excused=*/true, "store refused");
  EXPECT_EQ(violations("no errors"), 1u);
}

TEST_F(History, A404AfterADeleteIsExplained) {
  write(1, 10, 1000);
  const Version deleted = write(2, 15, 2000, /*tombstone=*/true);
  read(20, checker_.acked(), 21, not_found(deleted), hears_all_);
  read(20, checker_.acked(), 21, not_found(), hears_all_);
  EXPECT_TRUE(checker_.violations().empty());
}

TEST_F(History, A404NamingAPutIsNeverCurrent) {
  const Version put = write(1, 10, 1000);
  // Node 0 did not have to hear from node 1, yet it named node 1's value in a "current" 404.
  read(20, checker_.acked(), 21, not_found(put), {true, false, true});
  EXPECT_EQ(violations(kExplained), 1u);
  // Flagged not current, the same answer is honest.
  read(20, checker_.acked(), 21, not_found(put, /*current=*/false), {true, false, true});
  EXPECT_EQ(violations(kExplained), 1u);
}

TEST_F(History, WritesOfNodesTheReaderDidNotHaveToHearFromDoNotBindIt) {
  const Version first = write(1, 10, 1000);
  write(2, 15, 2000);  // node 2 was not a member in node 0's view
  read(20, checker_.acked(), 21, value(first), {true, true, false});
  EXPECT_TRUE(checker_.violations().empty());
}

TEST_F(History, WritesACrashLostDoNotBindLaterReads) {
  const Version first = write(1, 10, 1000);
  write(2, 15, 2000);
  checker_.on_lossy_crash(at(16), 2, at(12));  // node 2's write at 15 ms was not durable
  read(20, checker_.acked(), 21, value(first), hears_all_);
  EXPECT_TRUE(checker_.violations().empty());
}

TEST_F(History, LocalHitsAndAnswersNotCurrentAreHeldToTheNodesOwnHistoryOnly) {
  const Version old_value = write(1, 10, 1000);
  write(2, 15, 2000);
  read(20, checker_.acked(), 21, value(old_value, /*remote=*/false), hears_all_);
  read(20, checker_.acked(), 21, value(old_value, true, /*current=*/false), hears_all_);
  EXPECT_TRUE(checker_.violations().empty());
  // Its own write binds it, local or not.
  ack(0, 30, Version{3000, 0, 100});
  read(40, checker_.acked(), 41, value(old_value, /*remote=*/false), hears_all_);
  EXPECT_EQ(violations("no stale read"), 1u);
}

TEST_F(History, AValueBelowADeleteTheNodeHadIsAResurrection) {
  const Version old_value = write(1, 10, 1000);
  const Version deleted = write(2, 15, 2000, /*tombstone=*/true);
  read(20, checker_.acked(), 21, not_found(deleted), hears_all_);
  read(30, checker_.acked(), 31, value(old_value, /*remote=*/false), hears_all_);
  EXPECT_EQ(violations("no resurrection"), 1u);
  EXPECT_EQ(checker_.violations().size(), 1u);
}

TEST_F(History, AWriteBelowAVersionItsNodeReturnedFires) {
  const Version deleted = write(1, 10, 5000, /*tombstone=*/true);
  read(20, checker_.acked(), 21, not_found(deleted), hears_all_);
  // Node 0 then writes, stamped below the delete it had just returned.
  ack(0, 30, Version{4000, 0, 100});
  EXPECT_EQ(violations("writes follow answers"), 1u);
  ack(0, 40, Version{6000, 0, 100});
  EXPECT_EQ(violations("writes follow answers"), 1u);
}

TEST_F(History, TwoWritesWithOneVersionFire) {
  write(1, 10, 1000);
  ack(2, 20, Version{1000, 0, 101});
  EXPECT_EQ(violations("unique versions"), 1u);
  // The same wall time from another node is another version.
  ack(2, 30, Version{1000, 0, 102});
  EXPECT_EQ(checker_.violations().size(), 1u);
}

TEST_F(History, AWriteStartedAfterAnotherEndedButVersionedBelowItFires) {
  write(1, 10, 2000);
  // Node 2 writes 20 ms later with clocks at most 5 ms apart, yet gets a lower version.
  ack(2, 30, Version{1000, 0, 102}, 5ms);
  EXPECT_EQ(violations("real-time order"), 1u);
  // Clocks up to 25 ms apart make the two writes concurrent: either order is right.
  ack(0, 31, Version{1500, 0, 100}, 25ms);
  EXPECT_EQ(violations("real-time order"), 1u);
}

TEST_F(History, AValueNoWriteMadeFires) {
  const Version v = write(1, 10, 1000);
  // A version nobody wrote.
  Reply unknown{0, ClientOp::kGet, ReplyStatus::kOk, Version{999, 0, 101}, "x"};
  read(20, checker_.acked(), 21, unknown, hears_all_);
  // The right version with other bytes.
  Reply wrong_bytes = value(v);
  wrong_bytes.value[0] ^= 1;
  read(20, checker_.acked(), 21, wrong_bytes, hears_all_);
  EXPECT_EQ(violations("integrity"), 2u);
  read(20, checker_.acked(), 21, value(v), hears_all_);  // the right bytes
  EXPECT_EQ(checker_.violations().size(), 2u);
  // A current 404 naming a version nobody wrote.
  read(20, checker_.acked(), 21, not_found(Version{3000, 0, 101}), hears_all_);
  EXPECT_EQ(violations("integrity"), 3u);
}

TEST_F(History, ANodeForgettingItsOwnValueFires) {
  // Node 0 writes, then answers 404 from its own copy: its write is lost.
  ack(0, 10, Version{1000, 0, 100});
  read(20, checker_.acked(), 21, not_found({}, /*current=*/false), hears_all_);
  EXPECT_EQ(violations("no lost write"), 1u);
  // After its own delete, a 404 below the delete is fine (a tombstone may be forgotten).
  ack(0, 30, Version{2000, 0, 100}, 0us, /*tombstone=*/true);
  read(40, checker_.acked(), 41, not_found({}, /*current=*/false), hears_all_);
  // And after a crash that lost what it had not made durable, it starts over.
  ack(0, 50, Version{3000, 0, 100});
  checker_.on_lossy_crash(at(55), 0, at(45));
  read(60, checker_.acked(), 61, not_found({}, /*current=*/false), hears_all_);
  EXPECT_EQ(checker_.violations().size(), 1u);
}

TEST_F(History, AReadSlowerThanItsRoundsAllowFires) {
  checker_.set_prompt_bound(100ms);
  checker_.set_formed(at(0));
  const Version v = write(1, 10, 1000);
  read(20, checker_.acked(), 170, value(v), hears_all_);  // one round: 150 ms > 100 ms
  EXPECT_EQ(violations("promptness"), 1u);
  read(20, checker_.acked(), 30, value(v, true, /*current=*/false), hears_all_);
  EXPECT_EQ(violations("promptness"), 2u);
  // Two rounds (a write raced it) earn twice the bound.
  Reply two_rounds = value(v);
  two_rounds.rounds = 2;
  read(20, checker_.acked(), 170, two_rounds, hears_all_);
  // And a read begun before the cluster formed is not held to it.
  checker_.set_formed(at(25));
  read(20, checker_.acked(), 400, value(v), hears_all_);
  EXPECT_EQ(checker_.violations().size(), 2u);
}

TEST_F(History, NodesThatDisagreeAfterTheFaultsFire) {
  const Version old_value = write(1, 10, 1000);
  const Version newest = write(2, 20, 2000);
  // Disagreement.
  checker_.check_convergence(at(100), kKey, {{0, value(old_value)}, {1, value(newest)}}, true);
  // Agreement on a version below the newest write, which a live node holds.
  checker_.check_convergence(at(100), kKey, {{0, value(old_value)}, {1, value(old_value)}}, true);
  // Agreement on the newest, but not knowing it is current.
  checker_.check_convergence(
      at(100), kKey, {{0, value(newest, true, false)}, {1, value(newest, true, false)}}, true);
  EXPECT_EQ(violations("convergence"), 3u);
  // The near misses: all agree on the newest, current; or the newest write is gone with
  // its holders and all agree, not current, on what is left.
  checker_.check_convergence(at(100), kKey, {{0, value(newest)}, {1, value(newest)}}, true);
  checker_.check_convergence(
      at(100), kKey, {{0, value(old_value, true, false)}, {1, value(old_value, true, false)}},
      false);
  EXPECT_EQ(checker_.violations().size(), 3u);
}

TEST_F(History, AnAcknowledgedWriteNoLiveNodeHoldsFires) {
  write(1, 10, 1000);
  // Nobody holds it though its writer is up and never lost a write.
  checker_.check_survival(at(100), kKey, /*held=*/false, /*writer_up=*/true);
  EXPECT_EQ(violations("acknowledged writes survive"), 1u);
  // The near misses: held; its writer is down; a lossy crash of its writer lost it.
  checker_.check_survival(at(100), kKey, true, true);
  checker_.check_survival(at(100), kKey, false, false);
  checker_.on_lossy_crash(at(50), 1, at(5));
  checker_.check_survival(at(100), kKey, false, true);
  EXPECT_EQ(checker_.violations().size(), 1u);
}

TEST_F(History, AWriteStoredButNeverAcknowledgedMayBeReadButNeedNotBe) {
  const Version acked = write(1, 10, 1000);
  const Version stored{2000, 0, 102};
  checker_.on_unacknowledged_write(WriteRecord{kKey, stored, false, 77, 10, 2, at(20)});
  ops_[stored] = 77;
  // Reading it is no integrity breach, and a read that misses it is not stale.
  read(30, checker_.acked(), 31, value(stored), hears_all_);
  checker_.on_lossy_crash(at(32), 0, at(0));  // (node 0 forgets what it read)
  read(40, checker_.acked(), 41, value(acked), hears_all_);
  EXPECT_TRUE(checker_.violations().empty());
  // It is the newest write: every node must converge on it, while a live node holds it.
  checker_.check_convergence(at(100), kKey, {{0, value(acked)}, {1, value(acked)}}, true);
  EXPECT_EQ(violations("convergence"), 1u);
  // And a later write that started after the crash is not held to real-time order
  // against it (nobody heard of it).
  ack(1, 60, Version{1500, 0, 101}, 1ms);
  EXPECT_EQ(violations("real-time order"), 0u);
}

TEST_F(History, ANodeStampingBelowItsEarlierWriteFires) {
  ack(1, 10, Version{5000, 0, 101});
  // A crash that loses the write does not let the node go back (its clock lease), even
  // for another key, which the per-key floors would not see.
  checker_.on_lossy_crash(at(12), 1, at(5));
  checker_.on_write(at(20), WriteRecord{kKey + 1, Version{4000, 0, 101}, false, 90, 10, 1, at(20)},
                    0us);
  EXPECT_EQ(violations("a node's versions only go up"), 1u);
  ack(1, 30, Version{6000, 0, 101});  // above: fine
  EXPECT_EQ(checker_.violations().size(), 1u);
}

}  // namespace
}  // namespace ckv::sim
