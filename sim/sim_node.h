// SimNode: one simulated machine — its identity, the kernel running on it (if any), and
// the fault history the checkers need to judge what the cluster says about it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/commit_gate.h"
#include "kernel/core/address.h"
#include "kernel/core/time.h"
#include "kernel/kv/mem_store.h"
#include "kernel/node.h"

namespace ckv::sim {

enum class NodeStatus : uint8_t {
  kNotStarted,
  kUp,
  kDown,     // crashed; may restart
  kLeaving,  // leave() called, still gossiping the news
  kLeft,     // left and stopped for good
};

// A message (or client request) the node's process has received but not yet handled (it
// is paused, slow, or waiting for a commit).
struct HeldInput {
  MonoTime ready;  // when the process gets to it
  uint32_t from;
  Channel channel;
  std::vector<uint8_t> bytes;
  uint64_t request = 0;  // nonzero: not a message but this client request
};

struct SimNode {
  std::string name;
  Address addr;
  std::unique_ptr<MemStore> store;  // the machine's disk: survives crashes (its durable part)
  // An adopted process's store (sim/adopted_node.h), which forwards to `store`; null
  // otherwise, and once that process is gone.
  std::unique_ptr<Store> passthrough;
  // The process's output policy and staged writes, as in production; null when not
  // running. Declared before `kernel`, which writes through it.
  std::unique_ptr<CommitGate> gate;
  std::unique_ptr<Node> kernel;  // null unless kUp or kLeaving
  NodeStatus status = NodeStatus::kNotStarted;
  uint32_t generation = 0;  // bumped at each crash: streams to the old process die
  MonoTime paused_until{};  // processes nothing before this
  MonoTime slow_until{};    // reads input `input_lag` late before this
  Duration input_lag{};
  std::deque<HeldInput> inbox;       // received, not yet handled; in order; lost on a crash
  MonoTime inbox_at = kNever;        // when its pending inbox event fires
  MonoTime timer_at = kNever;        // when its pending timer event fires
  MonoTime restart_at = kNever;      // pending restart after a crash
  MonoTime lossy_crash_at = kNever;  // the last crash that lost writes not yet durable
  MonoTime disk_full_until{};        // the store refuses every write before this
  MonoTime meta_fail_until{};        // the store refuses meta writes before this
  MonoTime disk_failed_last = MonoTime::min();    // when its store last stopped refusing writes
  MonoTime commit_failed_last = MonoTime::min();  // when its store last refused a commit
  uint64_t max_wall_us = 0;         // the latest wall time its process has been given (see drain)
  uint64_t absence_drops_seen = 0;  // its kernel's absence_drops() the checker was told of
  MonoTime up_since{};              // when its process last started
  MonoTime slow_disk_until{};       // commits take `slow_disk_lag` before this
  Duration slow_disk_lag{};
  // Group commit, run as the runtime runs it: a commit is scheduled once the inputs of a
  // burst have run; while its batch is being written the process waits (messages and
  // client requests queue in `inbox`, timers wait), and what the gate released is
  // performed when the write is done. A crash in between leaves the writes stored and the replies
  // unsent.
  bool commit_scheduled = false;
  bool committing = false;
  uint64_t commits = 0;  // started so far: tells a kCommitDone event which commit it ends
  MonoTime commit_started = kNever;
  MonoTime commit_done_at = kNever;  // when the write is done (or the pause after it ends)
  Effects committed;                 // released by the commit being written
  int64_t clock_skew_ms = 0;
  int64_t clock_drift_ppm = 0;
  // An adopted node's clocks at time 0, relative to a simulated node's (zero otherwise).
  Duration mono_shift{};
  int64_t wall_shift_us = 0;
  Duration clock_steps{};  // the sum of the steps its wall clock took
  bool ever_crashed = false;
  bool ever_paused = false;  // paused or slowed at some point
  // Upgraded (SimConfig::upgrade): it sends its packets in this wire version.
  std::optional<uint8_t> wire_version;

  bool running() const { return kernel != nullptr; }
  // The record the node's kernel sees for `key` (staged or stored), or null; for checkers.
  const Record* peek(std::string_view key) const {
    const Record* staged = nullptr;
    if (gate && gate->staged_store().staged(key, &staged)) return staged;
    return store ? store->peek(key) : nullptr;
  }
  // Departed for good or for now: the cluster should not count it as alive.
  bool departed() const { return status != NodeStatus::kUp; }
};

}  // namespace ckv::sim
