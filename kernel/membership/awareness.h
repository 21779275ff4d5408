// Awareness: Lifeguard's local health score. A node that misses acks or nacks, or has to
// refute suspicions about itself, is likely the slow one; it then stretches its own probe
// interval and timeout (x1 at score 0 up to x`max` at score max-1) so that it accuses
// others less eagerly. Each successful direct probe lowers the score by one.
#pragma once

#include <algorithm>

#include "kernel/core/time.h"

namespace ckv {

class Awareness {
 public:
  explicit Awareness(int max_multiplier) : max_(std::max(1, max_multiplier)) {}

  void apply(int delta) { score_ = std::clamp(score_ + delta, 0, max_ - 1); }
  Duration scale(Duration d) const { return d * (score_ + 1); }
  int score() const { return score_; }

 private:
  int max_;
  int score_ = 0;
};

}  // namespace ckv
