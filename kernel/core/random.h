// Prng: the only source of randomness in the kernel and the simulator.
//
// xoshiro256** seeded through splitmix64, with our own range reduction, so that a seed gives
// the same sequence on every platform and standard library (std::uniform_int_distribution
// does not). Not for cryptography.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernel/core/time.h"

namespace ckv {

// One splitmix64 step: advances `state` and returns a well-mixed 64-bit value.
uint64_t splitmix64(uint64_t& state);

class Prng {
 public:
  explicit Prng(uint64_t seed);

  uint64_t next();

  // Uniform in [0, bound). `bound` must be > 0. Unbiased (Lemire's multiply-and-reject).
  uint64_t below(uint64_t bound);

  // Uniform in [lo, hi], inclusive. Requires lo <= hi.
  int64_t between(int64_t lo, int64_t hi);
  Duration between(Duration lo, Duration hi) { return Duration(between(lo.count(), hi.count())); }

  // True with probability `p` (p <= 0 never, p >= 1 always). Uses exact 53-bit arithmetic,
  // so results match on every IEEE-754 platform.
  bool chance(double p);

  template <class T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(below(i));
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  uint64_t s_[4];
};

}  // namespace ckv
