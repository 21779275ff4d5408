#include "sim/fault_plan.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "kernel/core/enum_names.h"

namespace ckv::sim {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

NetworkProfile base_latency(Prng& rng) {
  NetworkProfile p;
  switch (rng.below(3)) {
    case 0:  // one switch
      p.latency_min = Duration(50);
      p.latency_max = Duration(rng.between(100, 500));
      break;
    case 1:  // a busy LAN
      p.latency_min = Duration(200);
      p.latency_max = milliseconds(rng.between(1, 5));
      break;
    default:  // across racks or zones
      p.latency_min = milliseconds(1);
      p.latency_max = milliseconds(rng.between(5, 40));
      break;
  }
  return p;
}

// A rate drawn per seed: often zero, sometimes low, sometimes high.
double swarm_rate(Prng& rng, double low, double high) {
  switch (rng.below(3)) {
    case 0:
      return 0;
    case 1:
      return low * static_cast<double>(rng.between(1, 100)) / 100.0;
    default:
      return high * static_cast<double>(rng.between(1, 100)) / 100.0;
  }
}

// Mean gap between faults of one kind, or zero for "never" (a third of seeds).
Duration swarm_gap(Prng& rng, Duration shortest, Duration longest) {
  if (rng.below(3) == 0) return Duration(0);
  return rng.between(shortest, longest);
}

std::string describe(const NetworkProfile& n, const Duration gaps[kFaultKinds]) {
  auto ms = [](Duration d) { return static_cast<double>(d.count()) / 1000.0; };
  auto every = [&](Duration d) {
    return d.count() == 0 ? std::string("never") : std::to_string(d.count() / 1000000) + "s";
  };
  char buf[256];
  std::snprintf(buf, sizeof buf, "latency %.2f-%.2fms tail %.1f%%<=%.0fms loss %.1f%% dup %.1f%%",
                ms(n.latency_min), ms(n.latency_max), n.tail_chance * 100, ms(n.tail_max),
                n.loss * 100, n.duplication * 100);
  return std::string(buf) + " | partition every " + every(gaps[0]) + ", crash every " +
         every(gaps[1]) + ", pause every " + every(gaps[2]) + ", clog every " + every(gaps[3]) +
         ", leave every " + every(gaps[4]) + ", slow every " + every(gaps[5]) +
         " | disk full every " + every(gaps[6]) + ", meta writes fail every " + every(gaps[7]) +
         ", disk slow every " + every(gaps[9]) + " | clock step every " + every(gaps[8]);
}

// Faults about `gap` apart (each gap drawn from half to one and a half of it) over the
// chaos phase, each on a random node; `fill` sets the kind and the rest. None if `gap` is 0.
void draw_faults(Prng& rng, Duration gap, uint32_t nodes, MonoTime end,
                 std::vector<FaultAction>& out, const std::function<void(FaultAction&)>& fill) {
  if (gap.count() == 0) return;
  for (MonoTime t = MonoTime{} + rng.between(gap / 2, gap * 3 / 2); t < end;
       t += rng.between(gap / 2, gap * 3 / 2)) {
    FaultAction a;
    a.at = t;
    a.node = static_cast<uint32_t>(rng.below(nodes));
    fill(a);
    out.push_back(a);
  }
}

}  // namespace

constexpr auto kFaultKindNames = name_table({"partition", "crash", "pause", "clog", "leave", "slow",
                                             "disk_full", "meta_fail", "clock_step", "slow_disk"});
static_assert(kFaultKindNames.size() == kFaultKinds, "one name per value");

const char* to_string(FaultKind kind) {
  return name_of(kFaultKindNames, kind);
}

bool FaultPlan::perfect_network() const {
  if (network.loss > 0 || network.duplication > 0 || network.tail_chance > 0) return false;
  return std::none_of(actions.begin(), actions.end(), [](const FaultAction& a) {
    return a.kind == FaultKind::kPartition || a.kind == FaultKind::kPause ||
           a.kind == FaultKind::kClog || a.kind == FaultKind::kSlow ||
           a.kind == FaultKind::kSlowDisk;  // a process waiting for its disk is stalled
  });
}

FaultPlan quiet_plan(Prng& rng) {
  FaultPlan plan;
  plan.network = base_latency(rng);
  const Duration never[kFaultKinds] = {};
  plan.profile_summary = describe(plan.network, never);
  return plan;
}

FaultPlan swarm_plan(Prng& rng, uint32_t nodes, Duration chaos) {
  FaultPlan plan;
  plan.network = base_latency(rng);
  plan.network.loss = swarm_rate(rng, 0.02, 0.25);
  plan.network.duplication = swarm_rate(rng, 0.01, 0.05);
  plan.network.tail_chance = swarm_rate(rng, 0.01, 0.10);
  plan.network.tail_max =
      plan.network.tail_chance > 0 ? milliseconds(rng.between(50, 2000)) : Duration(0);

  // Mean gaps between faults of each kind for this seed. (Storage faults are drawn last,
  // so that adding them left every other fault of a seed as it was.)
  Duration gaps[kFaultKinds] = {
      swarm_gap(rng, seconds(10), seconds(60)),   // partition
      swarm_gap(rng, seconds(5), seconds(60)),    // crash
      swarm_gap(rng, seconds(5), seconds(60)),    // pause
      swarm_gap(rng, seconds(5), seconds(60)),    // clog
      swarm_gap(rng, seconds(20), seconds(120)),  // leave
      swarm_gap(rng, seconds(10), seconds(60)),   // slow
  };

  // At most a third of the other nodes are down or gone at any time (none below 4 nodes).
  const uint32_t max_down = (nodes - 1) / 3;
  std::vector<MonoTime> down_until(nodes, MonoTime{});
  std::vector<bool> gone(nodes, false);
  auto down_at = [&](MonoTime t) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < nodes; ++i)
      count += gone[i] || down_until[i] > t ? 1 : 0;
    return count;
  };

  const MonoTime end = MonoTime{} + chaos;
  for (int kind = 0; kind < 6; ++kind) {
    if (gaps[kind].count() == 0) continue;
    MonoTime t = MonoTime{} + rng.between(gaps[kind] / 2, gaps[kind] * 3 / 2);
    for (; t < end; t += rng.between(gaps[kind] / 2, gaps[kind] * 3 / 2)) {
      FaultAction a;
      a.at = t;
      a.node = static_cast<uint32_t>(rng.below(nodes));
      switch (kind) {
        case 0:
          a.kind = FaultKind::kPartition;
          a.shape = static_cast<PartitionShape>(rng.below(4));
          a.duration = rng.between(Duration(seconds(1)), Duration(seconds(60)));
          a.choice_seed = rng.next();
          break;
        case 1: {
          a.kind = FaultKind::kCrash;
          // Four in five crashed nodes come back.
          a.duration = rng.below(5) == 0 ? Duration(0)
                                         : rng.between(Duration(seconds(1)), Duration(seconds(40)));
          if (gone[a.node] || down_until[a.node] > t || down_at(t) >= max_down) continue;
          if (a.duration.count() == 0) {
            gone[a.node] = true;
          } else {
            down_until[a.node] = t + a.duration;
          }
          break;
        }
        case 2:
          a.kind = FaultKind::kPause;
          a.duration = rng.between(Duration(milliseconds(100)), Duration(seconds(8)));
          break;
        case 3:
          a.kind = FaultKind::kClog;
          a.duration = rng.between(Duration(milliseconds(100)), Duration(seconds(5)));
          break;
        case 5:
          a.kind = FaultKind::kSlow;
          a.duration = rng.between(Duration(seconds(1)), Duration(seconds(30)));
          a.lag = rng.between(Duration(milliseconds(50)), Duration(seconds(3)));
          break;
        default:
          a.kind = FaultKind::kLeave;
          if (gone[a.node] || down_until[a.node] > t || down_at(t) >= max_down) continue;
          gone[a.node] = true;
          break;
      }
      plan.actions.push_back(a);
    }
  }
  gaps[6] = swarm_gap(rng, seconds(10), seconds(60));  // disk full
  gaps[7] = swarm_gap(rng, seconds(10), seconds(60));  // meta writes fail
  for (int kind = 6; kind < 8; ++kind) {
    draw_faults(rng, gaps[kind], nodes, end, plan.actions, [&](FaultAction& a) {
      a.kind = kind == 6 ? FaultKind::kDiskFull : FaultKind::kMetaFail;
      a.duration = rng.between(Duration(milliseconds(100)), Duration(seconds(20)));
    });
  }
  // Wall-clock steps, drawn last of all: up to 30 s either way.
  gaps[8] = swarm_gap(rng, seconds(10), seconds(60));
  draw_faults(rng, gaps[8], nodes, end, plan.actions, [&](FaultAction& a) {
    a.kind = FaultKind::kClockStep;
    a.clock_step = rng.between(Duration(milliseconds(1)), Duration(seconds(30)));
    if (rng.below(2) == 0) a.clock_step = -a.clock_step;
  });
  // Stalled disks, drawn after everything else: commits of 10 ms to 1 s for 1-20 s.
  gaps[9] = swarm_gap(rng, seconds(10), seconds(60));
  draw_faults(rng, gaps[9], nodes, end, plan.actions, [&](FaultAction& a) {
    a.kind = FaultKind::kSlowDisk;
    a.duration = rng.between(Duration(seconds(1)), Duration(seconds(20)));
    a.lag = rng.between(Duration(milliseconds(10)), Duration(seconds(1)));
  });
  plan.profile_summary = describe(plan.network, gaps);
  std::stable_sort(plan.actions.begin(), plan.actions.end(),
                   [](const FaultAction& a, const FaultAction& b) { return a.at < b.at; });
  return plan;
}

}  // namespace ckv::sim
