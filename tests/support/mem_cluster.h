// MemCluster: a hand-driven cluster of kernels in one process, shared by the kernel tests
// and the benchmarks. Delivery is instant and in order (a `hold` predicate keeps chosen
// messages back, in flight, until it lets them go); time moves only when the caller says,
// in 1 ms steps that fire every timer due; stores are durable MemStores. Latency, loss and
// faults are the simulator's business (sim/).
//
// The node vectors, the messages in flight, the replies and the clock skews are open:
// tests crash, replace and rewire nodes through them. A null node is down (it is skipped,
// and messages to it are lost).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernel/kv/mem_store.h"
#include "kernel/node.h"

namespace ckv {

class MemCluster {
 public:
  struct InFlight {
    size_t from, to;
    Channel channel;
    std::vector<uint8_t> bytes;
  };
  // True for a message to keep in flight for now.
  using Hold = std::function<bool(const InFlight&)>;

  // Nodes n0..n<size-1>, node i seeded `seed_base + i`: n0 founds the cluster and every
  // other node joins through it; time then runs until every node sees every member alive
  // (at most 60 s) and 3 s more, so the news of the joins has stopped travelling and
  // every invalidation log has been announced. error() says what went wrong, if anything.
  explicit MemCluster(size_t size, uint64_t seed_base = 100, const NodeConfig& config = {});

  const std::string& error() const { return error_; }
  size_t size() const { return nodes.size(); }
  static Address addr(size_t i) { return Address{0x0a000001u + static_cast<uint32_t>(i), 7946}; }
  // Node i's view of now: the cluster's time, and its wall clock (skew_us[i] ahead).
  Now now(size_t i = 0) const;
  MonoTime time() const { return t_; }
  // Moves the clock to `t` (never back) without firing timers or delivering anything.
  void set_time(MonoTime t) { t_ = std::max(t_, t); }

  Node& node(size_t i) { return *nodes[i]; }
  MemStore& store(size_t i) { return *stores[i]; }

  // Puts `s`, sent by node `from`, in flight (for a caller that takes an outbox itself).
  void send(size_t from, Send& s);
  // Takes node i's output (or every node's): sends join the messages in flight, replies
  // are kept in `replies`, change events in `events[i]`.
  void collect(size_t i);
  void collect();
  // Delivers messages (those `hold` lets through) until none is left to deliver.
  void pump(const Hold& hold = nullptr);
  // Moves time on by `d` at once, fires every timer then due, and delivers.
  void step(Duration d, const Hold& hold = nullptr);
  // Runs timers and delivery for `d` in 1 ms steps, keeping the replies; stops early once
  // `until` holds.
  void advance(Duration d, const Hold& hold = nullptr,
               const std::function<bool()>& until = nullptr);
  // advance(), then forgets the replies.
  void run_for(Duration d, const Hold& hold = nullptr);
  // The reply to `request` among those kept, or null.
  const Reply* reply_to(uint64_t request) const;

  std::vector<std::unique_ptr<MemStore>> stores;
  std::vector<std::unique_ptr<Node>> nodes;
  std::deque<InFlight> in_flight;
  std::vector<Reply> replies;
  std::vector<std::vector<ChangeEvent>> events;  // each node's change feed, as collected
  std::vector<int64_t> skew_us;  // each node's wall clock, ahead of time() by this much

 private:
  bool converged() const;

  MonoTime t_ = MonoTime{} + std::chrono::seconds(1);
  std::string error_;
};

}  // namespace ckv
