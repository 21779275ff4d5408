// HybridClock: the hybrid logical clock that stamps this node's writes.
//
// A reading is (wall microseconds, logical counter). `tick` returns a reading greater than
// every reading this clock has returned or witnessed, and at least the wall time given:
// so a write that starts after another write was acknowledged gets the higher version
// whenever the two nodes' clocks differ by less than the time between them. `witness`
// folds in a version: KeyValue witnesses the version it holds for a key before writing
// it, and every version a get of its returns, so a write always beats what the node knew
// or said of that key, even across skewed clocks. (Versions merely seen on the network do
// not move the clock: a node with a clock far ahead, or a forged message, cannot drag
// every other node's versions with it unless a client reads them.)
//
// Restarts: the clock persists a ceiling (200 ms ahead) before it issues readings up to
// it; a restarted node starts at the persisted ceiling, so it never reissues an old
// version even when its wall clock went back or the writes it issued were not durable.
// (KeyValue holds writes until the wall clock passes that ceiling, so the restarted
// node's versions do not run ahead of real time.)
#pragma once

#include <cstdint>

#include "kernel/core/time.h"
#include "kernel/kv/version.h"

namespace ckv {

class HybridClock {
 public:
  // `floor_us`: a persisted ceiling from a previous run (0 if none).
  HybridClock(uint64_t node, uint64_t floor_us) : node_(node), wall_us_(floor_us) {}

  // A fresh version for a local write.
  Version tick(WallTime wall);
  // Folds in a version seen from elsewhere.
  void witness(const Version& v);
  // The latest reading, as a version of this node.
  Version last() const { return Version{wall_us_, logical_, node_}; }

  // Whether the reading `tick` would return next may reach the persisted ceiling; then
  // the caller persists `next_ceiling()` durably before ticking.
  bool needs_lease(WallTime wall, uint64_t ceiling_us) const;
  uint64_t next_ceiling(WallTime wall) const;

 private:
  uint64_t node_;
  uint64_t wall_us_;
  uint32_t logical_ = 0;
};

}  // namespace ckv
