// The main test: clusters of 5 to 20 nodes under swarm faults (loss, duplication,
// reordering, partitions of every shape, crashes and restarts, pauses, clogs, leaves)
// and the key-value workload (sim/kv_workload.h: conflicting writes, deletes, large
// values; durable or lossy stores). Every membership property of sim/checker.h and every
// key-value property of sim/kv_checker.h must hold on every seed.
// CTest runs it with RC_PARAMS=max_success=200; `cluster-kv-sim` runs as many more as
// anyone wants.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/simulation.h"

namespace ckv::sim {
namespace {

RC_GTEST_PROP(Swarm, EveryPropertyHoldsUnderSwarmFaults, ()) {
  SimConfig config;
  config.seed = *rc::gen::arbitrary<uint64_t>();
  config.nodes = *rc::gen::inRange<uint32_t>(5, 21);
  const SimResult r = simulate(config);
  RC_LOG() << "seed " << r.seed << ", " << r.nodes << " nodes: " << r.profile << "\n";
  if (!r.violations.empty()) RC_FAIL(r.report);
  // The quiet phase ended because everything converged, within the derived bounds.
  RC_ASSERT(r.converged_after.has_value());
  RC_ASSERT(*r.converged_after <= r.bounds.convergence);
  RC_ASSERT(r.departed_settled_after.has_value());
  RC_ASSERT(*r.departed_settled_after <= r.bounds.detection);
  // The key-value round ran after the faults and every key agreed everywhere.
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(r.kv.puts > 0 && r.kv.gets > 0);
}

}  // namespace
}  // namespace ckv::sim
