#include "sim/network.h"

#include <algorithm>

#include "kernel/core/enum_names.h"

namespace ckv::sim {

constexpr auto kDropReasonNames =
    name_table({"none", "loss", "partition", "down", "unknown-address"});
static_assert(kDropReasonNames.size() == kDropReasonCount, "one name per value");

const char* to_string(DropReason reason) {
  return name_of(kDropReasonNames, reason);
}

Network::Network(uint32_t nodes, NetworkProfile profile, uint64_t seed)
    : profile_(profile), rng_(seed), side_(nodes, 0), clogged_until_(nodes, MonoTime{}) {}

Duration Network::latency() {
  Duration d = rng_.between(profile_.latency_min, profile_.latency_max);
  if (profile_.tail_chance > 0 && rng_.chance(profile_.tail_chance)) {
    d += rng_.between(Duration(0), profile_.tail_max);
  }
  return d;
}

bool Network::blocked(uint32_t from, uint32_t to) const {
  if (!partition_active_ || side_[from] == side_[to]) return false;
  if (shape_ == PartitionShape::kAsymmetric) return side_[from] == 1;
  if (shape_ == PartitionShape::kCutLink) return side_[from] + side_[to] == 3;  // 1 and 2
  return true;
}

Network::Route Network::route(MonoTime now, uint32_t from, uint32_t to, Channel channel) {
  Route r;
  if (blocked(from, to)) {
    r.dropped = DropReason::kPartition;
    return r;
  }
  const MonoTime departs = std::max(now, clogged_until_[from]);
  if (channel == Channel::kStream) {
    if (stream_tail_.size() > 4 * side_.size()) {
      // Forget links with nothing in flight, so the map stays O(nodes).
      std::erase_if(stream_tail_, [&](const auto& link) { return link.second <= now; });
    }
    MonoTime& tail = stream_tail_[(uint64_t{from} << 32) | to];
    tail = std::max(departs + latency(), tail);
    r.copies = 1;
    r.at[0] = tail;
    last_arrival_ = std::max(last_arrival_, tail);
    return r;
  }
  if (rng_.chance(profile_.loss)) {
    r.dropped = DropReason::kLoss;
    return r;
  }
  r.copies = 1;
  r.at[0] = departs + latency();
  if (rng_.chance(profile_.duplication)) r.at[r.copies++] = departs + latency();
  for (int c = 0; c < r.copies; ++c)
    last_arrival_ = std::max(last_arrival_, r.at[c]);
  return r;
}

void Network::start_partition(PartitionShape shape, uint64_t choice_seed, uint32_t focus) {
  Prng choose(choice_seed);
  const auto n = static_cast<uint32_t>(side_.size());
  std::fill(side_.begin(), side_.end(), 0);
  switch (shape) {
    case PartitionShape::kSplitHalves: {
      std::vector<uint32_t> order(n);
      for (uint32_t i = 0; i < n; ++i)
        order[i] = i;
      choose.shuffle(order);
      for (uint32_t i = 0; i < n / 2; ++i)
        side_[order[i]] = 1;
      break;
    }
    case PartitionShape::kIsolateOne:
      side_[focus] = 1;
      break;
    case PartitionShape::kCutLink:
      side_[focus] = 1;
      if (n > 1) side_[(focus + 1 + choose.below(n - 1)) % n] = 2;
      break;
    case PartitionShape::kAsymmetric:
      side_[focus] = 1;
      for (uint32_t i = 0; i < n; ++i) {
        if (choose.below(4) == 0) side_[i] = 1;
      }
      break;
  }
  shape_ = shape;
  partition_active_ = true;
}

void Network::heal_partition() {
  partition_active_ = false;
  std::fill(side_.begin(), side_.end(), 0);
}

void Network::clog(uint32_t node, MonoTime until) {
  clogged_until_[node] = std::max(clogged_until_[node], until);
}

void Network::calm() {
  heal_partition();
  std::fill(clogged_until_.begin(), clogged_until_.end(), MonoTime{});
  profile_.loss = 0;
  profile_.duplication = 0;
  profile_.tail_chance = 0;
}

}  // namespace ckv::sim
