// Liveness bounds derived from the membership configuration: how long after faults stop
// the simulator allows the cluster to take to converge and to detect failures. The
// checkers enforce them; the tests and the CLI print them.
//
// Notation: P probe interval, A awareness max multiplier, n cluster size,
// S = suspicion max timeout for n (Lifeguard: suspicion_max_timeout_mult * suspicion_mult *
// max(1, log10 n) * P; without Lifeguard the minimum), PP = push-pull interval scaled for n,
// R = reconnect interval, D = dissemination allowance (below).
//
// Detection of a node that is down when faults stop (time t0):
//   - A live node's local health score may be at its maximum at t0; it falls by one per
//     successful probe, so probing is back to normal speed after at most
//     P + 2P + ... + AP = A(A+1)/2 * P.
//   - Round-robin probing then reaches the dead node within two rounds, 2(n-1) * P (the
//     current round may just have passed it).
//   - That probe fails and starts a suspicion, which ends in "dead" within S.
//   - The dead news spreads by gossip within D; a node that misses it probes the dead node
//     itself within the same window as above.
//   detection <= A(A+1)/2 * P + 2(n-1) * P + S + D
//
// Convergence (every live node sees exactly the live nodes as alive), with k nodes gone
// for good (crashed or left) when faults stop:
//   - Any suspicion pending at t0 resolves (refuted, or dead) within S.
//   - A stale "dead" verdict about a live node, held anywhere, is handed to a third party
//     within max(PP, (k + 1)R): every node push-pulls with a live member every PP; a node
//     that sees no live member (after a split) sends a push-pull every R to the failed
//     member it tried least recently, so it reaches a live one among them within k + 1
//     tries. The receiver of a stale verdict treats it as a fresh suspicion, which reaches
//     the accused node by gossip (and by the Lifeguard buddy rule on probes) and is refuted
//     within S.
//   - The refutation, like a restarted node's join, spreads within D.
//   convergence <= S + max(PP, (k + 1)R) + S + D
//
// D = 10 s covers gossip: an update reaches all n nodes in O(log n) gossip rounds of
// 200 ms; 10 s is 50 rounds. The gossip steps are random, so the bounds hold with high
// probability rather than always; the simulator counts a miss as a violation so that a
// slow-down in the protocol cannot hide.
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
