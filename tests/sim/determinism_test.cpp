#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/simulation.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

SimConfig swarm(uint64_t seed, uint32_t nodes) {
  SimConfig c;
  c.seed = seed;
  c.nodes = nodes;
  c.chaos = 30s;
  return c;
}

RC_GTEST_PROP(Determinism, SameSeedSameTraceDifferentSeedDifferentTrace, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const uint32_t nodes = *rc::gen::inRange<uint32_t>(3, 8);
  const SimResult a = simulate(swarm(seed, nodes));
  const SimResult b = simulate(swarm(seed, nodes));
  RC_ASSERT(a.trace_hash == b.trace_hash);
  RC_ASSERT(a.trace_records == b.trace_records);
  RC_ASSERT(a.virtual_time == b.virtual_time);
  const SimResult c = simulate(swarm(seed + 1, nodes));
  RC_ASSERT(a.trace_hash != c.trace_hash);
}

TEST(Determinism, SettingsChangeTheTrace) {
  // The same seed with Lifeguard switched off is another run (sim/trace_test.cpp shows the
  // hash covers message bytes and every record field).
  SimConfig on = swarm(11, 6);
  SimConfig off = on;
  off.node.membership.lifeguard = false;
  EXPECT_NE(simulate(on).trace_hash, simulate(off).trace_hash);
}

}  // namespace
}  // namespace ckv::sim
