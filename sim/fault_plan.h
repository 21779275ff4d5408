// FaultPlan: what goes wrong, and when, in one simulated run.
//
// A swarm plan first draws the run's own fault profile from the seed — loss and
// duplication rates, a latency profile with or without a slow tail, and how often nodes
// crash, pause, leave, links clog or partition, disks fill up, fail meta writes or
// stall, and wall clocks step —
// and then schedules concrete faults over the chaos phase. Many seeds thus test many kinds of bad
// day, including calm ones (swarm testing). Tests can also write a plan by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/core/random.h"
#include "kernel/core/time.h"

namespace ckv::sim {

enum class PartitionShape : uint8_t {
  kSplitHalves,  // two random halves, no traffic between them
  kIsolateOne,   // one node cut off from all others
  kAsymmetric,   // one random group cannot send to the rest; the rest can send to it
  kCutLink,      // two nodes cannot reach each other; everyone else reaches both (a
                 // firewall rule, a broken route)
};

enum class FaultKind : uint8_t {
  kPartition,  // start a partition of `shape` lasting `duration` (replaces any current one)
  kCrash,      // node stops and loses its volatile state; restarts after `duration`,
               // or never when `duration` is zero
  kPause,      // node processes nothing for `duration` (a GC pause, a stalled VM)
  kClog,       // node's outgoing traffic is held back for `duration`
  kLeave,      // node leaves the cluster gracefully and stays away
  kSlow,       // node reads its input `lag` late for `duration` (an overloaded process);
               // its timers still fire on time
  kDiskFull,   // node's store refuses every write for `duration`, then takes them again
               // (a full disk, freed); reads still work, but the first commit that fails
               // stops the process, as in production (kernel/commit_gate.h), and it cannot
               // start again until the disk takes its meta writes
  kMetaFail,   // node's store refuses its meta writes (the epoch, the clock lease) only
  kClockStep,  // node's wall clock jumps by `clock_step` (an NTP correction, a VM resumed)
  kSlowDisk,   // node's store commits take `lag` for `duration` (a disk stalled behind
               // write-back, a noisy neighbour); the process waits for each commit
};
inline constexpr size_t kFaultKinds = 10;
static_assert(static_cast<size_t>(FaultKind::kSlowDisk) + 1 == kFaultKinds);
const char* to_string(FaultKind kind);

struct FaultAction {
  MonoTime at;
  FaultKind kind;
  uint32_t node = 0;
  Duration duration{};
  Duration lag{};  // kSlow: how late input is read; kSlowDisk: how long a commit takes
  PartitionShape shape = PartitionShape::kSplitHalves;
  uint64_t choice_seed = 0;  // picks the partition's members
  Duration clock_step{};     // kClockStep only: forward when positive, back when negative
};

// Network behaviour during the chaos phase; the quiet phase uses a clean network with the
// same base latency.
struct NetworkProfile {
  Duration latency_min{};
  Duration latency_max{};  // base latency is uniform in [min, max]
  double tail_chance = 0;  // chance a datagram gets an extra delay (reordering)
  Duration tail_max{};
  double loss = 0;         // datagram loss
  double duplication = 0;  // datagram duplication
};

struct FaultPlan {
  NetworkProfile network;
  std::vector<FaultAction> actions;  // ordered by time
  std::string profile_summary;       // one line, for run summaries

  // True if nothing in the plan can delay or drop a message to or from a live node, and
  // no node is ever paused or stalled: a failure verdict against a live node is then
  // always false.
  bool perfect_network() const;
};

// A clean network with base latency only, and no faults.
FaultPlan quiet_plan(Prng& rng);

// A swarm plan for `nodes` nodes over a chaos phase of length `chaos`.
FaultPlan swarm_plan(Prng& rng, uint32_t nodes, Duration chaos);

}  // namespace ckv::sim
