// WatchChecker: judges what each node's change feed (kernel/kv/change_feed.h) told its
// watcher, against every write the run made.
//
// Every simulated node watches one prefix from the moment its process starts (a session;
// a crash ends it, a restart begins another). For each session:
//  - order: between two resets, a key's versions only rise (checked at each event);
//  - integrity: every put or delete event names a write of that key of that kind;
//  - no silent gap: every write of a watched key sent and acknowledged while the session
//    ran (and not lost by a crash or a long absence) was given -- that version or a later one of
//    the key -- or a reset came after it was sent (the watcher then re-reads; a log reset
//    may cover a write made and not yet acknowledged).
//    Checked once the quiet phase has converged, so every write has had time to arrive
//    (but for those of a node down then: their news may yet come, or a reset);
//    of the converged version of each key, this is "every watcher has seen it";
//  - expiry: a put event given last whose TTL ran out (a second ago, by every node's
//    clock) was told expired (a "change" of unknown kind carries no expiry).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/time.h"
#include "kernel/kv/change_feed.h"
#include "sim/kv_checker.h"

namespace ckv::sim {

class WatchChecker {
 public:
  explicit WatchChecker(uint32_t nodes) : sessions_(nodes) {}

  // The prefix node `node` watches (every key when empty).
  static std::string prefix_of(uint32_t node);

  void on_start(uint32_t node, MonoTime now);
  void on_stop(uint32_t node);
  // An event node `node`'s feed gave at `now`; a backward version is reported to `kv`.
  void on_event(uint32_t node, MonoTime now, const ChangeEvent& e, KvChecker& kv);
  // Once the quiet phase converged: the integrity and gap checks of every live session.
  // `up[n]`: node n's process runs. A write by a node that is down may still be on its
  // way (its news comes when it returns, or a reset once it is held failed): not judged.
  // `clock_us`: the lowest wall clock of the nodes up: a put given last whose value expired
  // a second before it must have had its expire event.
  void check(MonoTime now, KvChecker& kv, const std::vector<bool>& up, uint64_t clock_us = 0) const;

  uint64_t events() const { return events_; }
  uint64_t resets() const { return resets_; }

 private:
  struct Session {
    bool live = false;
    MonoTime started{};
    MonoTime last_reset = kNever;             // kNever: none yet
    std::map<uint32_t, Version> since_reset;  // per key: the last version since the reset
    std::map<uint32_t, Version> expired;      // per key: the version told expired, since it
    std::map<uint32_t, bool> last_put;        // per key: whether the last given was a put
    std::map<uint32_t, Version> seen;         // per key: the highest version ever given
    std::vector<ChangeEvent> given;           // puts and deletes, for the integrity check
  };
  std::vector<Session> sessions_;
  uint64_t events_ = 0;
  uint64_t resets_ = 0;
};

}  // namespace ckv::sim
