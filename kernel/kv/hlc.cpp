#include "kernel/kv/hlc.h"

#include <algorithm>

namespace ckv {

namespace {

constexpr uint64_t kLeaseUs = 200'000;  // each persisted ceiling covers 200 ms of readings

uint64_t micros_of(WallTime wall) {
  const int64_t us = wall.time_since_epoch().count();
  return us > 0 ? static_cast<uint64_t>(us) : 0;
}

}  // namespace

Version HybridClock::tick(WallTime wall) {
  const uint64_t pt = micros_of(wall);
  if (pt > wall_us_) {
    wall_us_ = pt;
    logical_ = 0;
  } else if (logical_ == UINT32_MAX) {
    wall_us_++;  // four billion writes in one microsecond: borrow the next one
    logical_ = 0;
  } else {
    logical_++;
  }
  return last();
}

void HybridClock::witness(const Version& v) {
  if (v.wall_us > wall_us_ || (v.wall_us == wall_us_ && v.logical > logical_)) {
    wall_us_ = v.wall_us;
    logical_ = v.logical;
  }
}

bool HybridClock::needs_lease(WallTime wall, uint64_t ceiling_us) const {
  return std::max(micros_of(wall), wall_us_) + 1 >= ceiling_us;
}

uint64_t HybridClock::next_ceiling(WallTime wall) const {
  return std::max(micros_of(wall), wall_us_) + kLeaseUs;
}

}  // namespace ckv
