// Time as the kernel sees it. The kernel never reads a clock: every input carries a `Now`
// chosen by the driver (the real runtime reads its clocks, the simulator advances virtual
// time). `mono` orders timers; `wall` stamps write versions and may be skewed or drift.
#pragma once

#include <chrono>
#include <cstdint>

namespace ckv {

using Duration = std::chrono::microseconds;

// A clock type that only names a time line; it has no now() on purpose.
struct MonoClock {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<MonoClock, Duration>;
  static constexpr bool is_steady = true;
};

// Wall-clock time in microseconds since the Unix epoch, as the node's clock reports it.
// Microseconds, not milliseconds: write versions start from it, and two writes on one
// machine a millisecond apart must still be ordered by it.
struct WallClock {
  using duration = std::chrono::microseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<WallClock, duration>;
  static constexpr bool is_steady = false;
};

using MonoTime = MonoClock::time_point;
using WallTime = WallClock::time_point;

struct Now {
  MonoTime mono;
  WallTime wall;
};

inline constexpr MonoTime kNever = MonoTime::max();

// Microseconds since the driver's epoch, for logs and traces.
inline constexpr int64_t micros(MonoTime t) {
  return t.time_since_epoch().count();
}

}  // namespace ckv
