#include "sim/kv_checker.h"

#include <algorithm>

#include "sim/kv_workload.h"

namespace ckv::sim {

namespace {

std::string describe(const Reply& r) {
  std::string s = to_string(r.status);
  s += " " + to_string(r.version);
  if (!r.current) s += " (not current)";
  return s;
}

}  // namespace

void KvChecker::violate(MonoTime at, std::string property, std::string detail) {
  violations_.push_back(Violation{at, std::move(property), std::move(detail)});
}

void KvChecker::raise(uint32_t node, uint32_t key, const Version& v, bool of_value) {
  Floor& f = floors_[node][key];
  if (v > f.version) {
    f.version = v;
    f.of_value = of_value;
    f.expired = false;
  }
}

void KvChecker::on_write(MonoTime now, const WriteRecord& w, Duration max_clock_gap) {
  if (auto seen = writes_.find(w.version);
      seen != writes_.end() && seen->second.ack_index == WriteRecord::kUnacknowledged &&
      w.asker != UINT32_MAX && seen->second.key == w.key &&
      (seen->second.op_id == w.op_id || (w.tombstone && seen->second.tombstone))) {
    // A conditional write read before its acknowledgement came back from the owner: it
    // is acknowledged now, and judged as such.
    std::erase(by_key_[w.key], &seen->second);
    writes_.erase(seen);
  }
  if (writes_.count(w.version) != 0) {
    violate(now, "unique versions",
            "two writes share version " + to_string(w.version) + " (" + key_name(w.key) + ")");
    return;
  }
  // A node's versions only go up, across crashes and clock steps too (its clock lease).
  if (w.asker == UINT32_MAX) {
    Version& last = last_version_[w.node];
    if (w.version <= last) {
      violate(now, "a node's versions only go up",
              "n" + std::to_string(w.node) + " stamped a write " + to_string(w.version) +
                  ", not above its earlier " + to_string(last));
    }
    last = std::max(last, w.version);
  }
  // Writes follow answers: above everything this node returned or wrote of the key. (Not
  // for a conditional write another node made: its asker may have read newer versions
  // while the owner's answer was on its way.)
  const uint32_t acker = w.node;
  if (auto f = floors_[acker].find(w.key);
      w.asker == UINT32_MAX && f != floors_[acker].end() && w.version <= f->second.version) {
    violate(now, "writes follow answers",
            "n" + std::to_string(acker) + " wrote " + key_name(w.key) + " at " +
                to_string(w.version) + ", not above " + to_string(f->second.version) +
                ", which it had returned or written before");
  }
  // Real-time order: every write of this key acknowledged more than d ago must be older.
  const MonoTime started = w.started.value_or(now);
  for (const WriteRecord* earlier : by_key_[w.key]) {
    if (earlier->ack_index == WriteRecord::kUnacknowledged) continue;
    if (earlier->at + max_clock_gap < started && earlier->version > w.version) {
      violate(now, "real-time order",
              key_name(w.key) + ": write on n" + std::to_string(w.node) + " got " +
                  to_string(w.version) + ", below " + to_string(earlier->version) +
                  " acknowledged on n" + std::to_string(earlier->node) + " " +
                  std::to_string(micros(started) - micros(earlier->at)) +
                  " us before it started (d = " + std::to_string(max_clock_gap.count()) + " us)");
      break;
    }
  }
  WriteRecord& stored = writes_.emplace(w.version, w).first->second;
  stored.ack_index = acked_++;
  stored.lost_at = w.lost_at;
  by_key_[w.key].push_back(&stored);
  raise(w.node, w.key, w.version, !w.tombstone);
  // The asker told its client: it never answers older after (read-your-writes).
  if (w.asker != UINT32_MAX) raise(w.asker, w.key, w.version, !w.tombstone);
}

void KvChecker::on_list(MonoTime now, uint32_t node, uint64_t acked_before, const Reply& r,
                        const std::vector<bool>& heard, const std::set<uint32_t>& touched) {
  std::map<uint32_t, const ListedKey*> listed;
  for (const ListedKey& k : r.keys) {
    if (uint32_t key = key_index(k.key); key < keys_) listed[key] = &k;
  }
  for (uint32_t key = 0; key < keys_; ++key) {
    if (touched.contains(key)) continue;
    auto it = by_key_.find(key);
    if (it == by_key_.end()) continue;
    const WriteRecord* latest = nullptr;
    bool unknown_after = false;
    for (const WriteRecord* w : it->second) {
      if (w->ack_index < acked_before) {
        if (latest == nullptr || w->version > latest->version) latest = w;
      }
    }
    if (latest == nullptr) continue;
    for (const WriteRecord* w : it->second) {
      // Acknowledged since it began, or never: it may be what the listing found.
      if (w->ack_index >= acked_before && w->version > latest->version) unknown_after = true;
    }
    if (unknown_after || latest->lost_at != kNever || latest->dropped_after_absence) continue;
    if (latest->node >= heard.size() || !heard[latest->node]) continue;
    auto shown = listed.find(key);
    const std::string where = "n" + std::to_string(node) + " listed the cluster's keys";
    if (!latest->tombstone) {
      if (latest->expires_us != 0) continue;  // it may have expired
      if (shown == listed.end() || shown->second->version < latest->version) {
        violate(
            now, "listings show every value",
            where + " without " + key_name(key) + " at " + to_string(latest->version) +
                " (or newer), acknowledged on n" + std::to_string(latest->node) +
                " before the listing began" +
                (shown == listed.end() ? "" : "; it showed " + to_string(shown->second->version)));
      }
    } else if (shown != listed.end() && shown->second->version <= latest->version) {
      violate(now, "listings never show a deleted key",
              where + " with " + key_name(key) + " at " + to_string(shown->second->version) +
                  ", deleted at " + to_string(latest->version) + " on n" +
                  std::to_string(latest->node) + " before the listing began");
    }
  }
}

bool KvChecker::check_value(MonoTime now, const std::string& where, uint32_t key,
                            const Version& version, const std::string& value,
                            const ContentType& content) {
  auto w = writes_.find(version);
  if (w == writes_.end() || w->second.key != key || w->second.tombstone) {
    violate(now, "integrity",
            where + " returned version " + to_string(version) + ", which no put of this key wrote");
    return false;
  }
  if (value.size() != w->second.bytes || value != value_for(w->second.op_id, w->second.bytes)) {
    violate(now, "integrity",
            where + " returned " + std::to_string(value.size()) +
                " bytes that differ from what was written at " + to_string(version));
    return false;
  }
  if (content != content_for(w->second.op_id)) {
    violate(now, "content types kept",
            where + " returned " + to_string(version) + " as \"" + content.media + "\" \"" +
                content.encoding + "\", written as \"" + content_for(w->second.op_id).media +
                "\" \"" + content_for(w->second.op_id).encoding + "\"");
    return false;
  }
  return true;
}

void KvChecker::on_listed_value(MonoTime now, uint32_t node, uint32_t key, const ListedKey& k) {
  const std::string where = "n" + std::to_string(node) + " listed " + key_name(key) + " and";
  if (!check_value(now, where, key, k.version, k.value, k.content)) return;
  if (k.size != k.value.size()) {
    violate(now, "integrity",
            where + " gave its size as " + std::to_string(k.size) + " with " +
                std::to_string(k.value.size()) + " bytes of value");
  }
}

void KvChecker::on_unacknowledged_write(const WriteRecord& w) {
  if (auto seen = writes_.find(w.version);
      seen != writes_.end() && seen->second.key == w.key &&
      (seen->second.op_id == w.op_id || (w.tombstone && seen->second.tombstone))) {
    return;  // known already (a conditional write read before its owner's answer came)
  }
  if (writes_.count(w.version) != 0) {
    violate(w.at, "unique versions",
            "two writes share version " + to_string(w.version) + " (" + key_name(w.key) + ")");
    return;
  }
  if (w.asker == UINT32_MAX) {  // (a conditional write is stamped out of its node's order)
    Version& last = last_version_[w.node];
    last = std::max(last, w.version);
  }
  WriteRecord& stored = writes_.emplace(w.version, w).first->second;
  stored.ack_index = WriteRecord::kUnacknowledged;
  stored.lost_at = kNever;
  by_key_[w.key].push_back(&stored);
}

void KvChecker::on_lossy_crash(MonoTime now, uint32_t node, MonoTime durable_until) {
  floors_[node].clear();
  for (auto& [version, w] : writes_) {
    if (w.node == node && w.at >= durable_until && w.lost_at == kNever) w.lost_at = now;
  }
}

bool KvChecker::collected_since(uint32_t key, const Version& at_least,
                                const std::function<bool(const WriteRecord&)>& may_skip) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  for (const WriteRecord* w : it->second) {
    if (w->version < at_least) continue;
    if (may_have_been_collected(*w)) return true;
    if (horizon_us_ != 0 && w->version.wall_us + horizon_us_ <= highest_clock_us_ && may_skip(*w))
      return true;
  }
  return false;
}

void KvChecker::on_absence_drop(MonoTime now, uint32_t node, uint64_t cutoff_us) {
  floors_[node].clear();
  for (auto& [version, w] : writes_) {
    if (w.node == node && w.version.wall_us < cutoff_us && w.lost_at == kNever) {
      w.lost_at = now;
      w.dropped_after_absence = true;
    }
  }
}

const WriteRecord* KvChecker::highest(uint32_t key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end() || it->second.empty()) return nullptr;
  const WriteRecord* best = nullptr;
  for (const WriteRecord* w : it->second) {
    if (best == nullptr || w->version > best->version) best = w;
  }
  return best;
}

void KvChecker::on_error(MonoTime now, uint32_t node, bool excused, const std::string& error) {
  if (!excused)
    violate(now, "no errors", "n" + std::to_string(node) + " answered an error: " + error);
}

void KvChecker::on_get(MonoTime now, uint32_t node, uint32_t key, MonoTime started,
                       uint64_t acked_before, const Reply& r, const std::vector<bool>& heard,
                       bool joined, uint64_t node_clock_us) {
  const std::string where = "n" + std::to_string(node) + " get " + key_name(key);
  const bool answered = r.status == ReplyStatus::kOk || r.status == ReplyStatus::kNotFound;
  if (answered && r.remote && r.current && !joined) {
    violate(now, "no current answer before joining",
            where + " was answered from the cluster as current before the node had joined");
  }
  const Duration took = now - started;
  if (r.status == ReplyStatus::kOk) {
    (r.remote ? latency_.get_remote : latency_.get_local).push_back(took);
    if (!check_value(now, where, key, r.version, r.value, r.content)) return;
    auto w = writes_.find(r.version);
    if (w->second.expires_us != 0 && node_clock_us >= w->second.expires_us) {
      violate(now, "values expire",
              where + " returned " + to_string(r.version) + ", which expired at " +
                  std::to_string(w->second.expires_us) + " us, at node clock " +
                  std::to_string(node_clock_us) + " us");
      return;
    }
  } else if (r.status == ReplyStatus::kNotFound) {
    latency_.get_404.push_back(took);
  }
  if (r.status == ReplyStatus::kOk || r.status == ReplyStatus::kNotFound) {
    const Floor& f = floors_[node][key];
    const bool older = r.version < f.version;
    if (r.status == ReplyStatus::kOk && r.version == f.version && f.expired) {
      violate(now, "values expire",
              where + " returned " + to_string(r.version) +
                  " after answering 404 for that version (it had expired)");
      return;
    }
    bool bad = r.status == ReplyStatus::kOk ? older : (older && f.of_value);
    // (A delete or an expired put, once collected, leaves nothing to name in a 404.)
    // (A node may not know who it must hear from: any writer but itself.)
    if (bad && r.status == ReplyStatus::kNotFound && r.version.is_zero() &&
        collected_since(key, f.version, [&](const WriteRecord& w) { return w.node != node; })) {
      bad = false;
    }
    // (Nor is the 404 of a value its writer lost wrong: every copy may have gone since,
    // dropped by nodes back from a long absence.)
    if (bad && r.status == ReplyStatus::kNotFound) {
      auto had = writes_.find(f.version);
      if (had != writes_.end() && had->second.dropped_after_absence) bad = false;
    }
    if (bad) {
      // A value older than one it had: stale; older than a delete it had: resurrected;
      // a 404 below a value it had: that value is lost.
      const char* property = r.status != ReplyStatus::kOk ? "no lost write"
                             : f.of_value                 ? "no stale read"
                                                          : "no resurrection";
      violate(now, property,
              where + " answered " + describe(r) + " after this node had " +
                  (f.of_value ? "a value at " : "seen ") + to_string(f.version));
      return;
    }
    if (r.remote && r.current) check_explained(now, where, key, acked_before, r, heard);
    raise(node, key, r.version, r.status == ReplyStatus::kOk);
    // A current 404 at a put's version says the put expired (a 404 that is not current
    // may name a version it merely knows of, which it may still find).
    if (r.status == ReplyStatus::kNotFound && r.current) {
      if (auto w = writes_.find(r.version); w != writes_.end() && !w->second.tombstone) {
        Floor& raised = floors_[node][key];
        if (raised.version == r.version) raised.expired = true;
      }
    }
  }
  if (prompt_bound_ && started >= formed_ && r.remote && r.status != ReplyStatus::kError) {
    const Duration bound = *prompt_bound_ * std::max<uint32_t>(1, r.rounds);
    if (!r.current || r.status == ReplyStatus::kTimeout || took > bound) {
      violate(now, "promptness",
              where + " took " + std::to_string(took.count()) + " us (" + describe(r) + ", " +
                  std::to_string(r.rounds) + " rounds); bound " + std::to_string(bound.count()) +
                  " us");
    }
  }
}

void KvChecker::check_explained(MonoTime now, const std::string& where, uint32_t key,
                                uint64_t acked_before, const Reply& r,
                                const std::vector<bool>& heard) {
  auto must_see = [&](const WriteRecord& w) {
    return w.node < heard.size() && heard[w.node] && w.lost_at > now;
  };
  auto describe_write = [&](const WriteRecord& w) {
    return std::string(w.tombstone ? "the delete " : "the put ") + to_string(w.version) + " on n" +
           std::to_string(w.node) +
           (w.expires_us != 0 ? " (expiring at " + std::to_string(w.expires_us) + " us)" : "");
  };
  // The newest write the read had to see: acknowledged before it began, by a node it had
  // to hear from, and not lost since.
  const WriteRecord* newest = nullptr;
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    for (const WriteRecord* w : it->second) {
      if (w->ack_index == WriteRecord::kUnacknowledged) continue;  // nobody had to see it
      if (w->ack_index >= acked_before) break;                     // in acknowledgement order
      if (must_see(*w) && (newest == nullptr || w->version > newest->version)) newest = w;
    }
  }
  const std::string answered = where + " answered " + describe(r) + " (a current cluster read)";
  if (newest != nullptr && r.status == ReplyStatus::kOk && r.version < newest->version) {
    violate(now, "reads are explained by the history",
            answered + ", older than " + describe_write(*newest) +
                ", acknowledged before the read began by a node it had to hear from");
    return;
  }
  if (r.status != ReplyStatus::kNotFound) return;
  // A 404 is explained by a delete (named or not: deletes may be forgotten), never by a
  // put at or above the version it names.
  const bool expired_newest =
      newest != nullptr && may_have_expired(*newest) && r.version == newest->version;
  const bool collected =
      newest != nullptr && r.version.is_zero() &&
      collected_since(key, newest->version, [&](const WriteRecord& w) { return !must_see(w); });
  if (newest != nullptr && !newest->tombstone && r.version <= newest->version && !expired_newest &&
      !collected) {
    violate(now, "reads are explained by the history",
            answered + ", but the newest write it had to see is " + describe_write(*newest) +
                ", acknowledged before the read began");
    return;
  }
  if (r.version.is_zero()) return;
  // A current 404 names the delete it found; naming a put means the reader knew of a newer
  // value and still claimed nobody holds one.
  auto w = writes_.find(r.version);
  if (w == writes_.end() || w->second.key != key) {
    violate(now, "integrity", answered + ", naming a version no write of this key made");
  } else if (!w->second.tombstone && !may_have_expired(w->second)) {
    violate(now, "reads are explained by the history",
            answered + ", naming " + describe_write(w->second) +
                ": a 404 that knows of a newer value is not current");
  }
}

void KvChecker::check_convergence(MonoTime now, uint32_t key,
                                  const std::vector<std::pair<uint32_t, Reply>>& answers,
                                  bool highest_held_by_a_live_node) {
  if (answers.empty()) return;
  const WriteRecord* top = highest(key);
  // A put whose TTL runs out between the nodes' clocks may be a value on some and a 404
  // on others (within the skew); once it ran out on every clock it is a 404 everywhere.
  auto expiring = [&](const WriteRecord& w) {
    return !w.tombstone && w.expires_us > lowest_clock_us_ && may_have_expired(w);
  };
  if (top != nullptr && expiring(*top)) return;
  for (const auto& [node, r] : answers) {  // (the highest may be lost: what they answer)
    if (auto w = writes_.find(r.version); w != writes_.end() && expiring(w->second)) return;
  }
  const bool expired =
      top != nullptr && top->expires_us != 0 && top->expires_us <= lowest_clock_us_;
  const Reply& first = answers.front().second;
  // Two 404s agree when one names a version whose records may have been collected (a
  // delete or an expired put; or, when its value is lost or its writer down, the markers
  // of it) and the other names nothing: nodes collect on their own schedules.
  auto writer_down = [&](const WriteRecord& w) {
    return std::none_of(answers.begin(), answers.end(),
                        [&](const auto& a) { return a.first == w.node; });
  };
  auto collected_404 = [&](const Reply& a, const Reply& b) {
    if (a.status != ReplyStatus::kNotFound || b.status != ReplyStatus::kNotFound) return false;
    const Version& named = a.version.is_zero() ? b.version : a.version;
    if (!a.version.is_zero() && !b.version.is_zero()) return false;
    auto w = writes_.find(named);
    if (w == writes_.end()) return false;
    const bool markers_old =
        horizon_us_ != 0 && w->second.version.wall_us + horizon_us_ <= highest_clock_us_;
    return may_have_been_collected(w->second) ||
           (markers_old && (w->second.lost_at <= now || writer_down(w->second)));
  };
  for (const auto& [node, r] : answers) {
    if ((r.status != first.status || r.version != first.version) && !collected_404(first, r)) {
      violate(now, "convergence",
              key_name(key) + ": n" + std::to_string(answers.front().first) + " answers " +
                  describe(first) + " but n" + std::to_string(node) + " answers " + describe(r) +
                  (top != nullptr ? " (the highest write: " + to_string(top->version) +
                                        ", expiring at " + std::to_string(top->expires_us) +
                                        " us; expiry clocks " + std::to_string(lowest_clock_us_) +
                                        ".." + std::to_string(highest_clock_us_) + " us)"
                                  : ""));
      return;
    }
    // Not current only when the newest write is gone (its only holders crashed and lost
    // it): then every node knows of a version nobody can give. Or while a delete is being
    // collected: a node may keep a marker of it that its holders no longer answer with.
    const bool collecting = top != nullptr && r.status == ReplyStatus::kNotFound &&
                            r.version == top->version && may_have_been_collected(*top);
    if (!r.current && highest_held_by_a_live_node && !collecting) {
      violate(now, "convergence",
              key_name(key) + ": n" + std::to_string(node) + " answers " + describe(r) +
                  " although a live node holds the newest write");
      return;
    }
  }
  if (top == nullptr || !highest_held_by_a_live_node) return;
  const ReplyStatus want = top->tombstone || expired ? ReplyStatus::kNotFound : ReplyStatus::kOk;
  const bool gone = first.status == ReplyStatus::kNotFound && first.version.is_zero() &&
                    want == ReplyStatus::kNotFound && may_have_been_collected(*top);
  if ((first.version != top->version || first.status != want) && !gone) {
    violate(now, "convergence",
            key_name(key) + ": every node answers " + describe(first) +
                " but the highest write is " + to_string(top->version) +
                (top->tombstone ? " (a delete)" : "") + " from n" + std::to_string(top->node));
  }
}

void KvChecker::check_survival(MonoTime now, uint32_t key, bool highest_held_by_a_live_node,
                               bool writer_up) {
  const WriteRecord* top = highest(key);
  if (top == nullptr || highest_held_by_a_live_node || !writer_up || top->lost_at != kNever) return;
  if (may_have_been_collected(*top)) return;  // a delete or an expired put, past the horizon
  violate(now, "acknowledged writes survive",
          key_name(key) + ": no live node holds " + (top->tombstone ? "the delete " : "the put ") +
              to_string(top->version) + " that n" + std::to_string(top->node) +
              (top->ack_index == WriteRecord::kUnacknowledged ? " stored" : " acknowledged") +
              ", although n" + std::to_string(top->node) +
              " is up and no crash of it may have lost the write");
}

}  // namespace ckv::sim
