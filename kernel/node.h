// Node: one cluster-kv node's kernel, behind a sans-IO interface.
//
//   inputs   on_message(now, from, channel, bytes)   on_timer(now)
//            join(now, seeds)   leave(now)
//   outputs  outbox(): datagrams and stream messages to send, member changes to report
//            next_deadline(): when on_timer wants to run next
//
// The node reads no clock, does no I/O and draws randomness only from a PRNG seeded at
// creation, so the same inputs always produce the same outputs. The real runtime and the
// simulator drive the same Node. Bad input from the network never crashes it: a packet
// that does not decode is dropped whole and counted in stats().decode_errors.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/membership/config.h"
#include "kernel/membership/membership.h"
#include "kernel/outbox.h"
#include "kernel/stats.h"
#include "kernel/wire/messages.h"

namespace ckv {

struct NodeConfig {
  MembershipConfig membership;
};

class Node {
 public:
  // Checks the name (1..255 bytes) and the configuration, then builds the node.
  static Result<std::unique_ptr<Node>> create(const NodeConfig& config, std::string name,
                                              Address address, uint64_t seed, Now start);
  static Status validate(const NodeConfig& config);

  void join(Now now, std::span<const Address> seeds) { membership_.join(now.mono, seeds); }
  void leave(Now now) { membership_.leave(now.mono); }
  bool leave_complete() const { return membership_.leave_complete(); }

  void on_message(Now now, const Address& from, Channel channel, std::span<const uint8_t> bytes);
  void on_timer(Now now) { membership_.on_timer(now.mono); }
  MonoTime next_deadline() const { return membership_.next_deadline(); }

  Outbox& outbox() { return outbox_; }
  const NodeStats& stats() const { return stats_; }
  const Membership& membership() const { return membership_; }
  const MemberTable& members() const { return membership_.members(); }
  const std::string& name() const { return membership_.name(); }
  const Address& address() const { return membership_.address(); }

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

 private:
  Node(const NodeConfig& config, std::string name, Address address, uint64_t seed, Now start);

  NodeConfig config_;
  Outbox outbox_;
  NodeStats stats_;
  Membership membership_;
  static constexpr size_t kDecodedKeep = 8;
  std::vector<wire::Message> decoded_;  // reused across inputs
};

}  // namespace ckv
