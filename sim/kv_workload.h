// KvWorkload: the client load a simulated run puts on the cluster — concurrent gets,
// puts and deletes from random nodes on a small key space, so that writes of one key
// conflict often, with a share of large values.
//
// Values are a pure function of the operation's id (`value_for`), so a checker can verify
// any value it reads back from the id of the put that wrote it.
#pragma once

#include <cstdint>
#include <string>

#include "kernel/core/random.h"
#include "kernel/core/time.h"
#include "kernel/kv/client.h"

namespace ckv::sim {

struct KvWorkloadConfig {
  bool enabled = true;
  double ops_per_second = 40;  // across the cluster, during the chaos phase
  uint32_t keys = 8;
  double put_share = 0.35;
  double delete_share = 0.10;    // the rest are gets
  double large_share = 0.03;     // of puts
  size_t large_bytes = 1 << 20;  // 1 MiB
  size_t small_max_bytes = 300;
  friend bool operator==(const KvWorkloadConfig&, const KvWorkloadConfig&) = default;
};

struct KvOp {
  uint64_t id;
  ClientOp op;
  uint32_t key;
  size_t value_bytes;  // puts
};

class KvWorkload {
 public:
  KvWorkload(KvWorkloadConfig config, uint64_t seed) : config_(config), rng_(seed) {}

  const KvWorkloadConfig& config() const { return config_; }
  // The gap before the next operation.
  Duration next_gap();
  KvOp next_op();
  // The node that issues it, among `n`.
  uint32_t pick_node(uint32_t n) { return static_cast<uint32_t>(rng_.below(n)); }

 private:
  KvWorkloadConfig config_;
  Prng rng_;
  uint64_t next_id_ = 1;
};

std::string key_name(uint32_t key);
// The value a put with this id writes.
std::string value_for(uint64_t op_id, size_t bytes);

}  // namespace ckv::sim
