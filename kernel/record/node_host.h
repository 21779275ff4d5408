// NodeHost: a node's kernel as one unit — the Node, the CommitGate its output passes
// through, and optionally a recording of everything it is given.
//
// The runtime's NodeDriver runs its node through a NodeHost, and a replay
// (sim/replay/replayer.h) feeds a recording to a fresh NodeHost through the same methods:
// what the recording holds is exactly what the host was given. Every method that is an
// input records itself before it runs; take() and commit() record what the gate released.
// With no recording, a host adds one pointer test per input.
//
// Pure and deterministic, like the kernel. Not thread-safe (one strand).
#pragma once

#include <memory>
#include <optional>

#include "kernel/commit_gate.h"
#include "kernel/node.h"
#include "kernel/record/record_format.h"
#include "kernel/record/recording_store.h"

namespace ckv {

class NodeHost {
 public:
  // `durable` must outlive the host. `recording`, when given, receives the records (and
  // must outlive the host too).
  NodeHost(Store& durable, const MembershipConfig& membership, record::Writer* recording);

  // Creates the node (Node::create) with `info`'s config, name, address, seed and start
  // time; `store_refuses`: the store is known to refuse writes (CommitGate).
  Status create(const record::StartInfo& info, std::optional<Error> store_refuses);

  // The kernel's inputs (see kernel/node.h).
  void join(Now now, std::span<const Address> seeds);
  void leave(Now now);
  Status set_tags(Now now, wire::Tags tags);
  Status force_leave(Now now, std::string_view member);
  void on_message(Now now, const Address& from, Channel channel, std::span<const uint8_t> bytes);
  void on_timer(Now now);
  void on_commit_failed(Now now);
  void get(Now now, uint64_t request, std::string_view key, std::optional<Duration> timeout);
  void put(Now now, uint64_t request, std::string_view key, std::string value,
           std::optional<Duration> ttl, ContentType content);
  void erase(Now now, uint64_t request, std::string_view key);
  void watch(std::string_view prefix);
  void unwatch(std::string_view prefix);
  void write_if(Now now, uint64_t request, std::string_view key, bool erase, std::string value,
                std::optional<Duration> ttl, WriteCondition condition, ContentType content);
  void list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
            size_t limit, std::optional<Duration> timeout, bool values);
  void note_local_hits(std::span<const std::string> keys);

  // The gate's operations (kernel/commit_gate.h): what they release is appended to `now`.
  void take(Effects& now);
  Status commit(Effects& now);

  const Node& node() const { return *node_; }
  const CommitGate& gate() const { return *gate_; }
  bool recording() const { return recording_ != nullptr; }

  // Hands the kernel over, running, to whoever goes on driving it (a fork of a replay:
  // sim/replay/fork.h); the host is empty after. Only a host that is not recording: a
  // recording's store wrapper stays with the host. The durable store must outlive them.
  void release(std::unique_ptr<CommitGate>& gate, std::unique_ptr<Node>& node);

  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

 private:
  // Records what `now` gained since it held `before` items of each kind.
  void record_released(const Effects& now, const size_t before[4]);

  record::Writer* recording_;
  std::unique_ptr<record::RecordingStore> recording_store_;
  std::unique_ptr<CommitGate> gate_;  // (on the heap: release() hands it over in place)
  std::unique_ptr<Node> node_;
};

}  // namespace ckv
