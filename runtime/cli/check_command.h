// `cluster-kv check`: the guarantees the README states, checked against a running cluster.
//
// Several clients run a bounded workload of gets, puts and deletes on keys of their own
// (under "_check/<run id>/", so a user's keys are never touched) against the nodes given,
// each operation recorded with when it was sent and answered (client clock), the node, the
// key, the ETag and the answer. The history then goes through the simulator's key-value
// checker (sim/kv_checker.h): integrity, no stale read, resurrection or lost write per
// node, versions that only go up, real-time order of writes beyond the clock gap the run
// measured (from the versions the nodes stamped), no errors; after a quiet period every
// node must answer every key alike with the newest write (convergence). Staleness of reads
// is reported as percentiles. The history is written as JSON lines (README: "When something
// goes wrong").
//
// Exit status: 0 no violation, 1 a violation (each printed), 2 bad usage, 3 a node could
// not be reached.
#pragma once

namespace ckv {

int run_check_command(int argc, const char* const* argv);

}  // namespace ckv
