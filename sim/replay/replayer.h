// Replayer: feeds a flight recording (kernel/record/record_format.h) to a fresh kernel,
// through the same NodeHost the runtime ran it with, and checks every output the
// recording summarized: each release of the gate, each store write, each running digest.
// The store's answers come from the recording (ReplayStore), so the replay needs nothing
// but the recording: not the data directory, not the network, not the clock.
//
// The first difference stops the replay with a report: which input (its number, time and
// content), what the recorded node released and what the replay did, each output decoded.
//
// A replay may also stop at a moment and hand its kernel over running (ReplayedKernel):
// the store it then writes through is a copy of every record the recording showed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/time.h"
#include "kernel/kv/mem_store.h"
#include "kernel/outbox.h"
#include "kernel/record/node_host.h"
#include "kernel/record/record_format.h"
#include "sim/replay/recording_files.h"
#include "sim/timeline/timeline.h"

namespace ckv::sim {

struct ReplayOptions {
  // The build that replays: a recording made by another is refused unless `any_build`.
  std::string build;
  bool any_build = false;
  // Every input and output, one line each, as they are replayed.
  std::function<void(std::string_view line)> trace;
  // Stop before the first input at or after this wall-clock time (the node's own clock:
  // the one axis several machines' recordings share).
  std::optional<WallTime> stop_at;
  // Draws the replayed node on lane `timeline_lane` (by wall-clock time, so that nodes of
  // several machines line up): member changes, client replies, invalidations it sent.
  Timeline* timeline = nullptr;
  uint32_t timeline_lane = 0;
};

// A message one recorded node sent or received, for checking recordings against each
// other: the other end, the channel and the hash of the packet.
struct Link {
  Address peer;
  Channel channel;
  uint64_t hash;
  WallTime at;
};

struct ReplayResult {
  std::string dir;
  std::string name;
  Address address;
  std::string build;
  record::ValueMode values = record::ValueMode::kWhole;
  uint64_t records = 0, inputs = 0, outputs_checked = 0, writes_checked = 0, digests_checked = 0;
  Now first{}, last{};  // the first and last input's time
  bool diverged = false;
  std::string report;        // the divergence, when there is one
  std::string ended_early;   // the recording ends before the node did (why)
  bool stopped_at = false;   // stopped at ReplayOptions::stop_at
  bool lost_middle = false;  // the ring dropped segments after the first: only the start replayed
  bool fell_behind = false;  // ended at a gap: the recorder dropped records there
  std::vector<Link> sent, received;
};

// A kernel replayed up to ReplayOptions::stop_at and handed over running, with the store
// as the recording showed it (a fork, sim/replay/fork.h, drives it on). Every record the
// recorded node read, scanned or wrote is in `disk`; one it never touched since its start
// is not (exact when the recording began on an empty data directory).
struct ReplayedKernel {
  record::StartInfo start;           // its name, address and config
  Now at{};                          // the last input it was given
  std::unique_ptr<MemStore> disk;    // its store
  std::unique_ptr<Store> store;      // what its gate writes through: now goes to `disk`
  std::unique_ptr<CommitGate> gate;  // (declared after `store`, which it refers to)
  std::unique_ptr<Node> node;
  uint64_t max_request = 0;          // the highest client request id it was given
  std::vector<std::string> watches;  // prefixes its clients watched at the stop (one each)
};

// Replays `recording`; errors are recordings that cannot be replayed at all (another
// build, another format, no start). With `keep`, a replay that stopped at stop_at (not
// diverged: every record before the stop was there) hands its kernel over in *keep.
Result<ReplayResult> replay(const LoadedRecording& recording, const ReplayOptions& options,
                            ReplayedKernel* keep = nullptr);

// One line describing a recorded event, and one per message in a packet.
std::string describe(const record::Event& e);
std::string describe_packet(std::span<const uint8_t> packet);

}  // namespace ckv::sim
