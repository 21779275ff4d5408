#include "sim/bounds.h"

#include <algorithm>
#include <chrono>

#include "kernel/membership/suspicion.h"

namespace ckv::sim {

Duration LivenessBounds::quiet_phase() const {
  // Long enough to see each bound met and then held for a suspicion timeout.
  return std::max(detection, convergence) + suspicion_max + std::chrono::seconds(5);
}

LivenessBounds liveness_bounds(const MembershipConfig& c, size_t n, size_t departed) {
  LivenessBounds b;
  const Duration min = suspicion_min_timeout(c.suspicion_mult, n, c.probe_interval);
  b.suspicion_max = c.lifeguard ? min * c.suspicion_max_timeout_mult : min;
  int multiplier = 1;
  for (size_t threshold = 32; threshold < n; threshold *= 2)
    ++multiplier;
  b.push_pull = c.push_pull_interval * multiplier;
  const int a = c.lifeguard ? c.awareness_max_multiplier : 1;
  b.awareness_recovery = c.probe_interval * (a * (a + 1) / 2);
  b.dissemination = std::chrono::seconds(10);
  const auto others = static_cast<int64_t>(n > 0 ? n - 1 : 0);
  b.detection =
      b.awareness_recovery + c.probe_interval * (2 * others) + b.suspicion_max + b.dissemination;
  const Duration reconnect = c.reconnect_interval * static_cast<int64_t>(departed + 1);
  b.convergence =
      b.suspicion_max + std::max(b.push_pull, reconnect) + b.suspicion_max + b.dissemination;
  return b;
}

}  // namespace ckv::sim
