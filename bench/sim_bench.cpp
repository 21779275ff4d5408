// Simulator benchmarks: virtual seconds simulated per wall-clock second for fault-free
// clusters of 10, 100 and 1000 nodes, and the memory each simulated node costs. Measured
// in steady state, after the cluster has formed and the gossip of its formation has died
// down. Release builds only:
//   build/release/bench/sim_bench
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <memory>

#include "sim/simulation.h"

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

SimConfig fault_free(uint32_t nodes) {
  SimConfig c;
  c.seed = 1;
  c.nodes = nodes;
  c.faults = FaultMode::kNone;
  c.chaos = 1000000s;  // never reach the quiet phase: the benchmark steps the run itself
  c.trace_ring = 0;
  c.workload.enabled = false;  // membership speed; the key-value load is measured apart
  return c;
}

// Runs until every node knows every other and no node has news left to gossip.
void form_cluster(Simulation& sim) {
  auto settled = [&] {
    for (uint32_t i = 0; i < sim.size(); ++i) {
      if (!sim.node(i).running()) return false;
      const Node& n = *sim.node(i).kernel;
      if (n.members().size() != sim.size() || n.membership().pending_broadcasts() > 0) {
        return false;
      }
    }
    return true;
  };
  while (!settled())
    sim.run_until(sim.now() + 5s);
}

size_t heap_in_use() {
  return mallinfo2().uordblks;
}

void BM_SimulatorSpeed(benchmark::State& state) {
  const auto nodes = static_cast<uint32_t>(state.range(0));
  Simulation sim(fault_free(nodes));
  form_cluster(sim);
  const Duration step = 10s;
  double virtual_seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    sim.run_until(sim.now() + step);
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    virtual_seconds += 10;
  }
  state.counters["virtual_s_per_wall_s"] =
      benchmark::Counter(virtual_seconds, benchmark::Counter::kIsRate);
  if (!sim.checker().violations().empty()) state.SkipWithError("a property was violated");
}
BENCHMARK(BM_SimulatorSpeed)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Heap bytes per simulated node once the cluster has formed (trace ring off): the kernel,
// its member table and queues, and the simulator's share (event queue, network state).
void BM_MemoryPerNode(benchmark::State& state) {
  const auto nodes = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    malloc_trim(0);
    const size_t before = heap_in_use();
    auto sim = std::make_unique<Simulation>(fault_free(nodes));
    form_cluster(*sim);
    sim->run_until(sim->now() + 30s);
    const size_t after = heap_in_use();
    size_t tables = 0;
    for (uint32_t i = 0; i < nodes; ++i)
      tables += sim->node(i).kernel->members().heap_bytes();
    state.counters["bytes_per_node"] = static_cast<double>(after - before) / nodes;
    state.counters["member_table_bytes_per_node"] = static_cast<double>(tables) / nodes;
  }
}
BENCHMARK(BM_MemoryPerNode)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ckv::sim
