// `cluster-kv-sim --replay DIR [--replay DIR2 ...] [--trace] [--replay-any-build]`: replays
// flight recordings (sim/replay/replayer.h) and reports the first difference.
#pragma once

namespace ckv::sim {

// Whether the command line asks for a replay.
bool wants_replay(int argc, char** argv);
// Runs it; returns the exit status (0 every output matched, 1 a replay diverged, 2 bad
// usage or a recording that cannot be replayed here).
int replay_main(int argc, char** argv);

}  // namespace ckv::sim
