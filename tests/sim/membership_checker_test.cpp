// MembershipChecker on fabricated histories: each property fires, under its own name, on
// the member change or the view it exists to catch, and stays quiet for a near miss.
#include "sim/membership_checker.h"

#include <gtest/gtest.h>

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

MonoTime at(int64_t ms) {
  return MonoTime{} + std::chrono::milliseconds(ms);
}

class MemberHistory : public ::testing::Test {
 protected:
  MemberHistory() {
    for (uint32_t i = 0; i < 3; ++i) {
      SimNode n;
      n.name = "n" + std::to_string(i);
      n.addr = Address{0x0a000001 + i, 7946};
      n.status = NodeStatus::kUp;
      // A running node has a kernel; the checker looks no further into it here.
      n.store = std::make_unique<MemStore>(true);
      n.kernel =
          std::move(Node::create(NodeConfig{}, n.name, n.addr, 1 + i, Now{}, *n.store).value());
      nodes_.push_back(std::move(n));
    }
  }

  // What `observer` reports about node `subject`.
  static MemberChange change(const SimNode& subject, MemberState from, Incarnation from_inc,
                             MemberState to, Incarnation to_inc) {
    return MemberChange{at(0), subject.name, subject.addr, from, from_inc,
                        to,    to_inc,       false,        false};
  }
  size_t violations(const MembershipChecker& c, const std::string& property) const {
    size_t n = 0;
    for (const Violation& v : c.violations())
      n += v.property == property;
    return n;
  }

  std::vector<SimNode> nodes_;
};

TEST_F(MemberHistory, AMemberNoNodeIsFires) {
  MembershipChecker checker(nodes_, false);
  SimNode stranger;
  stranger.name = "n9";
  stranger.addr = Address{0x0a000009, 7946};
  checker.on_change(at(1), 0, change(stranger, MemberState::kAlive, 0, MemberState::kAlive, 1));
  // A real name at another node's address is a phantom too.
  MemberChange moved = change(nodes_[1], MemberState::kAlive, 0, MemberState::kAlive, 1);
  moved.addr = nodes_[2].addr;
  checker.on_change(at(2), 0, moved);
  EXPECT_EQ(violations(checker, "no phantom members"), 2u);
  // The real node at its real address is no phantom.
  checker.on_change(at(3), 0, change(nodes_[1], MemberState::kAlive, 0, MemberState::kAlive, 1));
  EXPECT_EQ(checker.violations().size(), 2u);
}

TEST_F(MemberHistory, AnIncarnationGoingBackFires) {
  MembershipChecker checker(nodes_, false);
  checker.on_change(at(1), 0, change(nodes_[1], MemberState::kAlive, 5, MemberState::kSuspect, 4));
  EXPECT_EQ(violations(checker, "incarnations never go backwards"), 1u);
  // Equal is allowed (a suspicion at the same incarnation); so is a reaped member.
  checker.on_change(at(2), 0, change(nodes_[1], MemberState::kAlive, 5, MemberState::kSuspect, 5));
  MemberChange reaped = change(nodes_[1], MemberState::kDead, 5, MemberState::kDead, 0);
  reaped.reaped = true;
  checker.on_change(at(3), 0, reaped);
  EXPECT_EQ(checker.violations().size(), 1u);
}

TEST_F(MemberHistory, AComebackWithoutANewerIncarnationFires) {
  MembershipChecker checker(nodes_, false);
  checker.on_change(at(1), 0, change(nodes_[1], MemberState::kDead, 3, MemberState::kAlive, 3));
  checker.on_change(at(2), 0, change(nodes_[2], MemberState::kLeft, 3, MemberState::kSuspect, 3));
  EXPECT_EQ(violations(checker, "no resurrection without a newer incarnation"), 2u);
  // With a newer incarnation the node really came back (it restarted, or refuted).
  checker.on_change(at(3), 0, change(nodes_[1], MemberState::kDead, 3, MemberState::kAlive, 4));
  EXPECT_EQ(checker.violations().size(), 2u);
}

TEST_F(MemberHistory, ARunningNodeSeeingItselfOtherThanAliveFires) {
  MembershipChecker checker(nodes_, false);
  checker.on_change(at(1), 1, change(nodes_[1], MemberState::kAlive, 2, MemberState::kSuspect, 2));
  EXPECT_EQ(violations(checker, "a running node sees itself alive"), 1u);
  // A node that is leaving says so of itself.
  nodes_[2].status = NodeStatus::kLeaving;
  checker.on_change(at(2), 2, change(nodes_[2], MemberState::kAlive, 2, MemberState::kLeft, 3));
  EXPECT_EQ(checker.violations().size(), 1u);
}

TEST_F(MemberHistory, ALiveNodeDeclaredDeadOnAPerfectNetworkFires) {
  const std::string accuracy = "accuracy: a reachable live node is never declared dead";
  MembershipChecker perfect(nodes_, true);
  perfect.on_change(at(1), 0, change(nodes_[1], MemberState::kSuspect, 2, MemberState::kDead, 2));
  EXPECT_EQ(violations(perfect, accuracy), 1u);
  EXPECT_EQ(perfect.false_failures(), 1u);
  // A node that was paused may be declared dead: counted, not a violation.
  nodes_[2].ever_paused = true;
  perfect.on_change(at(2), 0, change(nodes_[2], MemberState::kSuspect, 2, MemberState::kDead, 2));
  EXPECT_EQ(perfect.violations().size(), 1u);
  EXPECT_EQ(perfect.false_failures_of_paused(), 1u);
  // On a lossy network a false failure is counted, not a violation.
  MembershipChecker lossy(nodes_, false);
  lossy.on_change(at(1), 0, change(nodes_[1], MemberState::kSuspect, 2, MemberState::kDead, 2));
  EXPECT_TRUE(lossy.violations().empty());
  EXPECT_EQ(lossy.false_failures(), 1u);
}

// Views come from real kernels; this fixture runs three and delivers their messages by
// hand (no loss, no timers), so each view is exactly what the test made it.
class Views : public ::testing::Test {
 protected:
  Views() {
    for (uint32_t i = 0; i < 3; ++i) {
      SimNode n;
      n.name = "n" + std::to_string(i);
      n.addr = Address{0x0a000001 + i, 7946};
      n.store = std::make_unique<MemStore>(true);
      nodes_.push_back(std::move(n));
    }
    bounds_.convergence = 10s;
    bounds_.detection = 20s;
  }

  Now now() const { return Now{clock_, WallTime{} + (clock_ - MonoTime{})}; }
  void start(uint32_t i, std::vector<Address> seeds) {
    SimNode& n = nodes_[i];
    auto kernel = Node::create(NodeConfig{}, n.name, n.addr, 1 + i, now(), *n.store);
    ASSERT_TRUE(kernel.ok());
    n.kernel = std::move(kernel.value());
    n.status = NodeStatus::kUp;
    n.kernel->join(now(), seeds);
    deliver();
  }
  // Delivers every message sent until nobody sends any more.
  void deliver() {
    for (int round = 0; round < 100; ++round) {
      bool sent = false;
      for (SimNode& from : nodes_) {
        if (!from.running()) continue;
        std::vector<Send> sends = std::move(from.kernel->outbox().sends);
        from.kernel->outbox().clear();
        for (const Send& s : sends) {
          sent = true;
          for (SimNode& to : nodes_) {
            if (to.running() && to.addr == s.to) {
              to.kernel->on_message(now(), from.addr, s.channel, s.bytes);
            }
          }
        }
      }
      if (!sent) return;
    }
  }
  size_t violations(const MembershipChecker& c, const std::string& prefix) const {
    size_t n = 0;
    for (const Violation& v : c.violations())
      n += v.property.rfind(prefix, 0) == 0;
    return n;
  }

  std::vector<SimNode> nodes_;
  MonoTime clock_ = at(1000);
  LivenessBounds bounds_{};
};

TEST_F(Views, NodesThatNeverMetMissTheConvergenceBound) {
  start(0, {});
  start(1, {});  // never told of n0
  MembershipChecker checker(nodes_, false);
  EXPECT_FALSE(checker.check_views(clock_));
  checker.enforce_bounds(clock_, 9s, bounds_);
  EXPECT_TRUE(checker.violations().empty());  // within the bound: not yet a violation
  checker.enforce_bounds(clock_, 11s, bounds_);
  EXPECT_EQ(violations(checker, "convergence within 10s"), 1u);
  EXPECT_EQ(checker.violations().size(), 1u);
}

TEST_F(Views, NodesThatMetConverge) {
  start(0, {});
  start(1, {nodes_[0].addr});
  start(2, {nodes_[0].addr, nodes_[1].addr});
  MembershipChecker checker(nodes_, false);
  EXPECT_TRUE(checker.check_views(clock_));
  checker.enforce_bounds(clock_, 30s, bounds_);
  EXPECT_TRUE(checker.violations().empty());
}

TEST_F(Views, ACrashedNodeStillSeenAliveMissesTheDetectionBound) {
  start(0, {});
  start(1, {nodes_[0].addr});
  start(2, {nodes_[0].addr, nodes_[1].addr});
  nodes_[2].kernel.reset();  // crashed: nobody has noticed yet
  nodes_[2].status = NodeStatus::kDown;
  MembershipChecker checker(nodes_, false);
  EXPECT_FALSE(checker.check_views(clock_));
  checker.enforce_bounds(clock_, 19s, bounds_);
  EXPECT_TRUE(checker.violations().empty());
  checker.enforce_bounds(clock_, 21s, bounds_);
  EXPECT_EQ(violations(checker, "detection within 20s"), 1u);
  EXPECT_EQ(checker.violations().size(), 1u);
  EXPECT_TRUE(checker.live_converged_since().has_value());  // the running two agree
}

}  // namespace
}  // namespace ckv::sim
