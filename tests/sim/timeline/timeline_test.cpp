#include "sim/timeline/timeline.h"

#include <gtest/gtest.h>

#include <string>

namespace ckv {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(Timeline, DrawsEachKindOfMarkOnItsLane) {
  Timeline tl("a run", {"n0", "n1"});
  tl.member(0, 0, "n1", Timeline::State::kAlive);
  tl.member(1000, 0, "n1", Timeline::State::kAlive);  // no change: no new bar
  tl.member(2000, 0, "n1", Timeline::State::kSuspect);
  tl.member(3000, 0, "n1", Timeline::State::kDead);
  tl.shade(1000, 2000, 1, "pause");
  tl.begin_shade(500, 1, "crash");
  tl.end_shade(900, 1, "crash");
  tl.op(1500, 0, Timeline::Outcome::kOk, "get k");
  tl.op(1600, 1, Timeline::Outcome::kTimeout, "get k");
  tl.traffic(1700, 1, "invalidation from n0");
  const std::string html = tl.html();
  EXPECT_EQ(count(html, "<g class=\"lane\""), 2u);
  EXPECT_EQ(count(html, "class=\"state alive\""), 1u);
  EXPECT_EQ(count(html, "class=\"state suspect\""), 1u);
  EXPECT_EQ(count(html, "class=\"state dead\""), 1u);
  EXPECT_EQ(count(html, "<rect class=\"fault pause\""), 1u);
  EXPECT_EQ(count(html, "<rect class=\"fault crash\""), 1u);
  EXPECT_EQ(count(html, "class=\"op ok\""), 1u);
  EXPECT_EQ(count(html, "class=\"op timeout\""), 1u);
  EXPECT_EQ(count(html, "<line class=\"traffic\""), 1u);
  EXPECT_EQ(count(html, "class=\"pin\""), 0u);
}

TEST(Timeline, PinsAViolationWithItsReproduceCommandEscaped) {
  Timeline tl("a <run>", {"n0"});
  tl.op(0, 0, Timeline::Outcome::kOk, "put");
  tl.pin(500, "no stale read: n0 returned <old> & more", "cluster-kv-sim --seed 7 --nodes 3");
  const std::string html = tl.html();
  EXPECT_EQ(count(html, "<g class=\"pin\">"), 1u);
  EXPECT_NE(html.find("<pre class=\"repro\">cluster-kv-sim --seed 7 --nodes 3</pre>"),
            std::string::npos);
  EXPECT_NE(html.find("n0 returned &lt;old&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(html.find("<run>"), std::string::npos);
}

TEST(Timeline, TrafficIsSampledWithinItsBound) {
  Timeline tl("busy", {"n0"});
  for (int64_t t = 0; t < 100000; ++t)
    tl.traffic(t, 0, "invalidation");
  const std::string html = tl.html();
  const size_t drawn = count(html, "<line class=\"traffic\"");
  EXPECT_LE(drawn, Timeline::kMaxTrafficMarks);
  EXPECT_GE(drawn, Timeline::kMaxTrafficMarks / 2);
}

TEST(Timeline, AnOpenShadeRunsToTheEnd) {
  Timeline tl("run", {"n0"});
  tl.begin_shade(0, 0, "crash");
  tl.op(1000, 0, Timeline::Outcome::kOk, "get");
  const std::string html = tl.html();
  EXPECT_EQ(count(html, "<rect class=\"fault crash\""), 1u);
  EXPECT_NE(html.find("crash 0.000 s .. 0.001 s"), std::string::npos);
}

}  // namespace
}  // namespace ckv
