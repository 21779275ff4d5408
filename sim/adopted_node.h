// AdoptedNode: a kernel that is already running when a Simulation starts — a recorded
// node replayed up to a moment (sim/replay/fork.h) — which the Simulation drives on in
// place of starting one of its own; and Adoption, the whole cluster so adopted.
//
// A member the adopted kernels know whose node is not adopted (it was not recorded, or was
// not running at the moment) is an AdoptedNode with no kernel: down for good from time 0,
// as a crash would leave it, so that the membership checks know who it is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernel/commit_gate.h"
#include "kernel/core/address.h"
#include "kernel/core/time.h"
#include "kernel/kv/mem_store.h"
#include "kernel/node.h"

namespace ckv::sim {

struct AdoptedNode {
  std::string name;
  Address addr;
  NodeConfig config;  // its own: a restart after a crash starts with it
  // Null kernel: a member that is down for good. Otherwise its process as it was at the
  // moment: the store it writes through forwards to `disk`, its machine's store.
  std::unique_ptr<MemStore> disk;
  std::unique_ptr<Store> passthrough;
  std::unique_ptr<CommitGate> gate;
  std::unique_ptr<Node> kernel;
  // Its clocks at the Simulation's time 0: its monotonic clock goes on from here (it must
  // never go back), its wall clock as the simulation's clock faults move it.
  MonoTime mono_at_start{};
  WallTime wall_at_start{};
  // Watches its clients held at the moment: they end at time 0 (the clients are not there).
  std::vector<std::string> watches;
};

struct Adoption {
  std::vector<AdoptedNode> nodes;
  // The simulation's own client requests are numbered from here: a reply to a lower one
  // answers a client of the recording, which is not there to hear it.
  uint64_t first_request = 1;
  // Put before every key the workload names, so that its keys are apart from the ones the
  // adopted stores already hold.
  std::string key_prefix;
  std::string summary;  // for the run's profile line: where the nodes came from
};

// Builds a fresh Adoption: called once by each Simulation that adopts (each seed of a fork
// needs kernels of its own).
using AdoptionSource = std::function<Adoption()>;

}  // namespace ckv::sim
