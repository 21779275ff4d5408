// Simulation: adopting running kernels (SimConfig::adopt, sim/adopted_node.h), the start of
// a fork of recordings.
#include <algorithm>
#include <stdexcept>

#include "sim/simulation.h"

namespace ckv::sim {

std::vector<SimNode> Simulation::with_adopted_identities(std::vector<SimNode> nodes,
                                                         const Adoption& adopted) {
  if (adopted.nodes.empty()) return nodes;
  if (adopted.nodes.size() != nodes.size())
    throw std::invalid_argument("nodes must be the number of adopted nodes");
  for (size_t i = 0; i < nodes.size(); ++i) {
    // An adopted node keeps its identity and its clocks: it goes on from where it was
    // (drift and clock steps still apply; a skew would be a step at time 0).
    const AdoptedNode& a = adopted.nodes[i];
    nodes[i].name = a.name;
    nodes[i].addr = a.addr;
    nodes[i].clock_skew_ms = 0;
    nodes[i].mono_shift = a.mono_at_start - MonoTime{};
    nodes[i].wall_shift_us = a.wall_at_start.time_since_epoch().count() - kWallEpochMs * 1000;
  }
  return nodes;
}

void Simulation::adopt_cluster() {
  next_request_ = adopted_.first_request;
  plan_.profile_summary = adopted_.summary + "; " + plan_.profile_summary;
  for (uint32_t i = 0; i < config_.nodes; ++i) {
    AdoptedNode& a = adopted_.nodes[i];
    if (a.kernel) {
      // A kernel may be ahead of its wall clock at the moment: its clock witnessed versions
      // of machines whose clocks were ahead. The clock gap the checks allow starts there.
      uint64_t ahead_of = a.kernel->kv().expiry_clock_us();
      (void)a.disk->for_each([&](std::string_view, const Record& r) {
        ahead_of = std::max(ahead_of, r.version.wall_us);
        return true;
      });
      const auto wall_us = static_cast<uint64_t>(a.wall_at_start.time_since_epoch().count());
      if (ahead_of > wall_us) widest_gap_ = std::max(widest_gap_, Duration(ahead_of - wall_us));
      queue_.push(MonoTime{}, Event{EventKind::kStart, i});
      continue;
    }
    // A member with no process here: down for good, as after a crash (an operator forces
    // it out at the quiet phase).
    SimNode& n = nodes_[i];
    n.store = std::make_unique<MemStore>(durable_writes_);
    n.status = NodeStatus::kDown;
    n.ever_crashed = true;
    if (force_at_quiet_.size() < nodes_.size()) force_at_quiet_.resize(nodes_.size(), false);
    force_at_quiet_[i] = true;
    if (config_.timeline) config_.timeline->begin_shade(0, i, "down: not recorded running");
  }
}

void Simulation::adopt_node(uint32_t i) {
  SimNode& n = nodes_[i];
  AdoptedNode& a = adopted_.nodes[i];
  n.store = std::move(a.disk);
  n.passthrough = std::move(a.passthrough);
  n.gate = std::move(a.gate);
  n.kernel = std::move(a.kernel);
  n.absence_drops_seen = n.kernel->kv().absence_drops();  // (before the moment: not news)
  for (const std::string& prefix : a.watches)
    n.kernel->unwatch(prefix);  // the recording's clients are not here
  if (config_.workload.enabled && config_.workload.watch) {
    n.kernel->watch(adopted_.key_prefix + WatchChecker::prefix_of(i));
    watch_checker_.on_start(i, now_);
  }
  n.status = NodeStatus::kUp;
  n.up_since = now_;
  record_lifecycle(i, Lifecycle::kStart);
  drain(i);
  check_formed();
}

std::string Simulation::kernel_key(uint32_t key) const {
  return adopted_.key_prefix.empty() ? key_name(key) : adopted_.key_prefix + key_name(key);
}

std::string Simulation::strip_prefix(std::string_view key) const {
  if (!adopted_.key_prefix.empty() && key.starts_with(adopted_.key_prefix))
    key.remove_prefix(adopted_.key_prefix.size());
  return std::string(key);
}

}  // namespace ckv::sim
