// KvChecker: judges what clients saw against what they wrote, for the key-value
// guarantees the README states.
//
// The simulation reports every acknowledged write and every get reply. Checked as they
// come (chaos and quiet phase alike):
//  - integrity: a value read is exactly the value written with that version (large ones
//    included), under that key;
//  - read-your-writes / no lost write / no resurrection, per node and key: once a node
//    acknowledged a write or returned a version, it never returns an older value, and
//    never "not found" below a value it wrote or returned — unless the node crashed with
//    writes that were not durable since (then it starts over);
//  - real-time order: a write that starts more than d after another write of the same
//    key was acknowledged gets the higher version, d being the widest gap between two
//    node clocks so far (plus 1 us of clock resolution);
//  - promptness (fault-free runs): a cluster read completes, current, within
//    `prompt_bound` per round of questions it needed (one, plus one per racing write).
// And once, in the quiet phase (`check_convergence`): every live node answers every key
// alike, with the highest-versioned write when any live node still holds it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/kv/client.h"
#include "sim/checker.h"

namespace ckv::sim {

struct WriteRecord {
  uint32_t key;
  Version version;
  bool tombstone;
  uint64_t op_id;  // the value is value_for(op_id, bytes)
  size_t bytes;
  uint32_t node;
  MonoTime at;
};

struct LatencySamples {
  std::vector<Duration> get_local, get_remote, get_404, put, staleness;
};

class KvChecker {
 public:
  KvChecker(uint32_t nodes, uint32_t keys) : floors_(nodes), keys_(keys) {}

  void set_prompt_bound(std::optional<Duration> bound) { prompt_bound_ = bound; }

  // A write acknowledged at `now` by `node`; `max_clock_gap` is d at this time.
  void on_write(MonoTime now, const WriteRecord& w, Duration max_clock_gap);
  // A get of `key` issued at `started` on `node` answered with `r` at `now`.
  void on_get(MonoTime now, uint32_t node, uint32_t key, MonoTime started, const Reply& r);
  // `node` crashed and lost writes that were not durable.
  void on_lossy_crash(uint32_t node) { floors_[node].clear(); }

  // The highest-versioned write of `key`, if any.
  const WriteRecord* highest(uint32_t key) const;
  // Quiet-phase verdict for one key: `answers` are (node, reply) from every live node;
  // `held_by_a_live_node` tells whether the highest write still exists somewhere.
  void check_convergence(MonoTime now, uint32_t key,
                         const std::vector<std::pair<uint32_t, Reply>>& answers,
                         bool highest_held_by_a_live_node);

  // Any other broken promise the simulation notices (an error reply, a missing answer).
  void report(MonoTime at, std::string property, std::string detail) {
    violate(at, std::move(property), std::move(detail));
  }

  const std::vector<Violation>& violations() const { return violations_; }
  const LatencySamples& latency() const { return latency_; }
  LatencySamples& latency() { return latency_; }
  uint64_t writes() const { return writes_.size(); }

 private:
  struct Floor {
    Version version;
    bool of_value = false;  // set by a value (a put, or a get that returned one)
  };
  void violate(MonoTime at, std::string property, std::string detail);
  void raise(uint32_t node, uint32_t key, const Version& v, bool of_value);

  std::vector<std::map<uint32_t, Floor>> floors_;  // per node, per key
  uint32_t keys_;
  std::map<Version, WriteRecord> writes_;
  std::map<uint32_t, std::vector<const WriteRecord*>> by_key_;  // in acknowledgement order
  std::optional<Duration> prompt_bound_;
  LatencySamples latency_;
  std::vector<Violation> violations_;
};

}  // namespace ckv::sim
