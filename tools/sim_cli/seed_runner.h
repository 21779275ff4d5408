// run_seeds: runs the simulator for a range of seeds on several threads and hands every
// result to the caller in seed order, on the caller's thread, so that what a run prints
// is the same for any number of jobs. At most 4 x jobs results wait to be handed over, so
// memory stays bounded however many seeds run. Each seed's simulation is independent of
// the others (the kernel and the simulator keep no global state), so a seed gives the same
// result, trace hash included, on any thread.
#pragma once

#include <cstdint>
#include <functional>

#include "sim/simulation.h"

namespace ckv::sim {

// Runs `count` seeds from `first` with `base` as the configuration. An exception thrown by
// a simulation (or by `take`) stops the run and is rethrown here, after every thread ended.
void run_seeds(const SimConfig& base, uint64_t first, uint64_t count, unsigned jobs,
               const std::function<void(SimResult&&)>& take);

}  // namespace ckv::sim
