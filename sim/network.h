// Network: the simulated wire between nodes. For each message it decides whether it
// arrives and when, from the run's NetworkProfile and the faults in force: the current
// partition (if any) and clogged senders.
//
// Datagrams may be lost, duplicated and reordered (a random extra delay). Stream messages
// are never lost, duplicated or reordered between one pair of nodes, but a partition
// breaks the connection: those in flight across it are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kernel/core/random.h"
#include "kernel/core/time.h"
#include "kernel/outbox.h"
#include "sim/fault_plan.h"

namespace ckv::sim {

enum class DropReason : uint8_t { kNone, kLoss, kPartition, kDown, kUnknownAddress };
inline constexpr size_t kDropReasonCount = 5;
static_assert(static_cast<size_t>(DropReason::kUnknownAddress) + 1 == kDropReasonCount);
const char* to_string(DropReason reason);

class Network {
 public:
  Network(uint32_t nodes, NetworkProfile profile, uint64_t seed);

  // Arrival times for a message sent now from `from` to `to`: none (dropped, `why` says
  // why), one, or two (duplicated).
  struct Route {
    DropReason dropped = DropReason::kNone;
    int copies = 0;
    MonoTime at[2];
  };
  Route route(MonoTime now, uint32_t from, uint32_t to, Channel channel);

  // Whether traffic from `from` to `to` is cut right now.
  bool blocked(uint32_t from, uint32_t to) const;

  void start_partition(PartitionShape shape, uint64_t choice_seed, uint32_t focus);
  void heal_partition();
  bool partitioned() const { return partition_active_; }
  void clog(uint32_t node, MonoTime until);
  // Faults stop: no more loss, duplication, tail delay, partitions or clogs.
  void calm();

  // The latest arrival time of anything routed so far: after it, nothing delayed by a
  // past fault (a clog, a slow tail, a stream queued behind either) is still on the way.
  MonoTime last_arrival() const { return last_arrival_; }

  // Which side of the current partition each node is on (for traces).
  uint8_t side(uint32_t node) const { return side_[node]; }

 private:
  Duration latency();

  NetworkProfile profile_;
  Prng rng_;
  bool partition_active_ = false;
  PartitionShape shape_ = PartitionShape::kSplitHalves;
  std::vector<uint8_t> side_;
  std::vector<MonoTime> clogged_until_;
  // Last arrival time per (from, to) stream link, to keep streams in order.
  std::unordered_map<uint64_t, MonoTime> stream_tail_;
  MonoTime last_arrival_{};
};

}  // namespace ckv::sim
