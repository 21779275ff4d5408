// Fork: recorded nodes replayed up to a moment, then handed to the simulator to run on
// under its own faults and workload, with every checker on (`cluster-kv-sim --replay DIR
// ... --fork-at T --seeds K`): could this incident have lost or resurrected a write?
//
// The moment is T after the earliest recorded start, on the recorded wall clocks (the one
// axis machines share). Each recorded node running then is replayed up to its last input
// before the moment, with every output checked as a replay checks it, and adopted running
// (sim/adopted_node.h). Its store holds every record the recording showed it read, scan
// or write: the whole store when the recording began on an empty data directory. A member
// its kernels know with no recording running at the moment is down for good. Messages in
// flight at the moment are lost; replies to the recording's clients go unheard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "sim/adopted_node.h"
#include "sim/replay/recording_files.h"
#include "sim/replay/replayer.h"
#include "sim/simulation.h"

namespace ckv::sim {

struct ForkPoint {
  WallTime at{};
  std::vector<size_t> running;                        // indexes of the recordings adopted running
  std::vector<std::string> skipped;                   // recordings left out, and why
  std::vector<std::pair<std::string, Address>> down;  // members down for good
  NodeConfig config;  // the first running node's (the simulation's defaults)
  uint64_t first_request = 1;
  std::string summary;
  std::vector<std::string> names;  // the simulation's nodes n0, n1, ...: running, then down
  uint32_t nodes() const { return static_cast<uint32_t>(running.size() + down.size()); }
};

// Finds the moment `after_start` past the earliest recorded start and replays every
// recording up to it once, to check that each replays exactly and to learn the members.
// Errors: a recording that cannot be replayed, diverges before the moment, lost records
// before it, or no node running at the moment.
Result<ForkPoint> find_fork_point(const std::vector<LoadedRecording>& recordings,
                                  Duration after_start, const ReplayOptions& options);

// Replays the running recordings up to the moment again: fresh kernels for one simulation
// (each call replays them all: a seed costs a replay of every recording up to the moment).
AdoptionSource fork_source(std::shared_ptr<const std::vector<LoadedRecording>> recordings,
                           ForkPoint point, ReplayOptions options);

// The simulation a fork runs for each seed: `point`'s nodes adopted from `source`, swarm
// faults from time 0 for `chaos` (then the quiet phase), the random workload on the
// adoption's keys, durable stores, and the recorded nodes' own config otherwise.
SimConfig fork_config(const ForkPoint& point, AdoptionSource source, Duration chaos);

}  // namespace ckv::sim
