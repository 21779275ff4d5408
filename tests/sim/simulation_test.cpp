// Simulation: what a run reports, beyond the checkers' own properties.
#include "sim/simulation.h"

#include <gtest/gtest.h>

#include "kernel/core/assert.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

// A kernel assertion that fails inside a run is reported like a property violation, with
// the seed, the trace and the command that replays it; the run stops there.
TEST(Simulation, AKernelAssertionFailureIsAViolationWithItsSeed) {
  SimConfig c;
  c.seed = 5;
  c.nodes = 3;
  c.faults = FaultMode::kNone;
  c.chaos = 5s;
  c.repro = repro_command(c);
  // A member change is reported from inside the node's input, as a kernel assertion
  // would be: fail the first one.
  c.change_observer = [](MonoTime, uint32_t, const MemberChange&) {
    assertion_failed("kernel/planted.cpp", 7, "planted", "a planted failure");
  };
  const SimResult r = simulate(c);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0].property, "kernel invariant");
  EXPECT_NE(r.violations[0].detail.find("CKV_ASSERT(planted) failed at kernel/planted.cpp:7"),
            std::string::npos)
      << r.violations[0].detail;
  EXPECT_NE(r.report.find("seed 5"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("--seed 5"), std::string::npos) << r.report;
  EXPECT_LT(r.virtual_time, 5s) << "the run stops at the failure";
}

}  // namespace
}  // namespace ckv::sim
