// Key-value properties in the simulator, beyond the swarm test: promptness without
// faults, a partition longer than any invalidation log, lossy stores.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/simulation.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

// Without faults, every read that asks the cluster completes in a few round trips, never
// at its timeout (the checker's promptness bound), at 10 nodes.
RC_GTEST_PROP(KvProperties, FaultFreeReadsArePrompt, ()) {
  SimConfig c;
  c.seed = *rc::gen::arbitrary<uint64_t>();
  c.nodes = 10;
  c.faults = FaultMode::kNone;
  c.chaos = 16s;
  c.workload.ops_per_second = 120;  // a write of each key every 0.2 s: reads race writes
  const SimResult r = simulate(c);
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(r.kv.timeouts == 0u);
  RC_ASSERT(r.kv.get_404.count > 0u);
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

}  // namespace
}  // namespace ckv::sim
