#include "sim/watch_checker.h"

#include "sim/kv_workload.h"

namespace ckv::sim {

std::string WatchChecker::prefix_of(uint32_t node) {
  // n0 watches everything; the others one slice each ("key1": key1, key10..key19, ...).
  return node == 0 ? std::string() : "key" + std::to_string(node % 10);
}

void WatchChecker::on_start(uint32_t node, MonoTime now) {
  Session& s = sessions_.at(node);
  s = Session{};
  s.live = true;
  s.started = now;
}

void WatchChecker::on_stop(uint32_t node) {
  sessions_.at(node) = Session{};
}

void WatchChecker::on_event(uint32_t node, MonoTime now, const ChangeEvent& e, KvChecker& kv) {
  Session& s = sessions_.at(node);
  if (!s.live) return;
  events_++;
  if (e.kind == ChangeEvent::Kind::kReset) {
    resets_++;
    s.last_reset = now;
    s.since_reset.clear();
    s.expired.clear();
    s.last_put.clear();
    return;
  }
  const uint32_t key = key_index(e.key);
  const std::string where = "n" + std::to_string(node) + "'s watch of \"" + prefix_of(node) + "\"";
  if (key == UINT32_MAX || !e.key.starts_with(prefix_of(node))) {
    kv.report(now, "watchers see only their keys", where + " was given key " + e.key);
    return;
  }
  if (e.kind == ChangeEvent::Kind::kExpire) {
    // Of the version given last: its value ran out (it does not move the key on).
    auto last = s.since_reset.find(key);
    if (last == s.since_reset.end() || last->second != e.version) {
      kv.report(now, "watch integrity",
                where + " was told " + e.key + " at " + to_string(e.version) +
                    " expired, not the version it was last given");
    }
    s.expired[key] = e.version;
    s.given.push_back(e);
    return;
  }
  auto [it, first] = s.since_reset.try_emplace(key, e.version);
  if (!first) {
    if (e.version <= it->second) {
      kv.report(now, "watchers see a key's versions rise",
                where + " was given " + e.key + " at " + to_string(e.version) + " after " +
                    to_string(it->second) + ", with no reset between");
    }
    it->second = std::max(it->second, e.version);
  }
  s.last_put[key] = e.kind == ChangeEvent::Kind::kPut;
  Version& seen = s.seen[key];
  seen = std::max(seen, e.version);
  s.given.push_back(e);
}

void WatchChecker::check(MonoTime now, KvChecker& kv, const std::vector<bool>& up,
                         uint64_t clock_us) const {
  const std::map<Version, WriteRecord>& writes = kv.all_writes();
  for (uint32_t node = 0; node < sessions_.size(); ++node) {
    const Session& s = sessions_[node];
    if (!s.live) continue;
    const std::string prefix = prefix_of(node);
    const std::string where = "n" + std::to_string(node) + "'s watch of \"" + prefix + "\"";
    for (const ChangeEvent& e : s.given) {
      auto w = writes.find(e.version);
      // (A put with a TTL may come as a delete of its version: its writer, holding it as
      // a tombstone once it expired, re-announced it so.)
      // (An expire names a put with a TTL.)
      const bool deleted = e.kind == ChangeEvent::Kind::kDelete;
      const bool expired = e.kind == ChangeEvent::Kind::kExpire;
      const bool kind_ok =
          e.kind == ChangeEvent::Kind::kChange ||
          (w != writes.end() &&
           (expired ? !w->second.tombstone && w->second.expires_us != 0
                    : w->second.tombstone == deleted || (deleted && w->second.expires_us != 0)));
      if (w == writes.end() || w->second.key != key_index(e.key) || !kind_ok) {
        kv.report(now, "watch integrity",
                  where + " was given " + to_string(e.kind) + " of " + e.key + " at " +
                      to_string(e.version) + ", which no write of that kind made");
        return;
      }
    }
    for (const auto& [key, version] : s.since_reset) {
      auto w = writes.find(version);
      if (!s.last_put.at(key) || w == writes.end() || w->second.tombstone ||
          w->second.expires_us == 0 || w->second.expires_us + 1'000'000 > clock_us) {
        continue;
      }
      auto told = s.expired.find(key);
      if (told == s.expired.end() || told->second != version) {
        kv.report(now, "watchers are told of expiry",
                  where + " was given " + key_name(key) + " at " + to_string(version) +
                      ", which expired at " + std::to_string(w->second.expires_us) +
                      " us, and never told it expired (clocks now >= " + std::to_string(clock_us) +
                      " us)");
        return;
      }
    }
    for (const auto& [version, w] : writes) {
      // Writes sent before the watch began may have reached only an earlier process.
      if (w.ack_index == WriteRecord::kUnacknowledged || w.started.value_or(w.at) < s.started ||
          w.lost_at != kNever || w.dropped_after_absence) {
        continue;
      }
      if (!key_name(w.key).starts_with(prefix)) continue;
      if (w.node >= up.size() || !up[w.node]) continue;  // its news may still be coming
      // Told to re-read once the write was under way. (A reset may cover a write made but
      // not yet acknowledged: its origin's log reset says "through here", entry included.)
      if (s.last_reset != kNever && s.last_reset >= w.started.value_or(w.at)) continue;
      auto seen = s.seen.find(w.key);
      if (seen == s.seen.end() || seen->second < version) {
        kv.report(now, "watchers miss nothing silently",
                  where + " was never given " + key_name(w.key) + " at " + to_string(version) +
                      " (or later), acknowledged on n" + std::to_string(w.node) +
                      " while it watched, and no reset came after" +
                      (seen == s.seen.end() ? "" : "; it last saw " + to_string(seen->second)));
        return;
      }
    }
  }
}

}  // namespace ckv::sim
