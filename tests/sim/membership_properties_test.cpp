// Membership properties in scripted scenarios: one kind of fault at a time, on an
// otherwise clean network, each checked against its derived bound (sim/bounds.h).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <functional>
#include <optional>

#include "sim/simulation.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

SimConfig scripted(uint64_t seed, uint32_t nodes, std::vector<FaultAction> script) {
  SimConfig c;
  c.seed = seed;
  c.nodes = nodes;
  c.faults = FaultMode::kScripted;
  c.script = std::move(script);
  c.chaos = 100000s;           // the tests step the run themselves; the quiet phase never comes
  c.workload.enabled = false;  // membership only; tests/sim/kv_properties_test.cpp has keys
  return c;
}

// Does every running node see `subject` in one of the given states (absent counts as
// `absent_ok`)?
bool all_running_see(const Simulation& sim, uint32_t subject,
                     std::initializer_list<MemberState> states, bool absent_ok = false) {
  for (uint32_t i = 0; i < sim.size(); ++i) {
    const SimNode& n = sim.node(i);
    if (n.status != NodeStatus::kUp || i == subject) continue;
    const Member* m = n.kernel->members().find(sim.node(subject).name);
    if (m == nullptr) {
      if (!absent_ok) return false;
      continue;
    }
    if (std::find(states.begin(), states.end(), m->state) == states.end()) return false;
  }
  return true;
}

// How many running nodes have `subject` in their member table, in any state.
uint32_t known_by(const Simulation& sim, uint32_t subject) {
  uint32_t count = 0;
  for (uint32_t i = 0; i < sim.size(); ++i) {
    const SimNode& n = sim.node(i);
    if (i != subject && n.running() && n.kernel->members().find(sim.node(subject).name)) ++count;
  }
  return count;
}

bool everyone_sees_everyone_alive(const Simulation& sim) {
  for (uint32_t j = 0; j < sim.size(); ++j) {
    if (!all_running_see(sim, j, {MemberState::kAlive})) return false;
  }
  return true;
}

// Steps the run one second at a time until `done` holds or `limit` passes; returns when.
std::optional<MonoTime> step_until(Simulation& sim, MonoTime limit,
                                   const std::function<bool()>& done) {
  while (sim.now() <= limit) {
    if (done()) return sim.now();
    sim.run_until(sim.now() + 1s);
  }
  return std::nullopt;
}

std::string describe(const Simulation& sim) {
  std::string out;
  for (const Violation& v : sim.checker().violations())
    out += v.property + ": " + v.detail + "\n";
  return out;
}

RC_GTEST_PROP(Detection, CrashedNodesAreMarkedFailedByAllWithinTheBound, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 21);
  const uint32_t crashes = *rc::gen::inRange<uint32_t>(1, std::max<uint32_t>(2, n / 3));
  const MonoTime at = MonoTime{} + 20s;
  std::vector<FaultAction> script;
  for (uint32_t k = 0; k < crashes; ++k)
    script.push_back({at, FaultKind::kCrash, 1 + k});
  Simulation sim(scripted(seed, n, script));
  sim.run_until(at + 1ms);
  // A node that never heard of a member before it crashed has nothing to detect; it must
  // not learn of it as alive later either.
  std::vector<uint32_t> knew;
  for (uint32_t k = 0; k < crashes; ++k)
    knew.push_back(known_by(sim, 1 + k));
  const auto bounds = liveness_bounds(NodeConfig{}.membership, n);
  const auto detected = step_until(sim, at + bounds.detection, [&] {
    for (uint32_t k = 0; k < crashes; ++k) {
      if (!all_running_see(sim, 1 + k, {MemberState::kDead}, /*absent_ok=*/true)) return false;
    }
    return true;
  });
  RC_ASSERT(detected.has_value());
  for (uint32_t k = 0; k < crashes; ++k)
    RC_ASSERT(known_by(sim, 1 + k) >= knew[k]);
  RC_LOG() << n << " nodes, " << crashes << " crashed: detected after "
           << (*detected - at).count() / 1e6 << " s (bound " << bounds.detection.count() / 1e6
           << " s)\n";
  RC_ASSERT(sim.checker().violations().empty());
}

// On a network that never loses or delays beyond its base latency, with other nodes
// crashing and restarting, no node that stays up is ever declared dead.
RC_GTEST_PROP(Accuracy, NoReachableLiveNodeIsEverDeclaredDead, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 16);
  std::vector<FaultAction> script;
  Prng rng(seed);
  for (int k = 0; k < 4; ++k) {
    const auto down = rng.below(3) == 0 ? Duration(0) : rng.between(Duration(1s), Duration(40s));
    script.push_back({MonoTime{} + rng.between(Duration(10s), Duration(100s)), FaultKind::kCrash,
                      static_cast<uint32_t>(rng.below(n)), down});
  }
  Simulation sim(scripted(seed, n, script));
  RC_ASSERT(sim.plan().perfect_network());
  sim.run_until(MonoTime{} + 150s);
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

RC_GTEST_PROP(Leave, ANodeThatLeavesIsSeenAsLeftByAll, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(3, 21);
  const uint32_t leaver = *rc::gen::inRange<uint32_t>(0, n);
  const MonoTime at = MonoTime{} + 20s;
  Simulation sim(scripted(seed, n, {{at, FaultKind::kLeave, leaver}}));
  sim.run_until(at);
  // Gossip may not have told every node about every other yet; it may still learn it from
  // a push-pull. So: those who know the leaver now must see it left; none may see it
  // alive, suspect or failed.
  const uint32_t knew = known_by(sim, leaver);
  RC_ASSERT(knew >= (n - 1) / 2);
  sim.run_until(at + 1ms);
  // Most hear the leave by gossip within D (10 s). One that missed it probes the departed
  // node within two probe rounds, suspects it, and is corrected by those who heard.
  const Duration bound = NodeConfig{}.membership.probe_interval * (2 * n) + 10s;
  const auto settled = step_until(sim, at + bound, [&] {
    return sim.node(leaver).status == NodeStatus::kLeft &&
           all_running_see(sim, leaver, {MemberState::kLeft}, /*absent_ok=*/true);
  });
  RC_ASSERT(settled.has_value());
  RC_ASSERT(known_by(sim, leaver) >= knew);
  // And it stays that way: nobody later mistakes the departure for a failure.
  sim.run_until(at + 120s);
  RC_ASSERT(all_running_see(sim, leaver, {MemberState::kLeft}, /*absent_ok=*/true));
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// A node cut off while another leaves (long enough to suspect or declare everyone dead,
// the leaver included, and for the news of the leave to have stopped spreading) learns of
// the leave from a state exchange once the cut heals: it must see the leaver as left, like
// everyone else, not as failed.
RC_GTEST_PROP(Leave, ANodeCutOffDuringALeaveLearnsItAsALeaveWhenItHeals, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 13);
  const uint32_t cut = *rc::gen::inRange<uint32_t>(1, n);
  const uint32_t leaver = (cut + *rc::gen::inRange<uint32_t>(1, n)) % n;
  const MembershipConfig config = NodeConfig{}.membership;
  const auto bounds = liveness_bounds(config, n, 1);
  const MonoTime split = MonoTime{} + 15s;
  const Duration length = bounds.suspicion_max + config.gossip_to_the_dead + 20s;
  FaultAction partition{split, FaultKind::kPartition, cut, length};
  partition.shape = PartitionShape::kIsolateOne;
  Simulation sim(scripted(seed, n, {partition, {split + 5s, FaultKind::kLeave, leaver}}));
  sim.run_until(split + length - 1s);
  const Member* seen = sim.node(cut).kernel->members().find(sim.node(leaver).name);
  RC_PRE(seen != nullptr);                       // it had heard of the leaver before the cut
  RC_ASSERT(seen->state != MemberState::kLeft);  // cut off, it cannot know of the leave
  sim.run_until(split + length + 1ms);
  const auto settled = step_until(sim, split + length + bounds.convergence, [&] {
    return all_running_see(sim, leaver, {MemberState::kLeft}, /*absent_ok=*/true);
  });
  RC_ASSERT(settled.has_value());
  sim.run_until(*settled + 60s);  // and nobody later takes the leave for a failure
  RC_ASSERT(all_running_see(sim, leaver, {MemberState::kLeft}, /*absent_ok=*/true));
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// A node cut off for the moments in which a leave's news spreads (shorter than any
// suspicion timeout, and it had not yet suspected the leaver) learns of the leave later:
// from its own probe of the departed node, which the others answer by correcting it, or
// from a state exchange with any of them. Either way it must record a leave: on this clean
// network no node ever records a member that left gracefully as failed, not even briefly.
RC_GTEST_PROP(Leave, ANodeThatMissedALeaveNeverTakesItForAFailure, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 13);
  const uint32_t cut = *rc::gen::inRange<uint32_t>(1, n);
  const uint32_t leaver = (cut + *rc::gen::inRange<uint32_t>(1, n)) % n;
  const MonoTime leave_at = MonoTime{} + 20s;
  FaultAction partition{leave_at - 100ms, FaultKind::kPartition, cut, 2500ms};
  partition.shape = PartitionShape::kIsolateOne;
  SimConfig c = scripted(seed, n, {partition, {leave_at, FaultKind::kLeave, leaver}});
  std::optional<std::string> failed;
  const std::string leaver_name = "n" + std::to_string(leaver);
  c.change_observer = [&](MonoTime at, uint32_t observer, const MemberChange& change) {
    if (!failed && change.name == leaver_name && change.to_state == MemberState::kDead) {
      failed = "n" + std::to_string(observer) + " recorded " + leaver_name + " as failed at " +
               std::to_string((at - MonoTime{}).count() / 1e6) + " s";
    }
  };
  Simulation sim(c);
  const MonoTime heal = leave_at - 100ms + 2500ms;
  sim.run_until(heal);
  const Member* seen = sim.node(cut).kernel->members().find(leaver_name);
  const bool missed_it = seen != nullptr && seen->state == MemberState::kAlive;
  RC_PRE(missed_it);  // it missed the leave, and has not suspected the leaver yet
  sim.run_until(heal + 60s);
  if (failed) RC_FAIL(*failed);
  RC_ASSERT(all_running_see(sim, leaver, {MemberState::kLeft}, /*absent_ok=*/true));
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// One link cut (a firewall rule, a broken route): two nodes cannot reach each other, but
// every other node reaches both. Their direct probes of each other fail and the indirect
// probes through the others get through, so on an otherwise clean network neither is
// ever suspected: no node has to refute an accusation (its incarnation stays), and nobody
// is declared dead.
RC_GTEST_PROP(Probes, TwoNodesThatCannotTalkAreReachedThroughTheOthers, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 13);
  const MonoTime cut_at = MonoTime{} + 15s;
  FaultAction cut{cut_at, FaultKind::kPartition, *rc::gen::inRange<uint32_t>(0, n), 60s};
  cut.shape = PartitionShape::kCutLink;
  cut.choice_seed = seed;
  Simulation sim(scripted(seed, n, {cut}));
  sim.run_until(cut_at - 1s);
  RC_PRE(everyone_sees_everyone_alive(sim));
  const auto incarnation = [&](uint32_t i) {
    return sim.node(i).kernel->members().find(sim.node(i).name)->incarnation;
  };
  std::vector<Incarnation> before(n);
  for (uint32_t i = 0; i < n; ++i)
    before[i] = incarnation(i);
  sim.run_until(cut_at + 60s);
  for (uint32_t i = 0; i < n; ++i) {
    if (incarnation(i) != before[i]) {
      RC_FAIL("n" + std::to_string(i) + " had to refute a suspicion while only a link was cut");
    }
  }
  RC_ASSERT(sim.checker().false_failures() == 0u);
  RC_ASSERT(everyone_sees_everyone_alive(sim));
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// After a split into halves that lasts long enough for each side to declare the other
// dead — and to stop gossiping to it — the cluster becomes one again by itself.
RC_GTEST_PROP(Healing, SplitHalvesMergeAgainWithoutAnyJoin, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 21);
  const MembershipConfig config = NodeConfig{}.membership;
  const auto bounds = liveness_bounds(config, n);
  const MonoTime split = MonoTime{} + 15s;
  const Duration length = bounds.suspicion_max + config.gossip_to_the_dead + 20s;
  FaultAction partition{split, FaultKind::kPartition, 0, length};
  partition.shape = PartitionShape::kSplitHalves;
  partition.choice_seed = seed;
  Simulation sim(scripted(seed, n, {partition}));
  sim.run_until(split + length - 1s);
  // Each side has given up on the other (a node may not have heard of every member before
  // the split; then it has nothing to give up).
  uint32_t across_dead = 0;
  for (uint32_t a = 0; a < n; ++a) {
    for (uint32_t b = 0; b < n; ++b) {
      const Member* m = sim.node(a).kernel->members().find(sim.node(b).name);
      if (a == b || m == nullptr) continue;
      if (sim.node(a).kernel->members().find(sim.node(b).name)->state == MemberState::kDead) {
        ++across_dead;
      } else {
        RC_ASSERT(m->state == MemberState::kAlive);  // same side
      }
    }
  }
  RC_ASSERT(across_dead >= (n / 2) * (n - n / 2));
  sim.run_until(split + length + 1ms);
  const auto healed = step_until(sim, split + length + bounds.convergence,
                                 [&] { return everyone_sees_everyone_alive(sim); });
  RC_ASSERT(healed.has_value());
  RC_LOG() << n << " nodes healed " << (*healed - split - length).count() / 1e6
           << " s after the partition ended\n";
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// A node that comes back after everyone declared it dead, from a crash that lost its
// incarnation (it restarts at 1), outbids the verdict at once: its join brings it the
// verdict, and the refutation it gossips is taken by the first node it reaches, within
// the dissemination allowance D of its restart. (All nodes learn it within D only with
// high probability: a node the random gossip misses hears it at its next push-pull.)
// Long pauses before the crash make it refute suspicions first, so the verdict's
// incarnation is above 1.
RC_GTEST_PROP(Healing, ANodeBackFromTheDeadOutbidsTheVerdictAtOnce, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 13);
  const uint32_t x = *rc::gen::inRange<uint32_t>(1, n);
  const auto bounds = liveness_bounds(NodeConfig{}.membership, n);
  const MonoTime crash = MonoTime{} + 60s;
  const Duration down = bounds.detection + 5s;
  std::vector<FaultAction> script;
  for (const auto at : {15s, 27s, 39s})
    script.push_back({MonoTime{} + at, FaultKind::kPause, x, 6s});
  script.push_back({crash, FaultKind::kCrash, x, down});
  Simulation sim(scripted(seed, n, script));
  sim.run_until(crash - 1ms);
  const Incarnation before = sim.node(x).kernel->members().find(sim.node(x).name)->incarnation;
  RC_PRE(before > 1u);
  sim.run_until(crash + down - 1ms);
  RC_PRE(all_running_see(sim, x, {MemberState::kDead}, /*absent_ok=*/true));
  const auto seen_alive_by_another = [&] {
    for (uint32_t i = 0; i < n; ++i) {
      if (i == x || !sim.node(i).running()) continue;
      const Member* m = sim.node(i).kernel->members().find(sim.node(x).name);
      if (m != nullptr && m->state == MemberState::kAlive) return true;
    }
    return false;
  };
  const MonoTime back = crash + down;
  const auto alive = step_until(sim, back + bounds.dissemination, seen_alive_by_another);
  RC_LOG() << n << " nodes; n" << x << " had incarnation " << before << "\n";
  RC_ASSERT(alive.has_value());
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// Two survivors of a cluster whose other members crashed for good, cut off from each other
// long enough to declare each other dead too: once the cut heals, only reconnects can bring
// them together (neither has a live member to push-pull with). Each tries its failed
// members in turn, least recently tried first, so they merge within the convergence bound
// for n - 2 departed nodes — rather than one of them knocking at the same grave forever.
RC_GTEST_PROP(Healing, SurvivorsFindEachOtherAmongTheDeadThroughReconnects, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(4, 8);
  const uint32_t x = *rc::gen::inRange<uint32_t>(1, n);  // n0 and x survive
  const MembershipConfig config = NodeConfig{}.membership;
  const MonoTime split = MonoTime{} + 15s;
  const Duration length =
      liveness_bounds(config, n).suspicion_max + config.gossip_to_the_dead + 20s;
  FaultAction cut{split, FaultKind::kPartition, x, length};
  cut.shape = PartitionShape::kIsolateOne;
  std::vector<FaultAction> script{cut};
  for (uint32_t i = 1; i < n; ++i) {
    if (i != x) script.push_back({split, FaultKind::kCrash, i});
  }
  Simulation sim(scripted(seed, n, script));
  sim.run_until(split + length - 1s);
  const auto sees_alive = [&](uint32_t a, uint32_t b) {
    const Member* m = sim.node(a).kernel->members().find(sim.node(b).name);
    return m != nullptr && m->state == MemberState::kAlive;
  };
  RC_PRE(!sees_alive(0, x) && !sees_alive(x, 0));
  const MonoTime heal = split + length;
  const auto bound = liveness_bounds(config, n, n - 2).convergence;
  sim.run_until(heal + 1ms);
  const auto merged =
      step_until(sim, heal + bound, [&] { return sees_alive(0, x) && sees_alive(x, 0); });
  RC_ASSERT(merged.has_value());
  RC_LOG() << n << " nodes: merged " << (*merged - heal).count() / 1e6 << " s after the heal\n";
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

// A node that starts while none of its seeds can be reached (a cable not yet plugged in,
// a seed still booting) keeps trying: once the seeds are reachable it joins within one
// retry interval (the backoff cap) and the dissemination allowance, rather than giving up
// and staying a cluster of one.
RC_GTEST_PROP(Join, ANodeWhoseSeedsAreUnreachableAtFirstJoinsOnceTheyAreBack, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t n = *rc::gen::inRange<uint32_t>(3, 10);
  const uint32_t x = *rc::gen::inRange<uint32_t>(1, n);
  const MembershipConfig config = NodeConfig{}.membership;
  const Duration cut_off = *rc::gen::inRange<int64_t>(40, 120) * 1s;
  FaultAction cut{MonoTime{}, FaultKind::kPartition, x, cut_off};
  cut.shape = PartitionShape::kIsolateOne;
  Simulation sim(scripted(seed, n, {cut}));
  const MonoTime heal = MonoTime{} + cut_off;
  sim.run_until(heal + 1ms);
  const auto bound = config.join_retry_max + liveness_bounds(config, n).dissemination;
  const auto joined =
      step_until(sim, heal + bound, [&] { return everyone_sees_everyone_alive(sim); });
  RC_ASSERT(joined.has_value());
  if (!sim.checker().violations().empty()) RC_FAIL(describe(sim));
}

TEST(Reaping, FailedAndLeftMembersAreForgottenAfterTheirTimeouts) {
  const MonoTime at = MonoTime{} + 20s;
  SimConfig c = scripted(5, 8, {{at, FaultKind::kCrash, 3}, {at, FaultKind::kLeave, 5}});
  c.node.membership.reconnect_timeout = 60s;
  c.node.membership.tombstone_timeout = 200s;
  Simulation sim(c);
  const auto bounds = liveness_bounds(c.node.membership, 8);
  // Reaping happens at the end of a probe round after the timeout; a round is 7 probes.
  const Duration round = 2 * 7 * c.node.membership.probe_interval;
  sim.run_until(at + 1ms);
  const auto detected = step_until(sim, at + bounds.detection, [&] {
    return all_running_see(sim, 3, {MemberState::kDead}) &&
           all_running_see(sim, 5, {MemberState::kLeft});
  });
  ASSERT_TRUE(detected.has_value());
  const auto failed_forgotten = step_until(sim, *detected + 60s + round, [&] {
    return all_running_see(sim, 3, {}, /*absent_ok=*/true);
  });
  ASSERT_TRUE(failed_forgotten.has_value());
  EXPECT_GE(*failed_forgotten - at, 60s);
  EXPECT_TRUE(all_running_see(sim, 5, {MemberState::kLeft}));  // its tombstone lasts longer
  const auto left_forgotten = step_until(
      sim, at + 200s + round, [&] { return all_running_see(sim, 5, {}, /*absent_ok=*/true); });
  ASSERT_TRUE(left_forgotten.has_value());
  EXPECT_GE(*left_forgotten - at, 200s);
  EXPECT_TRUE(sim.checker().violations().empty()) << describe(sim);
}

// Lifeguard's purpose: a node that is slow or keeps stalling should not get healthy
// members declared dead, and should itself be declared dead less often. The same seeds run
// with Lifeguard on and off, on a clean network and at 5% datagram loss; docs/performance.md
// reports the figures.
struct FalseFailures {
  uint64_t healthy = 0;   // verdicts (observer, member) against members never slowed
  uint64_t troubled = 0;  // verdicts against the stalling or slow node
  uint64_t total() const { return healthy + troubled; }
};

enum class Trouble { kStalls, kSlowInput };

FalseFailures count_false_failures(Trouble trouble, bool lifeguard, double loss) {
  FalseFailures sum;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Prng rng(seed);
    std::vector<FaultAction> faults;
    if (trouble == Trouble::kStalls) {
      // Stalled for 0.5-6 s at a time, running for 0.1-3 s in between.
      for (MonoTime t = MonoTime{} + 20s; t < MonoTime{} + 320s;) {
        const Duration stall = rng.between(Duration(500ms), Duration(6s));
        faults.push_back({t, FaultKind::kPause, 1, stall});
        t += stall + rng.between(Duration(100ms), Duration(3s));
      }
    } else {
      // Reading its input 0.5-2 s late, for 300 s.
      faults.push_back({MonoTime{} + 20s, FaultKind::kSlow, 1, 300s,
                        rng.between(Duration(500ms), Duration(2s))});
    }
    SimConfig c = scripted(seed, 12, faults);
    c.scripted_network = NetworkProfile{100us, 2ms, 0, {}, loss, 0};
    c.node.membership.lifeguard = lifeguard;
    Simulation sim(c);
    sim.run_until(MonoTime{} + 330s);
    sum.healthy += sim.checker().false_failures();
    sum.troubled += sim.checker().false_failures_of_paused();
  }
  return sum;
}

TEST(Lifeguard, FewerFalseFailuresAroundAStallingOrSlowNode) {
  for (Trouble trouble : {Trouble::kStalls, Trouble::kSlowInput}) {
    for (double loss : {0.0, 0.05}) {
      const FalseFailures on = count_false_failures(trouble, true, loss);
      const FalseFailures off = count_false_failures(trouble, false, loss);
      std::printf(
          "false failure verdicts, 10 runs x 12 nodes x 330 s, one node %s, %.0f%% loss:\n"
          "  Lifeguard on:  %4llu about healthy nodes, %4llu about that node\n"
          "  Lifeguard off: %4llu about healthy nodes, %4llu about that node\n",
          trouble == Trouble::kStalls ? "stalling 0.5-6 s every 0.6-9 s"
                                      : "reading input 0.5-2 s late",
          loss * 100, static_cast<unsigned long long>(on.healthy),
          static_cast<unsigned long long>(on.troubled),
          static_cast<unsigned long long>(off.healthy),
          static_cast<unsigned long long>(off.troubled));
      EXPECT_LT(on.total(), off.total()) << "at " << loss * 100 << "% loss";
      EXPECT_LE(on.healthy, off.healthy) << "at " << loss * 100 << "% loss";
    }
  }
}

}  // namespace
}  // namespace ckv::sim
