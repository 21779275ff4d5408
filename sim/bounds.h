// Liveness bounds derived from the membership configuration: how long after faults stop
// the simulator allows the cluster to take to converge and to detect failures. The
// checkers enforce them; the tests and the CLI print them. The derivation is in
// docs/simulator-bounds.md.
#pragma once

#include <cstddef>

#include "kernel/core/time.h"
#include "kernel/membership/config.h"

namespace ckv::sim {

struct LivenessBounds {
  Duration suspicion_max;  // S
  Duration push_pull;      // PP
  Duration awareness_recovery;
  Duration dissemination;  // D
  Duration detection;
  Duration convergence;
  // The longest the quiet phase runs: long enough to check both bounds, and that what
  // held by then stays true for one more suspicion timeout.
  Duration quiet_phase() const;
};

// `departed`: nodes gone for good (crashed, left) when faults stop.
LivenessBounds liveness_bounds(const MembershipConfig& config, size_t cluster_size,
                               size_t departed = 0);

}  // namespace ckv::sim
