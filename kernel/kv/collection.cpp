// KeyValue, part four: collection. Tombstones, invalidation markers and values past their
// TTL are kept only so that no older copy can win a later read; past the horizon
// (KvConfig::tombstone_horizon) a node removes its own such records, once every member
// has confirmed, twice in a row, that it holds nothing older of them. And a node that was
// away from every other member for more than half the horizon drops its old records when
// it is back, since others may have collected, without it, deletes it never heard of.
//
// Why this is safe (docs/kv-protocol.md, "Collection", says it at length):
//  - A check makes its receiver hold nothing older than each entry (an older record
//    becomes a marker; reads in flight there install nothing older), before it answers.
//    So once every member has answered, no member holds an older record; the second
//    check catches an older version that an answer sent before the first check carried
//    into a read elsewhere. A member that is not active blocks collection; a round in
//    flight when the table changes is void.
//  - A member missing from the table (reaped, or never met) was cut off for longer than
//    anything the horizon lets be collected without it; it drops what it holds from then.
// The trade-off (Cassandra's, not Riak's "keep"): a node away for more than half the
// horizon loses its writes older than three quarters of it, even those nobody overwrote.
#include <algorithm>

#include "kernel/core/assert.h"
#include "kernel/kv/key_value.h"

namespace ckv {

namespace {

// Records one scan visits at most per timer, and entries one round checks at most.
constexpr size_t kScanLimit = 4096;
constexpr size_t kCollectBatch = 512;
// Bytes of a check's entries at most (a stream message), and of one entry beyond its key.
constexpr size_t kCheckBytes = 256 * 1024;
constexpr size_t kEntryOverhead = 3 + 10 + 5 + 10;

uint64_t micros(Duration d) {
  return static_cast<uint64_t>(std::max<int64_t>(0, d.count()));
}

}  // namespace

bool KeyValue::collectable(const Record& record) const {
  const uint64_t horizon = micros(config_.tombstone_horizon);
  if (horizon == 0 || wall_floor_us_ < horizon) return false;
  const uint64_t before = wall_floor_us_ - horizon;
  if (record.version.wall_us > before) return false;
  // A value that expired is a tombstone of its version (see KeyValue::load).
  return record.kind != RecordKind::kValue || expired(record, wall_floor_us_);
}

bool KeyValue::collect_members(std::vector<std::string>& out) const {
  out.clear();
  if (!membership_.joined() || absent_ || wall_floor_us_ < collect_paused_until_us_) return false;
  for (const Member& m : membership_.members()) {
    if (m.name.view() == membership_.name() || m.state == MemberState::kLeft) continue;
    if (!m.active()) return false;  // it may hold anything: wait until it is back or reaped
    out.emplace_back(m.name.view());
  }
  return true;
}

void KeyValue::collection_timer(Now now) {
  const uint64_t horizon = micros(config_.tombstone_horizon);
  if (horizon == 0) {
    collect_at_ = kNever;
    return;
  }
  // Remember that this node is in touch, so that a restart can tell how long it was down.
  if (had_peer_ && !absent_ && last_probed_us_ >= last_contact_saved_us_ + horizon / 16) {
    if (store_.put_meta(MetaKey::kLastContact, last_probed_us_).ok()) {
      last_contact_saved_us_ = last_probed_us_;
    } else {
      stats_.store_errors++;
    }
  }
  if (collect_) {
    CollectRound& r = *collect_;
    if (now.mono >= r.give_up_at) return abandon_collection(now.mono);
    if (now.mono >= r.resend_at) {
      send_collect_check(r, r.waiting);
      r.resend_at = now.mono + config_.resend_interval;
    }
    return;
  }
  if (now.mono >= collect_at_) start_collection(now);
}

void KeyValue::start_collection(Now now) {
  // Between passes over the store (and after a round that failed).
  const Duration interval = std::clamp<Duration>(config_.tombstone_horizon / 16,
                                                 config_.resend_interval, std::chrono::minutes(10));
  collect_at_ = now.mono + interval;
  std::vector<std::string> members;
  if (!unstored_.empty() || !collect_members(members)) return;
  std::vector<wire::KeyVersion> entries;
  size_t visited = 0;
  size_t bytes = 0;
  bool paused = false;
  Status scanned =
      store_.for_each_from(collect_cursor_, [&](std::string_view key, const Record& record) {
        if (++visited > kScanLimit || entries.size() >= kCollectBatch || bytes >= kCheckBytes) {
          collect_cursor_ = key;  // the next scan starts here
          paused = true;
          return false;
        }
        if (collectable(record)) {
          entries.push_back(wire::KeyVersion{std::string(key), record.version});
          bytes += key.size() + kEntryOverhead;
        }
        return true;
      });
  if (!scanned.ok()) {
    stats_.store_errors++;
    return;
  }
  if (!paused) collect_cursor_.clear();  // the pass is over: the next one starts again
  if (paused) collect_at_ = now.mono;    // go on at the next timer, not in this input
  if (entries.empty()) return;
  if (members.empty()) {
    // Nobody else to ask: this node is the cluster (it has not been cut off from one).
    stats_.collect_rounds++;
    finish_collection(now.mono, entries);
    return;
  }
  CollectRound r;
  r.id = rng_.next();
  r.entries = std::move(entries);
  r.asked = members;
  r.waiting = std::move(members);
  r.resend_at = now.mono + config_.resend_interval;
  // A member that stays silent this long (a lossy link) voids the round; the next one
  // asks again from scratch.
  r.give_up_at = now.mono + 16 * config_.resend_interval;
  send_collect_check(r, r.waiting);
  collect_ = std::move(r);
}

void KeyValue::send_collect_check(const CollectRound& round, const std::vector<std::string>& to) {
  const wire::CollectCheck m{membership_.name(), round.id, round.entries};
  size_t bytes = 64;
  for (const wire::KeyVersion& e : round.entries)
    bytes += e.key.size() + kEntryOverhead;
  const Channel channel =
      bytes <= membership_config_.datagram_budget ? Channel::kDatagram : Channel::kStream;
  for (const std::string& name : to) {
    if (const Member* member = active_member(name)) send(member->addr, channel, m);
  }
}

void KeyValue::on_collect_check(MonoTime now, const Address& from, const wire::CollectCheck& m) {
  // Only members may change what we hold (and only they get an answer).
  if (m.origin == membership_.name() || !sent_by(m.origin, from)) {
    stats_.invalidations_refused++;
    return;
  }
  bool clean = true;
  for (const wire::KeyVersion& e : m.entries) {
    if (e.key.empty() || e.key.size() > config_.max_key_bytes) continue;  // never held here
    clean = hold_nothing_older(now, e.key, e.version) && clean;
  }
  stats_.collect_checks_answered++;
  // (Held with the markers it stored until they are committed, like every send.)
  send(from, Channel::kDatagram, wire::CollectAck{membership_.name(), m.round, clean});
}

bool KeyValue::hold_nothing_older(MonoTime now, std::string_view key, const Version& version) {
  raise_query_floor(key, version);
  Record record;
  Result<bool> found = load(key, record);
  if (!found.ok()) {
    stats_.store_errors++;
    return false;
  }
  if (!found.value() || record.version >= version) return true;
  stats_.copies_dropped++;
  return supersede(now, key, Record{RecordKind::kInvalidated, version, 0, {}});
}

void KeyValue::on_collect_ack(MonoTime now, const Address& from, const wire::CollectAck& m) {
  if (!collect_ || m.round != collect_->id || !sent_by(m.member, from)) return;
  CollectRound& r = *collect_;
  auto it = std::find(r.waiting.begin(), r.waiting.end(), m.member);
  if (it == r.waiting.end()) return;  // a duplicate
  if (!m.clean) return abandon_collection(now);
  r.waiting.erase(it);
  if (!r.waiting.empty()) return;
  stats_.collect_rounds++;
  if (!r.second) {
    // Once more: an answer a member sent before the first check reached it may have
    // carried an older version into a read elsewhere, which the second check repairs.
    r.second = true;
    r.id = rng_.next();
    r.waiting = r.asked;
    r.resend_at = now + config_.resend_interval;
    send_collect_check(r, r.waiting);
    return;
  }
  std::vector<wire::KeyVersion> entries = std::move(r.entries);
  collect_.reset();
  finish_collection(now, entries);
}

void KeyValue::finish_collection(MonoTime now, const std::vector<wire::KeyVersion>& entries) {
  for (const wire::KeyVersion& e : entries) {
    Record record;
    Result<bool> found = store_.get(e.key, record);
    if (!found.ok()) {
      stats_.store_errors++;
      return;
    }
    // A write or a newer marker since the scan: not this record any more.
    if (!found.value() || record.version != e.version || !collectable(record)) continue;
    if (!unstored_.empty() && unstored_.contains(e.key)) continue;
    // Reads in flight here must not install anything older now that nothing says so.
    raise_query_floor(e.key, e.version);
    if (Status s = store_erase(e.key); !s.ok()) {
      stats_.store_errors++;
      return;
    }
    stats_.records_collected++;
  }
  // A pass in progress goes on right away.
  if (!collect_cursor_.empty()) collect_at_ = now;
}

void KeyValue::abandon_collection(MonoTime now) {
  stats_.collect_rounds_abandoned++;
  collect_.reset();
  collect_at_ = now + 4 * config_.resend_interval;
}

void KeyValue::collection_member_change(Now now, const MemberChange& change) {
  if (config_.tombstone_horizon <= Duration(0) || change.name == membership_.name()) return;
  auto active = [](MemberState s) {
    return s == MemberState::kAlive || s == MemberState::kSuspect;
  };
  const bool was_active = !change.is_new && active(change.from_state);
  const bool is_active = !change.reaped && active(change.to_state);
  // The members a round must hear from changed: what it heard may not cover them.
  if (collect_ && (was_active != is_active || change.is_new)) abandon_collection(now.mono);
  if (change.reaped && change.to_state == MemberState::kDead) {
    // A failed member forgotten: it may come back to the others before to this node (a
    // partition between the two only), holding versions of deletes it never heard of.
    // Collect nothing for a horizon: back within it, it is a member here again and the
    // checks repair it; back later, it was away more than half a horizon and drops.
    const uint64_t until = wall_floor_us_ + micros(config_.tombstone_horizon);
    if (until > collect_paused_until_us_) {
      collect_paused_until_us_ = until;
      if (!store_.put_meta(MetaKey::kCollectPausedUntil, until).ok()) stats_.store_errors++;
    }
  }
  if (change.to_state != MemberState::kLeft) return;
  // Every other member left on purpose: nobody collects anything without this node, which
  // is the cluster now (and not away, however long it stays alone).
  for (const Member& m : membership_.members()) {
    if (m.name.view() != membership_.name() && m.state != MemberState::kLeft) return;
  }
  had_peer_ = false;
}

bool KeyValue::away(uint64_t wall_us) const {
  const uint64_t horizon = micros(config_.tombstone_horizon);
  return absent_ || (horizon != 0 && had_peer_ &&
                     std::max(wall_us, wall_floor_us_) > last_probed_us_ + horizon / 2);
}

void KeyValue::check_contact(Now now, bool request) {
  const uint64_t horizon = micros(config_.tombstone_horizon);
  if (horizon == 0) return;
  const uint64_t probes = membership_.probes_received();
  const bool probed = probes != probes_seen_;
  probes_seen_ = probes;
  if (!absent_ && had_peer_ && !probed && wall_floor_us_ > last_probed_us_ + horizon / 2) {
    absent_ = true;  // others may have collected deletes without this node meanwhile
  }
  if (absent_ && (probed || request)) {
    drop_records_after_absence(now);
    absent_ = false;
    last_probed_us_ = wall_floor_us_;  // (a request counts as contact once it is done)
  }
  if (probed) {
    had_peer_ = true;
    last_probed_us_ = wall_floor_us_;
  }
}

void KeyValue::drop_records_after_absence(Now now) {
  // Others may have collected deletes this node never heard of, but only of versions
  // older than the horizon by their clocks when they did; a quarter of it is left for
  // clock skew and for the news that this node is back to reach them.
  const uint64_t horizon = micros(config_.tombstone_horizon);
  const uint64_t cutoff = wall_floor_us_ - std::min(wall_floor_us_, horizon - horizon / 4);
  std::vector<std::string> old;
  Status scanned = store_.for_each([&](std::string_view key, const Record& record) {
    if (record.version.wall_us < cutoff) old.emplace_back(key);
    return true;
  });
  if (!scanned.ok()) stats_.store_errors++;
  for (const std::string& key : old) {
    if (!store_erase(key).ok()) stats_.store_errors++;
  }
  stats_.records_dropped_absent += old.size();
  absence_drops_++;
  last_absence_cutoff_us_ = cutoff;
  // What it still holds is confirmed with the cluster before it is served.
  bump_or_owe(now.mono);
}

Status KeyValue::store_erase(std::string_view key) {
  if (!bound_.enabled()) return store_.erase(key);
  Record before;
  Result<bool> had = store_.get(key, before);
  if (!had.ok()) return had.error();
  if (Status s = store_.erase(key); !s.ok()) return s;
  if (had.value()) bound_.on_change(key, &before, nullptr);
  return {};
}

}  // namespace ckv
