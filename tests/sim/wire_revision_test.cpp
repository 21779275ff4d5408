// A rolling upgrade in the simulator: nodes restart one by one speaking a (synthetic) later
// wire revision, and every property still holds while old and new revisions talk; a new
// *generation* is refused, and the same run then fails, so the test can tell.
#include "sim/wire_revision.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "kernel/wire/codec.h"
#include "sim/simulation.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

TEST(WireRevision, TodaysDecoderReadsALaterRevisionAndNothingElse) {
  wire::QueryReply reply{7, "n1", wire::QueryAnswer::kValue, Version{5, 1, 9}, "the value"};
  const std::vector<wire::Message> sent{wire::Ping{3, "n2"}, reply, wire::Ack{4}};
  const std::vector<uint8_t> packet = wire::encode_packet(sent);
  const auto later = as_later_revision(packet, wire::kWireVersion + 1, 64 * 1024);
  ASSERT_TRUE(later.has_value());
  EXPECT_GT(later->size(), packet.size());
  std::vector<wire::Message> got;
  ASSERT_TRUE(wire::decode_packet(*later, {}, got).ok());
  EXPECT_EQ(got, sent);
  // The same bytes claiming today's revision hold things it does not know: refused.
  std::vector<uint8_t> claimed = *later;
  claimed[0] = wire::kWireVersion;
  EXPECT_FALSE(wire::decode_packet(claimed, {}, got).ok());
  // Another generation is refused whatever it holds.
  const auto other = as_later_revision(packet, 0x11, 64 * 1024);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(wire::decode_packet(*other, {}, got).error().code, ErrorCode::kUnsupportedVersion);
  // Nothing over the limit, nothing malformed.
  EXPECT_FALSE(as_later_revision(packet, wire::kWireVersion + 1, packet.size()).has_value());
  EXPECT_FALSE(as_later_revision(std::vector<uint8_t>{1, 3, 9}, 2, 1000).has_value());
}

SimConfig upgrading(uint64_t seed, uint32_t nodes, uint8_t version) {
  SimConfig c;
  c.seed = seed;
  c.nodes = nodes;
  c.chaos = 10s + nodes * 5s + 10s;
  c.upgrade = RollingUpgrade{MonoTime{} + 15s, 5s, 2s, version};
  return c;
}

uint64_t decode_errors(const Simulation& sim) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < sim.size(); ++i) {
    if (sim.node(i).running()) sum += sim.node(i).kernel->stats().decode_errors;
  }
  return sum;
}

// Under swarm faults and the key-value workload, every node is upgraded in turn (so for
// most of the run both revisions talk): every property holds, nobody refuses a packet.
RC_GTEST_PROP(WireRevision, EveryPropertyHoldsDuringARollingUpgrade, ()) {
  const SimConfig c = upgrading(*rc::gen::arbitrary<uint64_t>(), *rc::gen::inRange<uint32_t>(3, 9),
                                wire::kWireVersion + 1);
  Simulation sim(c);
  const SimResult r = sim.run();
  if (!r.violations.empty()) RC_FAIL(r.report);
  RC_ASSERT(r.kv.converged);
  RC_ASSERT(decode_errors(sim) == 0u);
  uint32_t upgraded = 0;
  for (uint32_t i = 0; i < c.nodes; ++i)
    upgraded += sim.node(i).wire_version.has_value() ? 1 : 0;
  RC_ASSERT(upgraded > 0u);
}

// The same upgrade to another generation splits the cluster: old nodes refuse the new
// ones' packets, and the run fails its properties.
TEST(WireRevision, AnUpgradeToAnotherGenerationFailsTheRun) {
  SimConfig c = upgrading(1, 5, 0x11);
  c.faults = FaultMode::kNone;
  Simulation sim(c);
  const SimResult r = sim.run();
  EXPECT_FALSE(r.violations.empty() && r.kv.converged);
  EXPECT_GT(decode_errors(sim), 0u);
}

}  // namespace
}  // namespace ckv::sim
