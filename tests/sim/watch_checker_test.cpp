// WatchChecker on fabricated histories: each property fires on the feed it exists to
// catch (a version going back, a write missed without a reset, an event no write made)
// and stays quiet when a reset came after the write, or the write came before the watch.
#include "sim/watch_checker.h"

#include <gtest/gtest.h>

#include "sim/kv_workload.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;
using Kind = ChangeEvent::Kind;

MonoTime at(int64_t ms) {
  return MonoTime{} + std::chrono::milliseconds(ms);
}

class Watch : public ::testing::Test {
 protected:
  // Two nodes; n0 watches every key. key1 is written by n1.
  Version write(int64_t ms, uint64_t wall, bool tombstone = false) {
    const Version v{wall, 0, 101};
    kv_.on_write(at(ms), WriteRecord{1, v, tombstone, next_op_++, 10, 1, at(ms)}, 0us);
    return v;
  }
  void event(int64_t ms, Kind kind, const Version& v = {}) {
    watch_.on_event(0, at(ms), ChangeEvent{kind, kind == Kind::kReset ? "" : "key1", v}, kv_);
  }
  size_t violations(const std::string& property) const {
    size_t n = 0;
    for (const Violation& v : kv_.violations())
      n += v.property == property;
    return n;
  }
  KvChecker kv_{2, 2};
  WatchChecker watch_{2};
  uint64_t next_op_ = 1;
};

TEST_F(Watch, EveryWriteSeenIsQuiet) {
  watch_.on_start(0, at(0));
  const Version a = write(10, 1000), b = write(20, 2000, true);
  event(11, Kind::kPut, a);
  event(21, Kind::kDelete, b);
  watch_.check(at(100), kv_, {true, true});
  EXPECT_TRUE(kv_.violations().empty()) << kv_.violations()[0].detail;
}

TEST_F(Watch, AVersionGoingBackFires) {
  watch_.on_start(0, at(0));
  const Version a = write(10, 1000), b = write(20, 2000);
  event(21, Kind::kPut, b);
  event(22, Kind::kPut, a);
  EXPECT_EQ(violations("watchers see a key's versions rise"), 1u);
  event(23, Kind::kReset);
  event(24, Kind::kPut, a);  // after a reset, anything goes
  EXPECT_EQ(violations("watchers see a key's versions rise"), 1u);
}

TEST_F(Watch, AWriteMissedWithoutAResetFires) {
  watch_.on_start(0, at(0));
  const Version a = write(10, 1000);
  write(20, 2000);  // never given
  event(11, Kind::kPut, a);
  watch_.check(at(100), kv_, {true, true});
  EXPECT_EQ(violations("watchers miss nothing silently"), 1u);
}

TEST_F(Watch, AResetAfterTheWriteExcusesItAndOneBeforeDoesNot) {
  watch_.on_start(0, at(0));
  event(5, Kind::kReset);
  write(20, 2000);
  watch_.check(at(100), kv_, {true, true});
  EXPECT_EQ(violations("watchers miss nothing silently"), 1u);
  event(30, Kind::kReset);
  watch_.check(at(100), kv_, {true, true});
  EXPECT_EQ(violations("watchers miss nothing silently"), 1u) << "no new violation";
}

TEST_F(Watch, WritesBeforeTheWatchBindNothing) {
  write(10, 1000);
  watch_.on_start(0, at(50));
  watch_.check(at(100), kv_, {true, true});
  EXPECT_TRUE(kv_.violations().empty());
}

TEST_F(Watch, AnExpireMustNameTheLastPutGivenWithATtl) {
  watch_.on_start(0, at(0));
  const Version v{1000, 0, 101};
  kv_.on_write(at(10), WriteRecord{1, v, false, next_op_++, 10, 1, at(10), /*expires_us=*/5}, 0us);
  const Version plain = write(20, 2000);
  event(11, Kind::kPut, v);
  event(12, Kind::kExpire, v);
  watch_.check(at(100), kv_, {true, true});
  EXPECT_EQ(violations("watch integrity"), 0u);
  event(21, Kind::kPut, plain);
  event(22, Kind::kExpire, v);  // not the version given last
  EXPECT_EQ(violations("watch integrity"), 1u);
  event(23, Kind::kExpire, plain);  // a put without a TTL never expires
  watch_.check(at(100), kv_, {true, true});
  EXPECT_EQ(violations("watch integrity"), 2u);
}

TEST_F(Watch, AnEventNoWriteMadeFires) {
  watch_.on_start(0, at(0));
  const Version a = write(10, 1000);
  event(11, Kind::kDelete, a);  // it was a put
  watch_.check(at(100), kv_, {true, true});
  EXPECT_EQ(violations("watch integrity"), 1u);
}

}  // namespace
}  // namespace ckv::sim
