// InvalidationLog on its own: what it says to send each member, and what it keeps.
#include "kernel/kv/invalidation_log.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

using namespace std::chrono_literals;

constexpr Duration kResend = 200ms;
const MonoTime t0 = MonoTime{} + 1s;

InvalidationLog::Pending::Kind kind(InvalidationLog& log, std::string_view member, MonoTime now) {
  return log.pending(member, now, kResend).kind;
}

TEST(InvalidationLog, AnEmptyLogSendsNothingToAMemberItDoesNotTrack) {
  InvalidationLog log(7, 100, 1 << 20);
  EXPECT_EQ(kind(log, "n1", t0), InvalidationLog::Pending::kNothing);
  log.mark_sent("n1", t0);  // sending nothing creates no state either
  EXPECT_EQ(log.followers(), 0u);
  EXPECT_EQ(log.next_resend(kResend), kNever);
}

TEST(InvalidationLog, AnEmptyLogAnnouncesItselfToATrackedMemberUntilItAcknowledges) {
  InvalidationLog log(7, 100, 1 << 20);
  log.track("n1");
  log.track("n2");
  const InvalidationLog::Pending p = log.pending("n1", t0, kResend);
  EXPECT_EQ(p.kind, InvalidationLog::Pending::kReset);
  log.mark_sent("n1", t0);
  EXPECT_EQ(kind(log, "n1", t0 + 100ms), InvalidationLog::Pending::kNothing);  // in flight
  EXPECT_LE(log.next_resend(kResend), t0 + kResend);
  EXPECT_EQ(kind(log, "n1", t0 + kResend), InvalidationLog::Pending::kReset);  // resent
  log.track("n1");  // tracking again keeps its state: still throttled
  EXPECT_EQ(kind(log, "n1", t0 + 100ms), InvalidationLog::Pending::kNothing);

  log.on_ack("n1", 0);             // acknowledged: forgotten, and never announced to again
  EXPECT_EQ(log.followers(), 1u);  // n2 still owes its acknowledgement
  EXPECT_EQ(kind(log, "n1", t0 + 10s), InvalidationLog::Pending::kNothing);
  EXPECT_EQ(kind(log, "n2", t0), InvalidationLog::Pending::kReset);
  log.on_ack("n2", 0);
  EXPECT_EQ(log.followers(), 0u);
  EXPECT_EQ(log.next_resend(kResend), kNever);
}

TEST(InvalidationLog, AMemberThatLeftIsNoLongerAnnouncedTo) {
  InvalidationLog log(7, 100, 1 << 20);
  log.track("n1");
  log.forget("n1");
  EXPECT_EQ(log.followers(), 0u);
  EXPECT_EQ(kind(log, "n1", t0), InvalidationLog::Pending::kNothing);
}

TEST(InvalidationLog, AfterAWriteAMemberWithoutStateGetsEverythingFromTheStart) {
  InvalidationLog log(7, 100, 1 << 20);
  log.track("n1");
  log.on_ack("n1", 0);  // acknowledged the empty log: forgotten
  ASSERT_EQ(log.followers(), 0u);
  log.append("a", Version{}, wire::EntryWrite{wire::EntryKind::kPut, 0});
  log.append("b", Version{}, wire::EntryWrite{wire::EntryKind::kPut, 0});
  for (const char* member : {"n1", "never-tracked"}) {
    const InvalidationLog::Pending p = log.pending(member, t0, kResend);
    EXPECT_EQ(p.kind, InvalidationLog::Pending::kEntries) << member;
    EXPECT_EQ(p.from, 1u) << member;
  }
  log.mark_sent("n1", t0);  // now it has state: entries in flight wait for their ack
  EXPECT_EQ(log.followers(), 1u);
  EXPECT_EQ(kind(log, "n1", t0 + 100ms), InvalidationLog::Pending::kNothing);
  EXPECT_EQ(log.next_resend(kResend), t0 + kResend);
  log.on_ack("n1", 2);
  EXPECT_EQ(kind(log, "n1", t0 + 10s), InvalidationLog::Pending::kNothing);
  EXPECT_EQ(log.next_resend(kResend), kNever);
  log.append("c", Version{}, wire::EntryWrite{wire::EntryKind::kPut, 0});
  const InvalidationLog::Pending p = log.pending("n1", t0 + 10s, kResend);
  EXPECT_EQ(p.kind, InvalidationLog::Pending::kEntries);
  EXPECT_EQ(p.from, 3u);
}

TEST(InvalidationLog, AMemberWithoutStateIsResetOnceTheLogNoLongerHoldsItsStart) {
  InvalidationLog log(7, 2, 1 << 20);
  for (const char* key : {"a", "b", "c"})
    log.append(key, Version{}, wire::EntryWrite{wire::EntryKind::kPut, 0});
  ASSERT_EQ(log.first(), 2u);
  EXPECT_EQ(kind(log, "n1", t0), InvalidationLog::Pending::kReset);
}

}  // namespace
}  // namespace ckv
