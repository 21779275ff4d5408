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
  Reply value(const Version& v, bool remote = true, bool current = true) {
    Reply r{0, ClientOp::kGet, ReplyStatus::kOk, v, value_for(ops_.at(v), 10)};
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
  checker_.on_write(at(30), WriteRecord{kKey, Version{3000, 0, 100}, false, 99, 10, 0, at(30)},
                    0us);
  read(40, checker_.acked(), 41, value(old_value, /*remote=*/false), hears_all_);
  EXPECT_EQ(violations("no resurrection"), 1u);
}

TEST_F(History, AWriteBelowAVersionItsNodeReturnedFires) {
  const Version deleted = write(1, 10, 5000, /*tombstone=*/true);
  read(20, checker_.acked(), 21, not_found(deleted), hears_all_);
  // Node 0 then writes, stamped below the delete it had just returned.
  checker_.on_write(at(30), WriteRecord{kKey, Version{4000, 0, 100}, false, 98, 10, 0, at(30)},
                    0us);
  EXPECT_EQ(violations("writes follow answers"), 1u);
  checker_.on_write(at(40), WriteRecord{kKey, Version{6000, 0, 100}, false, 97, 10, 0, at(40)},
                    0us);
  EXPECT_EQ(violations("writes follow answers"), 1u);
}

}  // namespace
}  // namespace ckv::sim
