// `cluster-kv-sim --replay DIR ... --fork-at T --seeds K`: replays recordings up to a moment
// and runs the simulator on from there for K seeds (sim/replay/fork.h), every checker on.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/replay/recording_files.h"
#include "sim/replay/replayer.h"

namespace ckv::sim {

struct ForkArgs {
  bool at_given = false;
  double at_seconds = 0;  // after the earliest recorded start
  uint64_t first_seed = 1;
  uint64_t seeds = 1;
  uint64_t virtual_seconds = 30;  // of faults, before the quiet phase
  std::string timeline_file;      // with one seed
  bool trace = false;             // with one seed: the simulation's trace
  std::vector<std::string> dirs;  // as given, for the reproduce command
};

// Exit status: 0 no seed violated a property, 1 one did, 2 the recordings cannot be forked.
int fork_main(std::shared_ptr<const std::vector<LoadedRecording>> recordings,
              const ReplayOptions& options, const ForkArgs& args);

}  // namespace ckv::sim
