// ChangeFeed: what a node tells its watchers -- each change it learns of to a key under a
// watched prefix, as (key, version, put or delete), in the order it learns them -- and
// when it must tell them to start over.
//
// A change is learnt from this node's own writes and from the other members'
// invalidation logs (which never drop an entry and make every gap visible). A put whose
// value has a TTL gets an expire event of its version once the node's wall clock passes
// its expiry (on_clock), unless a later version of the key was given first. The feed
// gives a key's version at most once and never one below a version it gave before, so
// a watcher sees each key's versions rising (there is no order across keys). It gives a
// reset whenever the node may have missed changes: exactly when the node's epoch moves
// (an origin restarted or its log was reset, a member failed or left), when the store
// lost a batch the node had acted on, and when it must forget what versions it gave
// because more than `max_keys` keys changed since the last reset. After a reset a watcher
// re-reads what it cares about; the feed then goes on from what it learns next.
//
// Pure and deterministic; used by KeyValue on the node's one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernel/kv/version.h"

namespace ckv {

struct ChangeEvent {
  enum class Kind : uint8_t {
    kPut = 0,
    kDelete = 1,
    // A change whose kind the node was not told (an invalidation from a node before
    // wire revision 4): the key has a new version; read it to see what.
    kChange = 2,
    kReset = 3,   // the node may have missed changes: re-read (no key, no version)
    kExpire = 4,  // the value of a put given before (`version`) ran out of time
  };
  Kind kind = Kind::kReset;
  std::string key;
  Version version;
  friend bool operator==(const ChangeEvent&, const ChangeEvent&) = default;
};
inline constexpr size_t kChangeKindCount = 5;
const char* to_string(ChangeEvent::Kind kind);

class ChangeFeed {
 public:
  explicit ChangeFeed(size_t max_keys) : max_keys_(max_keys) {}

  // Watches the keys starting with `prefix` (empty: every key); counted, so each watch
  // needs its own unwatch.
  void watch(std::string_view prefix);
  void unwatch(std::string_view prefix);
  bool watching() const { return !prefixes_.empty(); }
  bool watched(std::string_view key) const;

  // `key` has `version` now (kind kPut, kDelete or kChange): appends its event to `out`
  // if the key is watched and the version is above every one the feed gave of it. A put
  // whose value expires (`expires_us`, wall-clock microseconds; 0: never) is remembered
  // for its expire event.
  void on_change(std::string_view key, const Version& version, ChangeEvent::Kind kind,
                 std::vector<ChangeEvent>& out, uint64_t expires_us = 0);
  // The wall clock reads `wall_us`: the expire events of the puts given whose values ran
  // out by then, in expiry order.
  void on_clock(uint64_t wall_us, std::vector<ChangeEvent>& out);
  // The earliest expiry of a put given and not yet expired (0: none).
  uint64_t next_expiry_us() const { return expiries_.empty() ? 0 : expiries_.begin()->first; }
  // The node may have missed changes: forgets the versions it gave and appends a reset
  // (if anyone watches).
  void reset(std::vector<ChangeEvent>& out);

  size_t keys_remembered() const { return given_.size(); }

 private:
  size_t max_keys_;
  std::map<std::string, size_t, std::less<>> prefixes_;  // prefix -> watchers
  struct Given {
    Version version;          // the highest version given of the key
    uint64_t expires_us = 0;  // a put's, until its expire event is given
  };
  std::unordered_map<std::string, Given> given_;
  std::set<std::pair<uint64_t, std::string>> expiries_;  // (expires_us, key) of given_
};

}  // namespace ckv
