// KvWorkload: the client load a simulated run puts on the cluster, in one of two shapes:
//  - random: concurrent gets, puts and deletes from random nodes on a small key space, so
//    that writes of one key conflict often, with a share of large values; it starts once
//    the cluster has long formed;
//  - read-modify-write: the moment the founding node sees every node alive, it writes
//    every key; at once every node runs one client that reads a key and writes it back,
//    over and over (the first `rmw_burst` loops back to back, then paced to
//    `ops_per_second` across the cluster). Keys are never deleted. This is a new user's
//    first minute: reads racing the first writes of each node and the last news of who is
//    in the cluster.
//
// Values and their content types are pure functions of the operation's id (`value_for`,
// `content_for`), so a checker can verify any value it reads back from the id of the put
// that wrote it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/core/random.h"
#include "kernel/core/time.h"
#include "kernel/kv/client.h"

namespace ckv::sim {

enum class KvProfile : uint8_t { kRandom, kReadModifyWrite };
inline constexpr size_t kKvProfileCount = 2;
static_assert(static_cast<size_t>(KvProfile::kReadModifyWrite) + 1 == kKvProfileCount);
const char* to_string(KvProfile profile);

struct KvWorkloadConfig {
  bool enabled = true;
  // Unset: drawn from the seed (read-modify-write in one seed of three).
  std::optional<KvProfile> profile;
  uint32_t rmw_burst = 20;     // loops each node runs back to back before pacing
  double ops_per_second = 40;  // across the cluster, during the chaos phase
  // The key space; 0: drawn from the seed (see SimConfig::workload).
  uint32_t keys = 0;
  double put_share = 0.35;
  double delete_share = 0.10;  // the rest are gets, but for listings:
  double list_share = 0.02;    // listings of every key (KvChecker::on_list judges them)
  double large_share = 0.03;   // of puts
  // Beyond a datagram's 64 KiB, so they must travel on the stream channel (the kernel
  // unit tests and the real-process tests carry 1 MiB values).
  size_t large_bytes = 96 * 1024;
  size_t small_max_bytes = 300;
  // Puts with a time to live, drawn from [ttl_min, ttl_max] (virtual time).
  double ttl_share = 0.2;
  Duration ttl_min = std::chrono::milliseconds(50);
  Duration ttl_max = std::chrono::seconds(4);
  // Compare-and-set keys: in the random profile, every put and delete of the last
  // `cas_keys` keys of the key space is conditional (If-Match on the version its node's
  // client last saw, else If-None-Match: * for a put and If-Match: * for a delete), with
  // no TTL; CasChecker judges them. Fewer when the key space is small (a quarter of it).
  // Unset: 2.
  std::optional<uint32_t> cas_keys;
  // Every node's process watches one prefix from its start (WatchChecker::prefix_of)
  // and WatchChecker judges what its change feed gives.
  bool watch = true;
  friend bool operator==(const KvWorkloadConfig&, const KvWorkloadConfig&) = default;
};

struct KvOp {
  uint64_t id;
  ClientOp op;
  uint32_t key;
  size_t value_bytes;                          // puts
  std::optional<Duration> ttl = std::nullopt;  // puts
};

// The first compare-and-set key of the random profile (see KvWorkloadConfig::cas_keys);
// `keys` when there are none.
uint32_t first_cas_key(const KvWorkloadConfig& config);

class KvWorkload {
 public:
  KvWorkload(KvWorkloadConfig config, uint64_t seed) : config_(config), rng_(seed) {}

  const KvWorkloadConfig& config() const { return config_; }
  // Random profile: the gap before the next operation, and the operation.
  Duration next_gap();
  KvOp next_op();
  // The node that issues it, among `n`.
  uint32_t pick_node(uint32_t n) { return static_cast<uint32_t>(rng_.below(n)); }

  // Read-modify-write profile: the read of a loop, the write that follows it, and the
  // pause before the next loop of a client that has run `loops` so far, with `clients`
  // clients in the cluster.
  KvOp rmw_read();
  KvOp rmw_write(uint32_t key);
  Duration rmw_pause(uint32_t loops, uint32_t clients);

 private:
  size_t put_bytes();

  KvWorkloadConfig config_;
  Prng rng_;
  uint64_t next_id_ = 1;
};

// A client operation a test schedules itself (SimConfig::client_script).
struct ScriptedOp {
  MonoTime at;
  uint32_t node;
  ClientOp op;
  uint32_t key;
};

std::string key_name(uint32_t key);
// The index key_name gave `name` (UINT32_MAX: not a name it gives).
uint32_t key_index(std::string_view name);
// The value a put with this id writes.
std::string value_for(uint64_t op_id, size_t bytes);
// The content type it writes with it: none for a quarter of the ids, else one of three
// (media type with parameters, with an encoding, one drawn from the id).
ContentType content_for(uint64_t op_id);

}  // namespace ckv::sim
