// Reading a flight recording (runtime/record/flight_recorder.h) from disk: one process's
// run directory, its segments in order, every block's checksum checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/core/result.h"

namespace ckv::sim {

struct LoadedRecording {
  std::string dir;             // the run directory read
  std::vector<uint8_t> bytes;  // every record, in order
  // Why the records end where they do, when not at a clean end: a torn last block (a
  // crash), or segments missing after the first (the ring dropped them).
  std::string ends_early;
  bool missing_middle = false;  // segments 2..k-1 were dropped: the records after the first
                                // segment do not follow on from it
  size_t segments = 0;
};

// `path`: a run directory (run-...), or a recording directory holding runs (its latest
// run is read: the process that ran last).
Result<LoadedRecording> load_recording(const std::string& path);

}  // namespace ckv::sim
