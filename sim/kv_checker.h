// KvChecker: judges what clients saw against what they wrote, for the key-value
// guarantees the README states.
//
// The simulation reports every acknowledged write and every get reply. Checked as they
// come (chaos and quiet phase alike):
//  - integrity: a value read is exactly the value written with that version (large ones
//    included), under that key;
//  - no stale read / no resurrection / no lost write, per node and key: once a node
//    acknowledged a write or returned a version, it never returns an older value (older
//    than a value: stale; than a delete: resurrected), and never "not found" below a
//    value it wrote or returned — unless the node crashed with writes that were not
//    durable since (then it starts over);
//  - writes follow answers, per node and key: a write a node acknowledges carries a
//    version above every version that node returned or wrote before (so a client that
//    read a delete and then writes is not beaten by the delete it read);
//  - reads are explained by the history: a current cluster read (every member it asked
//    answered) returns the newest write it had to see, or something newer. It had to see
//    every write acknowledged before the read began by itself or by a node its member
//    view held active when it answered (those it asked, or would ask), unless a crash
//    lost that write since. So a value already overwritten before the read began fails,
//    as does a 404 while the newest such write is a value; a write concurrent with the
//    read may be the answer. And a current 404 names a delete or nothing, never a put:
//    a reader that knows of a newer value than any it found cannot claim the key is gone.
//    (A local hit is held to the node's own history only: other nodes' invalidations
//    reach it after their writes are acknowledged, the staleness the latency table shows.)
//  - values expire: a node never returns a value whose TTL had run out by the latest wall
//    time it had been given (so with clocks within d, never later than expiry + d), and
//    never returns a value at a version it had answered 404 for (expired), even when its
//    clock steps back; an expired put reads as a 404 of its version, so an older copy
//    never wins over it;
//  - a node's versions only go up: every write a node acknowledges is stamped above all
//    its earlier ones, across crashes (lossy ones too) and steps of its wall clock;
//  - no current answer before joining: a node that has not joined flags no cluster read
//    current;
//  - no errors: a node answers an error only to a write, and only while (or since the
//    write began) its store refused writes;
//  - real-time order: a write that starts (is sent by its client) more than d after
//    another write of the same key was acknowledged gets the higher version, d being the widest gap
//    between two node clocks so far (plus 1 us of clock resolution);
//  - promptness (fault-free runs): a cluster read completes, current, within
//    `prompt_bound` per round of questions it needed (one, plus one per racing write).
// And once, in the quiet phase (`check_convergence`): every live node answers every key
// alike, with the highest-versioned write, current, when any live node still holds it;
// and acknowledged writes survive: the highest write of a key is still held by a live
// node when its writer is up and no lossy crash of the writer may have lost it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/kv/client.h"
#include "sim/membership_checker.h"

namespace ckv::sim {

struct WriteRecord {
  uint32_t key;
  Version version;
  bool tombstone;
  uint64_t op_id;  // the value is value_for(op_id, bytes)
  size_t bytes;
  uint32_t node;
  MonoTime at;              // acknowledged (or, unacknowledged, stored)
  uint64_t expires_us = 0;  // a put with a TTL: when it expires (wall-clock us); 0 never
  // When the client sent it, for real-time order; unset: `at`. (A write may wait for its
  // node's commit a while after the kernel stamped it.)
  std::optional<MonoTime> started;
  // Set by the checker: the write's place in acknowledgement order (see acked();
  // kUnacknowledged for a write nobody heard of), and when a crash of its node may have
  // lost it (kNever: never).
  static constexpr uint64_t kUnacknowledged = UINT64_MAX;
  uint64_t ack_index = 0;
  MonoTime lost_at = kNever;
  bool dropped_after_absence = false;  // lost when its node came back from a long absence
  // A conditional write acknowledged by `asker`, the node the client asked, and made by
  // `node`, the key's owner (UINT32_MAX: the same node). Its writer's ack order is not
  // its stamping order, so "versions only go up" and "writes follow answers" are the
  // asker's to keep: its write is above every version the asker returned before.
  uint32_t asker = UINT32_MAX;
};

struct LatencySamples {
  std::vector<Duration> get_local, get_remote, get_404, put, staleness;
};

class KvChecker {
 public:
  KvChecker(uint32_t nodes, uint32_t keys) : floors_(nodes), keys_(keys) {}

  // Promptness is checked for reads that start once the cluster has formed (every node
  // sees every node alive): before, a read may wait to learn of a member.
  void set_prompt_bound(std::optional<Duration> bound) { prompt_bound_ = bound; }
  void set_formed(MonoTime at) { formed_ = at; }

  // A write acknowledged at `now` by `node`; `max_clock_gap` is d at this time.
  void on_write(MonoTime now, const WriteRecord& w, Duration max_clock_gap);
  // A write `w.node` stored but never acknowledged: its process crashed after the commit
  // and before the reply. Nobody had to see it, but it may be read: it is a write of the
  // history (integrity, convergence), lost only as acknowledged writes are.
  void on_unacknowledged_write(const WriteRecord& w);
  // Writes acknowledged so far: a get records this when it starts, so that on_get knows
  // which writes came before it (finer than time, which two events can share).
  uint64_t acked() const { return acked_; }
  // A get of `key` issued on `node` at `started`, after the first `acked_before` writes,
  // answered with `r` at `now`. For a current cluster read, `heard[j]` says whether the
  // reader had to hear from node j: true for itself and for every node its member view
  // held alive or suspect when it answered (see "reads are explained by the history").
  // `joined`: whether the reader had joined the cluster when it answered (one that has not
  // cannot know whom it has not heard of, so it flags no cluster read current).
  // `node_clock_us`: the latest wall time the answering node had been given since it
  // started, when it answered (0: not checked): a value that had expired by it fails.
  void on_get(MonoTime now, uint32_t node, uint32_t key, MonoTime started, uint64_t acked_before,
              const Reply& r, const std::vector<bool>& heard, bool joined = true,
              uint64_t node_clock_us = 0);
  // A current listing of every key by `node`, started after the first `acked_before`
  // writes, answered `r` at `now`; `heard` as for on_get. For each key not in `touched`
  // (written while it ran): when the highest write acknowledged before it began is a
  // value with no TTL by a node it had to hear, the listing shows the key at that version
  // or a newer one; when it is a delete by such a node, it does not show the key.
  void on_list(MonoTime now, uint32_t node, uint64_t acked_before, const Reply& r,
               const std::vector<bool>& heard, const std::set<uint32_t>& touched);
  // Key `key` as a listing with values by `node` showed it: `k`'s version is a put of the
  // key, and its value and content type are that put's.
  void on_listed_value(MonoTime now, uint32_t node, uint32_t key, const ListedKey& k);
  // Bounds on the nodes' expiry clocks now: every running node's is at least `lowest_us`,
  // and none can be past `highest_us`. A put whose TTL ran out by `highest_us` may be
  // answered as a 404 of its version; one that ran out by `lowest_us` must be.
  void set_expiry_clocks(uint64_t lowest_us, uint64_t highest_us) {
    lowest_clock_us_ = lowest_us;
    highest_clock_us_ = highest_us;
  }
  // The nodes' tombstone horizon (0: nothing is collected): a put whose TTL ran out more
  // than that long ago by some node's clock may be gone altogether (a 404 at version 0).
  void set_horizon(Duration horizon) {
    horizon_us_ = static_cast<uint64_t>(std::max<int64_t>(0, horizon.count()));
  }
  // An error answered by `node`; `excused` tells whether its store failed the operation:
  // for a write, refused writes at some time since it began; for a get, refused a batch
  // of writes since it began (its answer may have ridden with it). Nothing else excuses
  // an error ("no errors"): reads go on while the store refuses writes.
  void on_error(MonoTime now, uint32_t node, bool excused, const std::string& error);
  // `node` crashed at `now` and lost the writes it had not made durable, which are those
  // since `durable_until`.
  void on_lossy_crash(MonoTime now, uint32_t node, MonoTime durable_until);
  // `node` was away from every other member for more than half the tombstone horizon and
  // dropped its records of versions older than `cutoff_us` (wall microseconds): its writes
  // older than that are lost, the trade-off the README states, and it starts over.
  void on_absence_drop(MonoTime now, uint32_t node, uint64_t cutoff_us);

  // The highest-versioned write of `key`, if any.
  const WriteRecord* highest(uint32_t key) const;
  // Quiet-phase verdict for one key: `answers` are (node, reply) from every live node;
  // `held_by_a_live_node` tells whether the highest write still exists somewhere.
  void check_convergence(MonoTime now, uint32_t key,
                         const std::vector<std::pair<uint32_t, Reply>>& answers,
                         bool highest_held_by_a_live_node);
  // Quiet-phase verdict: "acknowledged writes survive" for `key`'s highest write, given
  // whether a live node holds it and whether its writer is up.
  void check_survival(MonoTime now, uint32_t key, bool highest_held_by_a_live_node, bool writer_up);

  // Any other broken promise the simulation notices (a missing answer, a reply to no
  // request).
  void report(MonoTime at, std::string property, std::string detail) {
    violate(at, std::move(property), std::move(detail));
  }

  const std::vector<Violation>& violations() const { return violations_; }
  const LatencySamples& latency() const { return latency_; }
  LatencySamples& latency() { return latency_; }
  uint64_t writes() const { return writes_.size(); }
  bool knows(const Version& v) const { return writes_.count(v) != 0; }
  const std::map<Version, WriteRecord>& all_writes() const { return writes_; }

 private:
  // Whether `version`, shown by `where` for `key` with `value` and `content`, is a put of
  // that key that wrote exactly them; reports the violation if not.
  bool check_value(MonoTime now, const std::string& where, uint32_t key, const Version& version,
                   const std::string& value, const ContentType& content);
  struct Floor {
    Version version;
    bool of_value = false;  // set by a value (a put, or a get that returned one)
    bool expired = false;   // the node answered a current 404 at this version of a put
  };
  void violate(MonoTime at, std::string property, std::string detail);
  void raise(uint32_t node, uint32_t key, const Version& v, bool of_value);
  // "Reads are explained by the history", for one current cluster read.
  void check_explained(MonoTime now, const std::string& where, uint32_t key, uint64_t acked_before,
                       const Reply& r, const std::vector<bool>& heard);

  std::vector<std::map<uint32_t, Floor>> floors_;  // per node, per key
  std::map<uint32_t, Version> last_version_;       // per node: its highest write, ever
  uint32_t keys_;
  std::map<Version, WriteRecord> writes_;
  std::map<uint32_t, std::vector<WriteRecord*>> by_key_;  // in acknowledgement order
  uint64_t acked_ = 0;
  // Whether `w` is a put whose TTL may have run out on some node's expiry clock.
  bool may_have_expired(const WriteRecord& w) const {
    return !w.tombstone && w.expires_us != 0 && w.expires_us <= highest_clock_us_;
  }
  // Whether `w` is a delete, or a put that expired, written more than the horizon ago by
  // some node's clock: then it may have been collected everywhere.
  bool may_have_been_collected(const WriteRecord& w) const {
    if (horizon_us_ == 0 || w.version.wall_us + horizon_us_ > highest_clock_us_) return false;
    return w.tombstone || may_have_expired(w);
  }
  // Whether a 404 at version 0 of `key` may be explained by collection: a write at or above
  // `at_least` may have been collected, or is a put older than the horizon (the markers
  // that told other nodes of it may have been collected: it is found only where it lives)
  // whose writer `may_skip` allows the reader not to hear from.
  bool collected_since(uint32_t key, const Version& at_least,
                       const std::function<bool(const WriteRecord&)>& may_skip) const;
  uint64_t horizon_us_ = 0;
  uint64_t lowest_clock_us_ = 0;
  uint64_t highest_clock_us_ = 0;
  std::optional<Duration> prompt_bound_;
  MonoTime formed_ = kNever;
  LatencySamples latency_;
  std::vector<Violation> violations_;
};

}  // namespace ckv::sim
