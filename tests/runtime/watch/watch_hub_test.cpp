// WatchHub (runtime/watch/watch_hub.h) driven by hand: long-polls woken by their key, a
// reset or their deadline; streams filtered by prefix, resumed after an event id, kept
// alive, and closed with a reset when their client falls too far behind.
#include "runtime/watch/watch_hub.h"

#include <gtest/gtest.h>

namespace ckv {
namespace {

using Kind = ChangeEvent::Kind;
using Clock = WatchHub::Clock;

std::string line(const ChangeEvent& e, std::string_view id) {
  return std::string(id) + " " + to_string(e.kind) + " " + e.key + "\n";
}

class Hub : public ::testing::Test {
 protected:
  ChangeEvent put(std::string key, uint64_t wall = 1) {
    return ChangeEvent{Kind::kPut, std::move(key), Version{wall, 0, 1}};
  }
  // Pulls once; what the stream gave at once (none: parked, and what it gives later goes
  // to delivered_).
  std::optional<std::pair<std::string, bool>> pull(const std::shared_ptr<WatchHub::Stream>& s) {
    const size_t before = delivered_.size();
    hub_.pull(
        s, [this](std::string text, bool last) { delivered_.emplace_back(std::move(text), last); },
        t_);
    if (delivered_.size() == before) return std::nullopt;
    return delivered_.back();
  }
  std::vector<std::pair<std::string, bool>> delivered_;
  int watch_all_calls_ = 0;
  WatchHub hub_{0xab, line, [this] { watch_all_calls_++; }};
  Clock::time_point t_ = Clock::now();
};

TEST_F(Hub, ALongPollWakesOnItsKeyOnAResetOrAtItsDeadline) {
  std::vector<std::string> woke;  // (outlives every wait: each ends within the test)
  hub_.wait_for_change(1, "a", t_ + std::chrono::seconds(5),
                       [&](bool c) { woke.push_back(c ? "a+" : "a-"); });
  hub_.wait_for_change(2, "b", t_ + std::chrono::seconds(5),
                       [&](bool c) { woke.push_back(c ? "b+" : "b-"); });
  hub_.wait_for_change(3, "c", t_ + std::chrono::seconds(1),
                       [&](bool c) { woke.push_back(c ? "c+" : "c-"); });
  EXPECT_EQ(watch_all_calls_, 1);
  hub_.on_events({put("x"), put("a")}, t_);
  EXPECT_EQ(woke, (std::vector<std::string>{"a+"}));
  EXPECT_EQ(*hub_.next_deadline(), t_ + std::chrono::seconds(1));
  hub_.on_timer(t_ + std::chrono::seconds(1));
  EXPECT_EQ(woke, (std::vector<std::string>{"a+", "c-"}));
  hub_.on_events({ChangeEvent{}}, t_);  // a reset: "b" may have changed
  EXPECT_EQ(woke, (std::vector<std::string>{"a+", "c-", "b+"}));
  EXPECT_EQ(hub_.waiting(), 0u);
  EXPECT_FALSE(hub_.next_deadline());
}

TEST_F(Hub, AStreamGetsItsPrefixInOrderAndResumesAfterAnId) {
  auto s = hub_.subscribe("k/", "", t_);
  EXPECT_FALSE(pull(s)) << "nothing yet: parked";
  hub_.on_events({put("k/1"), put("j/1"), put("k/2")}, t_);  // to the parked pull
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].first, "ab-1 put k/1\nab-3 put k/2\n");
  EXPECT_FALSE(pull(s));
  hub_.on_events({put("k/3")}, t_);
  EXPECT_EQ(delivered_.back().first, "ab-4 put k/3\n");
  hub_.unsubscribe(s);
  // A new connection resuming after "ab-1" (k/1) gets k/2 and k/3 again; one from
  // another process gets a reset first.
  auto resumed = hub_.subscribe("k/", "ab-1", t_);
  EXPECT_EQ(pull(resumed)->first, "ab-3 put k/2\nab-4 put k/3\n");
  auto other = hub_.subscribe("k/", "cd-1", t_);
  EXPECT_EQ(pull(other)->first, "ab-4 reset \n");
  auto garbage = hub_.subscribe("k/", "what", t_);
  EXPECT_EQ(pull(garbage)->first, "ab-4 reset \n");
}

TEST_F(Hub, ASlowReaderGetsAResetAndIsClosed) {
  auto s = hub_.subscribe("", "", t_);
  std::vector<ChangeEvent> burst;
  for (int i = 0; i < 100000; ++i)
    burst.push_back(put("key" + std::to_string(i), static_cast<uint64_t>(i + 1)));
  hub_.on_events(burst, t_);  // nobody pulls
  auto got = pull(s);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->second) << "the last piece";
  EXPECT_NE(got->first.find("reset"), std::string::npos);
  EXPECT_LT(got->first.size(), 64u) << "the queue was dropped for the reset";
  EXPECT_EQ(hub_.slow_closed(), 1u);
}

TEST_F(Hub, AnIdleStreamGetsAKeepAlive) {
  auto s = hub_.subscribe("", "", t_);
  EXPECT_FALSE(pull(s));
  hub_.on_timer(t_ + std::chrono::seconds(5));
  EXPECT_TRUE(delivered_.empty());
  hub_.on_timer(t_ + WatchHub::kKeepAlive);
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].first, ": keep-alive\n\n");
}

}  // namespace
}  // namespace ckv
