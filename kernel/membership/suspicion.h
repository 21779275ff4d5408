// Suspicion: how long a node waits before declaring a suspected member dead.
//
// SWIM marks an unresponsive member suspect and gives it time to refute. Lifeguard starts
// that time at its maximum and shrinks it towards the minimum as independent members
// confirm the suspicion:
//   min     = suspicion_mult * max(1, log10(max(1, n))) * probe_interval
//   max     = suspicion_max_timeout_mult * min
//   timeout = max(min, max - (max - min) * log(c + 1) / log(k + 1))
// with c confirmations received out of the k = suspicion_mult - 2 expected (k = 0 when the
// cluster is too small to supply them, which makes the timeout `min`). Times are floored
// to whole milliseconds, as memberlist does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/time.h"
#include "kernel/wire/messages.h"

namespace ckv {

Duration suspicion_min_timeout(int suspicion_mult, size_t cluster_size, Duration probe_interval);
Duration suspicion_timeout(Duration min, Duration max, int confirmations, int expected);

class Suspicion {
 public:
  Suspicion(std::string node, wire::Incarnation incarnation, std::string_view accuser,
            MonoTime start, Duration min, Duration max, int expected_confirmations);

  // Records an accusation from `accuser`. True if it is a new, counted confirmation
  // (the caller re-gossips the suspicion then).
  bool confirm(std::string_view accuser);

  MonoTime deadline() const { return deadline_; }
  const std::string& node() const { return node_; }
  wire::Incarnation incarnation() const { return incarnation_; }
  int confirmations() const { return static_cast<int>(accusers_.size()) - 1; }

 private:
  std::string node_;
  wire::Incarnation incarnation_;
  MonoTime start_;
  Duration min_;
  Duration max_;
  int expected_;
  std::vector<std::string> accusers_;  // distinct; the first started the suspicion
  MonoTime deadline_;

  void update_deadline();
};

}  // namespace ckv
