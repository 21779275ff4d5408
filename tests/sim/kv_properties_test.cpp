// Key-value properties in the simulator, beyond the swarm test: promptness without
// faults, a new user's first minute, a partition longer than any invalidation log, lossy
// stores, and scripted races (a lost race told once, a node restarted behind a one-way
// partition, a writer whose log resets the winner, a member that lived again unseen).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "sim/simulation.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

// A scripted run on a clean network with 1 ms of latency, so a scenario's timing is exact.
SimConfig scripted_exact(uint64_t seed, uint32_t nodes, Duration chaos) {
  SimConfig c;
  c.seed = seed;
  c.nodes = nodes;
  c.faults = FaultMode::kScripted;
  c.chaos = chaos;
  c.scripted_network = NetworkProfile{1ms, 1ms, 0, {}, 0, 0};
  return c;
}

// The choice seed of the first one-way partition focused on `focus` whose group (the nodes
// that cannot send to the others; the others can send to them) `accept` takes.
uint64_t one_way_choice(uint32_t nodes, uint32_t focus,
                        const std::function<bool(const std::vector<bool>&)>& accept) {
  for (uint64_t s = 1;; ++s) {
    Network probe(nodes, {}, 0);
    probe.start_partition(PartitionShape::kAsymmetric, s, focus);
    std::vector<bool> group(nodes, false);
    for (uint32_t a = 0; a < nodes; ++a) {
      for (uint32_t b = 0; b < nodes; ++b)
        group[a] = group[a] || probe.blocked(a, b);
    }
    if (accept(group)) return s;
  }
}

// Without faults, every read that asks the cluster completes in a few round trips, never
// at its timeout (the checker's promptness bound), at 10 nodes; and as nothing fails,
// every answer knows it is current (a get that joins a read in flight gets a round of its
// own, not an answer flagged not current: planting that back fails this).
RC_GTEST_PROP(KvProperties, FaultFreeReadsArePrompt, ()) {
  SimConfig c;
  c.seed = *rc::gen::arbitrary<uint64_t>();
  c.nodes = 10;
  c.faults = FaultMode::kNone;
  c.chaos = 16s;
  c.workload.profile = KvProfile::kRandom;  // with deletes and keys nobody wrote: 404s
  c.workload.ops_per_second = 120;          // a write of each key every 0.2 s: reads race writes
  const SimResult r = simulate(c);
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(r.kv.timeouts == 0u);
  RC_ASSERT(r.kv.not_current == 0u);
  RC_ASSERT(r.kv.get_404.count > 0u);
}

// Compare-and-set without faults: clients on every node race conditional writes of two
// keys (If-Match on the ETag they last saw, If-None-Match: * when they saw none), so two
// of them often start from one state. With membership stable, the owner of each key
// decides them one at a time: no two succeed from one state, none succeeds against a
// state already replaced (sim/cas_checker.h), and every other property holds. Planting
// "every node decides itself" (tools/mutations.txt, cas-no-owner) fails this.
RC_GTEST_PROP(KvProperties, ConditionalWritesNeverLieWithoutFaults, ()) {
  SimConfig c;
  c.seed = *rc::gen::arbitrary<uint64_t>();
  c.nodes = *rc::gen::inRange<uint32_t>(3, 6);
  c.faults = FaultMode::kNone;
  c.chaos = 20s;
  c.workload.profile = KvProfile::kRandom;
  c.workload.keys = 8;
  c.workload.cas_keys = 2;
  c.workload.ops_per_second = 200;
  const SimResult r = simulate(c);
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(r.kv.cas.succeeded > 0u);
  RC_ASSERT(r.kv.cas.precondition_failed > 0u);  // races happened, and lost
  RC_ASSERT(r.kv.cas.double_successes + r.kv.cas.stale_preconditions == 0u);
}

// Listings without faults, often (a tenth of the operations), racing writes and deletes:
// a current listing never shows a key whose latest write acknowledged before it began is
// a delete, and never omits one whose latest such write is a value (KvChecker::on_list).
// Planting "the first answer wins" in the merge (tools/mutations.txt, l-first-answer-wins)
// fails this.
RC_GTEST_PROP(KvProperties, ListingsShowTheClusterWithoutFaults, ()) {
  SimConfig c;
  c.seed = *rc::gen::arbitrary<uint64_t>();
  c.nodes = *rc::gen::inRange<uint32_t>(3, 6);
  c.faults = FaultMode::kNone;
  c.chaos = 16s;
  c.workload.profile = KvProfile::kRandom;
  c.workload.keys = *rc::gen::element<uint32_t>(8, 64);
  c.workload.list_share = 0.1;
  c.workload.ops_per_second = 120;
  const SimResult r = simulate(c);
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(r.kv.lists > 0u);
}

// A new user's first minute: nodes started together, each told to join the first (so
// they learn of one another by gossip), and from the moment the first sees everyone it
// writes every key while every node reads a key and writes it back, over and over. Every
// answer must be explained by the history (sim/kv_checker.h): no 404 for a key that was
// written, no value older than one written before the read; and as nothing fails, no
// 404 at all and no answer short of current. A planted bug shows it can fail: answering
// "nobody has it" when only a marker of the newest version came back fails this within
// a few cases (see docs/simulator.md).
RC_GTEST_PROP(KvProperties, AFreshClusterAnswersReadModifyWriteLoopsTruthfully, ()) {
  SimConfig c;
  c.seed = *rc::gen::arbitrary<uint64_t>();
  c.nodes = *rc::gen::inRange<uint32_t>(3, 7);
  c.faults = FaultMode::kNone;
  c.chaos = 4s;
  c.start_spread = 100ms;
  c.joins = JoinShape::kFounderOnly;
  c.workload.profile = KvProfile::kReadModifyWrite;
  c.workload.keys = *rc::gen::inRange<uint32_t>(1, 4);
  c.bounded_data = false;  // a bound may refuse the large first writes: reads would 404
  const SimResult r = simulate(c);
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(r.kv.puts > c.nodes * c.workload.rmw_burst);
  // Every key was written before the first loop read it, and nothing fails: every read
  // finds a value, and knows it is the newest.
  RC_ASSERT(r.kv.not_found == 0u);
  RC_ASSERT(r.kv.not_current == 0u);
}

// One node cut off for 30 s while the others write far more than an 8-entry log holds:
// the writers reset it when it is back, it revalidates, and every key converges.
TEST(KvProperties, APartitionLongerThanTheLogEndsInAResetAndConvergence) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimConfig c;
    c.seed = seed;
    c.nodes = 5;
    c.faults = FaultMode::kScripted;
    c.chaos = 60s;
    c.node.kv.log_entries = 8;
    c.workload.ops_per_second = 100;
    FaultAction cut{MonoTime{} + 15s, FaultKind::kPartition, 2, 30s};
    cut.shape = PartitionShape::kIsolateOne;
    c.script = {cut};
    Simulation sim(c);
    const SimResult r = sim.run();
    ASSERT_TRUE(r.violations.empty()) << r.report;
    EXPECT_TRUE(r.kv.converged);
    uint64_t resets = 0;
    for (uint32_t i = 0; i < c.nodes; ++i) {
      if (sim.node(i).running()) resets += sim.node(i).kernel->stats().resets_received;
    }
    EXPECT_GT(resets, 0u) << "seed " << seed;
  }
}

// Stores that lose their unflushed writes in a crash: the guarantees that remain (no
// resurrection and no lost write between crashes, convergence) still hold.
RC_GTEST_PROP(KvProperties, LossyStoresUnderSwarmFaults, ()) {
  SimConfig c;
  c.seed = *rc::gen::arbitrary<uint64_t>();
  c.nodes = *rc::gen::inRange<uint32_t>(3, 9);
  c.durable_writes = false;
  c.chaos = 40s;
  const SimResult r = simulate(c);
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
}

// A write that loses a race its writer could not see: n1's wall clock stepped back 2 s, so
// its first write of a key it holds nothing of is stamped below n0's write of a moment
// before. n0 must tell n1 its write lost, and n1 must hear it even when that news is lost:
// here n0 cannot send to n1 for the 20 ms in which it hears of n1's write, and n1's next
// write (of another key) is acknowledged past the first one at once, so nothing makes n0
// answer the first again. Once faults stop, both must answer n0's write (a loser still
// serving its own write as current fails convergence).
TEST(KvProperties, AWriterWhoseWriteLostLearnsItEvenIfItCannotBeToldAtOnce) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimConfig c = scripted_exact(seed, 2, 30s);
    c.workload.keys = 2;
    const MonoTime t = MonoTime{} + 13s;
    c.client_script = {{t, 0, ClientOp::kPut, 0},
                       {t + 500ms, 1, ClientOp::kPut, 0},
                       {t + 530ms, 1, ClientOp::kPut, 1}};
    FaultAction step{t - 2s, FaultKind::kClockStep, 1};
    step.clock_step = -2s;
    // n0 alone cannot send: a one-way partition whose group is n0 only.
    FaultAction one_way{t + 500ms, FaultKind::kPartition, 0, 20ms};
    one_way.shape = PartitionShape::kAsymmetric;
    one_way.choice_seed = one_way_choice(2, 0, [](const auto& group) { return !group[1]; });
    c.script = {step, one_way};
    Simulation sim(c);
    const SimResult r = sim.run();
    ASSERT_TRUE(r.violations.empty()) << r.report;
    EXPECT_TRUE(r.kv.converged);
    EXPECT_EQ(r.kv.puts, 3u);
    // The race happened: n1's write was stamped below n0's, and n1 was told.
    EXPECT_GT(sim.node(0).kernel->stats().repairs_announced, 0u) << "seed " << seed;
  }
}

// A node restarts while it can send to only one other member, and not to its seed: it
// cannot join, but it learns of that member from its gossip, and once its join wait runs
// out its held reads ask it, and hear back. A node that has not joined cannot know whom it
// has not heard of, so none of those answers may be flagged current (the simulation
// reports "no current answer before joining").
TEST(KvProperties, ANodeRestartedBehindAOneWayPartitionAnswersNothingAsCurrent) {
  constexpr uint32_t kNodes = 10;
  constexpr uint32_t kRestarted = kNodes - 1;
  // A one-way partition: the restarted node and one other cannot send to the rest (n0,
  // the seed, among them); the rest can send to them.
  FaultAction one_way{MonoTime{} + 20s, FaultKind::kPartition, kRestarted, 40s};
  one_way.shape = PartitionShape::kAsymmetric;
  one_way.choice_seed = one_way_choice(kNodes, kRestarted, [](const auto& group) {
    return !group[0] && std::count(group.begin(), group.end(), true) == 2;
  });
  uint32_t asked_before_joining = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SimConfig c;
    c.seed = seed;
    c.nodes = kNodes;
    c.faults = FaultMode::kScripted;
    c.chaos = 60s;
    c.joins = JoinShape::kFounderOnly;
    c.workload.keys = 2;
    c.client_script = {{MonoTime{} + 15s, 0, ClientOp::kPut, 0}};
    for (Duration at = 22s; at < 50s; at += 500ms)
      c.client_script.push_back({MonoTime{} + at, kRestarted, ClientOp::kGet, 0});
    c.script = {one_way, {MonoTime{} + 20s, FaultKind::kCrash, kRestarted, 1s}};
    Simulation sim(c);
    // Its join wait (5 s) has run out: is it still unjoined, with a member to ask?
    sim.run_until(MonoTime{} + 27s);
    const Node& node = *sim.node(kRestarted).kernel;
    if (!node.membership().joined() && node.members().count(MemberState::kAlive) > 1)
      ++asked_before_joining;
    const SimResult r = sim.run();
    ASSERT_TRUE(r.violations.empty()) << r.report;
    EXPECT_TRUE(r.kv.converged);
  }
  // The scenario does what it is for (in 4 of these 8 seeds).
  EXPECT_GT(asked_before_joining, 0u);
}

// A write that loses a race while its writer's log is resetting the member that holds the
// winner. n1 (its clock stepped back 10 s) is cut off for 2 s while n2 writes key0 and
// both write seven other keys, more than their 4-entry logs hold; then for 1.5 s more n1
// cannot send, hears n2's reset, and writes key0 itself, below n2's version (it holds
// nothing of key0). When n1 can send again its log resets the others instead of sending
// the entries, so nobody compares n1's key0 with n2's and answers that it lost: n1 must
// revalidate its own copies when it resets them. (Both gaps are far shorter than a
// suspicion timeout: nobody is declared dead, so no member change revalidates anything.)
// Once faults stop, everyone answers n2's write (n1 serving its own losing write as current
// fails convergence).
TEST(KvProperties, AWriterWhoseLogResetsTheWinnerStillLearnsItsWriteLost) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimConfig c = scripted_exact(seed, 3, 40s);
    c.node.kv.log_entries = 4;
    c.node.membership.suspicion_mult = 10;  // suspicions last 10 s: nobody is declared dead
    c.workload.keys = 8;
    c.client_script = {{MonoTime{} + 11200ms, 2, ClientOp::kPut, 0}};
    for (uint32_t k = 1; k < 8; ++k) {
      c.client_script.push_back({MonoTime{} + 11200ms + k * 100ms, 2, ClientOp::kPut, k});
      c.client_script.push_back({MonoTime{} + 11250ms + k * 100ms, 1, ClientOp::kPut, k});
    }
    c.client_script.push_back({MonoTime{} + 13500ms, 1, ClientOp::kPut, 0});
    FaultAction step{MonoTime{} + 10s, FaultKind::kClockStep, 1};
    step.clock_step = -10s;
    FaultAction cut{MonoTime{} + 11s, FaultKind::kPartition, 1, 2s};
    cut.shape = PartitionShape::kIsolateOne;
    // Then n1 alone cannot send: a one-way partition whose group is n1 only.
    FaultAction mute{MonoTime{} + 13s, FaultKind::kPartition, 1, 1500ms};
    mute.shape = PartitionShape::kAsymmetric;
    mute.choice_seed =
        one_way_choice(3, 1, [](const auto& group) { return !group[0] && !group[2]; });
    c.script = {step, cut, mute};
    Simulation sim(c);
    const SimResult r = sim.run();
    ASSERT_TRUE(r.violations.empty()) << r.report;
    EXPECT_TRUE(r.kv.converged);
    // The shape happened: n1's write of key0 lost to n2's, and n1's log reset the others.
    EXPECT_GT(sim.node(1).kernel->stats().resets_sent, 0u) << "seed " << seed;
  }
}

// A member comes back and fails again while one node cannot see it: n3 crashes and is
// declared dead by all; it restarts while n2 is cut off for 3.5 s (far shorter than a
// suspicion timeout, so nobody is declared dead and no member change revalidates anything),
// writes key0, which every other node holds a copy of, and crashes for good. n2 never saw
// n3 alive again; it learns only, later, that n3 died at a newer incarnation, and that must
// make it revalidate: once faults stop every node answers key0 alike (n2 serving its own
// older copy as current fails convergence).
TEST(KvProperties, AMemberThatLivedAgainUnseenOpensAGap) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimConfig c = scripted_exact(seed, 4, 80s);
    c.node.membership.suspicion_mult = 10;
    c.workload.keys = 1;
    c.client_script = {{MonoTime{} + 12s, 2, ClientOp::kPut, 0},
                       {MonoTime{} + 13s, 0, ClientOp::kGet, 0},
                       {MonoTime{} + 13s, 1, ClientOp::kGet, 0},
                       // n3's death opened a gap: n2 confirms its copy again
                       {MonoTime{} + 40s, 2, ClientOp::kGet, 0},
                       {MonoTime{} + 45500ms, 3, ClientOp::kPut, 0}};
    FaultAction cut{MonoTime{} + 44s, FaultKind::kPartition, 2, 3500ms};
    cut.shape = PartitionShape::kIsolateOne;
    c.script = {{MonoTime{} + 15s, FaultKind::kCrash, 3, 30s},
                cut,
                {MonoTime{} + 46s, FaultKind::kCrash, 3}};
    Simulation sim(c);
    const SimResult r = sim.run();
    ASSERT_TRUE(r.violations.empty()) << r.report;
    EXPECT_TRUE(r.kv.converged);
    EXPECT_EQ(r.kv.puts, 2u) << "seed " << seed;  // n3's write happened
  }
}

// Three nodes; n0 writes key0 at 5 s and n2 reads it (a copy); n0 deletes it at 11 s and
// writes four more keys past its two-entry log, so a node that missed the delete gets a
// reset; nobody reads key0 again until n1 and n2 do at 50 and 51 s. Lifeguard is off, so
// a node that fails is held dead within seconds.
SimConfig delete_missed_by_n2(uint64_t seed, Duration horizon) {
  SimConfig c = scripted_exact(seed, 3, 60s);
  c.node.membership.lifeguard = false;
  c.node.kv.log_entries = 2;
  c.node.kv.tombstone_horizon = horizon;
  c.node.kv.max_query_timeout = 5s;
  c.workload.keys = 5;
  c.client_script = {
      {MonoTime{} + 5s, 0, ClientOp::kPut, 0},      {MonoTime{} + 6s, 2, ClientOp::kGet, 0},
      {MonoTime{} + 11s, 0, ClientOp::kDelete, 0},  {MonoTime{} + 11200ms, 0, ClientOp::kPut, 1},
      {MonoTime{} + 11400ms, 0, ClientOp::kPut, 2}, {MonoTime{} + 11600ms, 0, ClientOp::kPut, 3},
      {MonoTime{} + 11800ms, 0, ClientOp::kPut, 4}, {MonoTime{} + 50s, 1, ClientOp::kGet, 0},
      {MonoTime{} + 51s, 2, ClientOp::kGet, 0}};
  return c;
}

// Collection never brings a delete back. n2 holds a copy of key0 and misses n0's delete of
// it: it is cut off while n0 deletes it and writes on, past its two-entry log, so n2 gets
// a reset and keeps its old copy (nobody reads key0 to repair it). n0 may collect its
// tombstone once the 30 s horizon has passed, but only after every member has checked it
// (which repairs n2), and not while n2 is held dead (in the second run n2 is down when the
// horizon passes, for less than half of it: it keeps its records when it comes back).
// A read of key0 afterwards must not find the deleted value.
TEST(KvProperties, CollectionNeverBringsADeleteBack) {
  for (const bool crash : {false, true}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      SimConfig c = delete_missed_by_n2(seed, 30s);
      FaultAction cut{MonoTime{} + 10s, FaultKind::kPartition, 2, 4s};
      cut.shape = PartitionShape::kIsolateOne;
      c.script = {cut};
      if (crash) c.script.push_back({MonoTime{} + 33s, FaultKind::kCrash, 2, 10s});
      Simulation sim(c);
      const SimResult r = sim.run();
      ASSERT_TRUE(r.violations.empty()) << r.report;
      EXPECT_TRUE(r.kv.converged);
      uint64_t resets = 0;
      uint64_t collected = 0;
      for (uint32_t i = 0; i < c.nodes; ++i) {
        resets += sim.node(i).kernel->stats().resets_received;
        collected += sim.node(i).kernel->stats().records_collected;
      }
      EXPECT_GT(resets, 0u) << "seed " << seed << ": n2 missed the delete";
      EXPECT_GT(collected, 0u) << "seed " << seed << ": the tombstone was collected";
      EXPECT_EQ(sim.node(2).kernel->kv().absence_drops(), 0u) << "n2 was never away long";
    }
  }
}

// A node away longer than half the horizon drops its old records when it is back. n2 is
// down from before n0 deletes key0 (at 10 s) until after n0, having forgotten n2 (reaped
// at about 20 s) and waited a horizon (20 s) more, collected the tombstone without it;
// n0's two-entry log can only reset n2. n2's copy of key0 must not come back.
TEST(KvProperties, ANodeAwayLongerThanTheHorizonAllowsDropsItsOldRecords) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SimConfig c = delete_missed_by_n2(seed, 20s);
    c.node.membership.reconnect_timeout = 5s;
    c.script = {{MonoTime{} + 10s, FaultKind::kCrash, 2, 35s}};
    Simulation sim(c);
    const SimResult r = sim.run();
    ASSERT_TRUE(r.violations.empty()) << r.report;
    EXPECT_TRUE(r.kv.converged);
    EXPECT_GT(sim.node(0).kernel->stats().records_collected, 0u) << "seed " << seed;
    EXPECT_EQ(sim.node(2).kernel->kv().absence_drops(), 1u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace ckv::sim
