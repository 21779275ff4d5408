#include "kernel/membership/suspicion.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "kernel/core/assert.h"

namespace ckv {

namespace {
Duration floor_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::floor(seconds * 1000.0)));
}
double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

Duration suspicion_min_timeout(int suspicion_mult, size_t cluster_size, Duration probe_interval) {
  const double n = static_cast<double>(std::max<size_t>(1, cluster_size));
  const double scale = std::max(1.0, std::log10(n));
  return floor_to_ms(suspicion_mult * scale * seconds(probe_interval));
}

Duration suspicion_timeout(Duration min, Duration max, int confirmations, int expected) {
  if (expected < 1) return min;
  const double fraction = std::log(confirmations + 1.0) / std::log(expected + 1.0);
  const Duration raw = floor_to_ms(seconds(max) - fraction * (seconds(max) - seconds(min)));
  return std::max(min, raw);
}

Suspicion::Suspicion(std::string node, wire::Incarnation incarnation, std::string_view accuser,
                     MonoTime start, Duration min, Duration max, int expected_confirmations)
    : node_(std::move(node)),
      incarnation_(incarnation),
      start_(start),
      min_(min),
      max_(max),
      expected_(expected_confirmations),
      accusers_{std::string(accuser)} {
  update_deadline();
}

bool Suspicion::confirm(std::string_view accuser) {
  if (confirmations() >= expected_) return false;
  if (std::find(accusers_.begin(), accusers_.end(), accuser) != accusers_.end()) return false;
  accusers_.emplace_back(accuser);
  CKV_ASSERT(confirmations() <= expected_,
             "suspicion confirmations never exceed the expected count");
  update_deadline();
  return true;
}

void Suspicion::update_deadline() {
  deadline_ = start_ + suspicion_timeout(min_, max_, confirmations(), expected_);
  CKV_ASSERT(deadline_ >= start_ + min_ && deadline_ <= start_ + max_,
             "the deadline lies within [min, max] of the start");
}

}  // namespace ckv
