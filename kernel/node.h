// Node: one cluster-kv node's kernel, behind a sans-IO interface.
//
//   inputs   on_message(now, from, channel, bytes)   on_timer(now)
//            join(now, seeds)   leave(now)
//            get(now, request, key, timeout)   put(now, request, key, value)
//            erase(now, request, key)
//   outputs  outbox(): datagrams and stream messages to send, member changes to report,
//            client replies (one per request id)
//            next_deadline(): when on_timer wants to run next
//
// The node reads no clock, does no I/O and draws randomness only from a PRNG seeded at
// creation, so the same inputs always produce the same outputs. The real runtime and the
// simulator drive the same Node. Bad input from the network never crashes it: a packet
// that does not decode is dropped whole and counted in stats().decode_errors. Keys and
// values live in a Store the driver owns (kv/store.h) and that outlives the Node.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/kv/config.h"
#include "kernel/kv/key_value.h"
#include "kernel/kv/store.h"
#include "kernel/membership/config.h"
#include "kernel/membership/membership.h"
#include "kernel/outbox.h"
#include "kernel/stats.h"
#include "kernel/wire/messages.h"

namespace ckv {

struct NodeConfig {
  MembershipConfig membership;
  KvConfig kv;
};

class Node {
 public:
  // Checks the name (1..255 bytes) and the configuration, reads the store's meta, then
  // builds the node.
  static Result<std::unique_ptr<Node>> create(const NodeConfig& config, std::string name,
                                              Address address, uint64_t seed, Now start,
                                              Store& store);
  static Status validate(const NodeConfig& config);

  void join(Now now, std::span<const Address> seeds);
  void leave(Now now);
  // This node's tags (kernel/membership/tags.h), gossiped to every member with an
  // incarnation bump; tags out of bounds are refused.
  Status set_tags(Now now, wire::Tags tags);
  // Marks a failed member left (Membership::force_leave); errors say why not.
  Status force_leave(Now now, std::string_view member);
  bool leave_complete() const { return membership_.leave_complete(); }

  void on_message(Now now, const Address& from, Channel channel, std::span<const uint8_t> bytes);
  void on_timer(Now now);
  MonoTime next_deadline() const;
  // The store refused a batch of writes the node had acted on (kernel/commit_gate.h): the
  // node forgets what it did on their strength and goes on, as after a restart of its
  // key-value layer; its membership is untouched.
  void on_commit_failed(Now now);

  // Client operations; each answers with one Reply carrying `request` (see kv/client.h).
  void get(Now now, uint64_t request, std::string_view key,
           std::optional<Duration> timeout = std::nullopt);
  // `ttl`: the value expires that long after `now.wall` (none: the configured default);
  // `content`: what the value is, returned with it (kv/content_type.h).
  void put(Now now, uint64_t request, std::string_view key, std::string value,
           std::optional<Duration> ttl = std::nullopt, ContentType content = {});
  void erase(Now now, uint64_t request, std::string_view key);
  // Watches the keys starting with `prefix`: the change feed's events (kv/change_feed.h)
  // come out in the outbox. Counted: each watch needs its own unwatch.
  void watch(std::string_view prefix) { kv_->watch(prefix); }
  void unwatch(std::string_view prefix) { kv_->unwatch(prefix); }
  // A conditional put (`erase` false) or delete, decided by the key's owner (see
  // kv/key_value.h): kOk, kPreconditionFailed, or kError (kUnavailable: retry).
  void write_if(Now now, uint64_t request, std::string_view key, bool erase, std::string value,
                std::optional<Duration> ttl, WriteCondition condition, ContentType content = {});

  // Lists the keys the cluster holds, with their values if `values` (see KeyValue::list).
  void list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
            size_t limit, std::optional<Duration> timeout = std::nullopt, bool values = false);

  Outbox& outbox() { return outbox_; }
  const NodeStats& stats() const { return stats_; }
  // Whether the node has joined a cluster (or founded one); until then it holds reads.
  bool joined() const { return membership_.joined(); }
  // The epoch this node last opened (persisted; see kv/key_value.h).
  uint64_t epoch() const { return kv_->epoch(); }
  // The epoch a copy must have been confirmed in to be served without asking the cluster
  // (0: none may be). A driver may publish it after each input and, with answer_locally,
  // answer local hits from the store on another thread (a newer epoch only makes it miss).
  uint64_t serving_epoch() const { return kv_->serving_epoch(); }
  // Fills `out` from `local` (taking its value) when the copy was confirmed in `epoch`.
  // A value past its TTL by `wall_us` is answered as a 404: pass the later of the wall
  // clock and expiry_clock_us() as published after the last input.
  static bool answer_locally(Record& local, uint64_t epoch, uint64_t wall_us, Reply& out) {
    return KeyValue::answer_locally(local, epoch, wall_us, out);
  }
  // Copies a driver served without the kernel (local hits on other threads): they count
  // as used for eviction (KvConfig::max_data_bytes). A hint: unknown keys are ignored.
  void note_local_hits(std::span<const std::string> keys);
  // See KeyValue::expiry_clock_us.
  uint64_t expiry_clock_us() const { return kv_->expiry_clock_us(); }
  // The layers themselves, for tests and benchmarks that look inside; drivers use the
  // accessors above.
  const Membership& membership() const { return membership_; }
  const KeyValue& kv() const { return *kv_; }
  const MemberTable& members() const { return membership_.members(); }
  const std::string& name() const { return membership_.name(); }
  const Address& address() const { return membership_.address(); }

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

 private:
  Node(const NodeConfig& config, std::string name, Address address, uint64_t seed, Now start);
  // Tells the key-value layer about member changes made since `first`.
  void forward_changes(Now now, size_t first);

  NodeConfig config_;
  Outbox outbox_;
  NodeStats stats_;
  Membership membership_;
  std::unique_ptr<KeyValue> kv_;
  static constexpr size_t kDecodedKeep = 8;
  std::vector<wire::Message> decoded_;  // reused across inputs
};

}  // namespace ckv
