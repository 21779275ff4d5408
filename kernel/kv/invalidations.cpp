// KeyValue, part two: the invalidation protocol — this node's log of its own writes sent
// to every member, acknowledged cumulatively, resent until acknowledged or replaced by a
// reset; the entries of others' logs applied here; and Newer, which tells a writer (or
// a reader's responders) of a version that beats theirs.
#include <algorithm>

#include "kernel/core/assert.h"
#include "kernel/kv/key_value.h"
#include "kernel/wire/codec.h"

namespace ckv {

namespace {

// Bytes of an Invalidate frame beyond its entries, and of one entry beyond its key.
constexpr size_t kInvalidateOverhead = 2 + 1 + 256 + 10 + 10 + 5;
constexpr size_t kEntryOverhead = 3 + 10 + 5 + 10 + 11;  // (+11: its kind, a put's expiry)

}  // namespace

void KeyValue::on_invalidate(MonoTime now, const Address& from, wire::Invalidate&& m) {
  // Only members may change what we hold (and only they get an answer).
  if (m.origin == membership_.name() || !sent_by(m.origin, from)) {
    stats_.invalidations_refused++;
    return;
  }
  OriginState& o = origins_[m.origin];
  if (o.log_id != m.log_id) {
    // The origin restarted, or we never heard from it: what an earlier log of it said
    // after the last entry we applied may never have reached us.
    // The new epoch makes every copy ask the cluster (the origin included) before it is
    // served, so what this log said before this batch is no longer needed.
    if (Status s = bump_epoch(); !s.ok()) return;
    o = OriginState{m.log_id, m.first_seq - 1};
  }
  std::vector<wire::KeyVersion> newer;  // what we hold that beats the writer's version
  const uint64_t self = clock_.last().node;
  uint64_t seq = m.first_seq;
  const bool writes_said = m.writes.size() == m.entries.size();
  for (const wire::KeyVersion& e : m.entries) {
    wire::EntryWrite held_write;
    const std::optional<Version> held = apply_invalidation(now, e.key, e.version, &held_write);
    if (!held || *held <= e.version) {
      // News of the key for the watchers, unless this node already holds a newer version.
      // (An entry resent, or past a gap, is given once: the feed keeps versions rising.)
      const size_t i = static_cast<size_t>(seq - m.first_seq);
      const wire::EntryWrite said = writes_said ? m.writes[i] : wire::EntryWrite{};
      const ChangeEvent::Kind kind = said.kind == wire::EntryKind::kPut ? ChangeEvent::Kind::kPut
                                     : said.kind == wire::EntryKind::kDelete
                                         ? ChangeEvent::Kind::kDelete
                                         : ChangeEvent::Kind::kChange;
      feed_.on_change(e.key, e.version, kind, out_.events, said.expires_us);
    }
    if (held && *held > e.version) {
      newer.push_back(wire::KeyVersion{e.key, *held});
      // The writer's write lost to ours. The Newer reply is one datagram and may be lost;
      // our log is resent until acknowledged, so say it again there, or the writer could
      // serve its losing write as current until someone else reads the key. Not for an
      // entry applied before (resends would feed our log from theirs); an entry past a
      // gap may be said twice (when it comes, and when it is resent after the gap).
      if (held->node == self && seq > o.applied) {
        announce(now, e.key, *held, held_write);
        stats_.repairs_announced++;
      }
    }
    ++seq;
  }
  stats_.invalidations_received += m.entries.size();
  if (!newer.empty()) send_newer(from, std::move(newer));
  if (m.first_seq <= o.applied + 1) {
    o.applied = std::max(o.applied, m.first_seq + m.entries.size() - 1);
  } else {
    stats_.invalidation_gaps++;  // applied, but the origin resends what came before
  }
  ack(from, o.log_id, o.applied);
}

void KeyValue::announce(MonoTime now, std::string_view key, const Version& version,
                        wire::EntryWrite write) {
  log_.append(key, version, write);
  if (flush_at_ == kNever) flush_at_ = now + config_.batch_delay;
}

void KeyValue::ack(const Address& origin, uint64_t log_id, uint64_t applied) {
  send(origin, Channel::kDatagram, wire::InvalidateAck{membership_.name(), log_id, applied});
}

void KeyValue::on_invalidate_ack(const Address& from, const wire::InvalidateAck& m) {
  if (m.log_id != log_.id() || active_member(m.member) == nullptr || !sent_by(m.member, from)) {
    return;
  }
  log_.on_ack(m.member, m.applied);
  if (!resetting_.empty() && m.applied >= log_.head()) resetting_.erase(m.member);
  if (m.applied < log_.head() && flush_at_ == kNever) resend_at_ = MonoTime{};
}

void KeyValue::on_invalidate_reset(const Address& from, const wire::InvalidateReset& m) {
  if (m.origin == membership_.name() || !sent_by(m.origin, from)) {
    stats_.invalidations_refused++;
    return;
  }
  auto o = origins_.find(m.origin);
  if (o != origins_.end() && o->second.log_id == m.log_id && o->second.applied >= m.head) {
    ack(from, o->second.log_id, o->second.applied);  // a duplicate
    return;
  }
  stats_.resets_received++;
  if (Status s = bump_epoch(); !s.ok()) return;
  if (m.head == 0) {
    // An empty log's announcement: nothing of it to apply, so keep no state for the
    // origin (its next message, from any log, starts a new epoch again).
    if (o != origins_.end()) origins_.erase(o);
  } else {
    origins_[m.origin] = OriginState{m.log_id, m.head};
  }
  ack(from, m.log_id, m.head);
}

std::optional<Version> KeyValue::apply_invalidation(MonoTime now, std::string_view key,
                                                    const Version& version,
                                                    wire::EntryWrite* held_write) {
  raise_query_floor(key, version);
  Record record;
  bool expired_now = false;
  Result<bool> found = load(key, record, &expired_now);
  if (!found.ok()) {
    stats_.store_errors++;
    return std::nullopt;
  }
  if (!found.value()) return std::nullopt;
  if (record.version >= version) {
    // What was written at it (a value past its TTL was still a put: it expired long ago,
    // as far as the receiver cares; a marker says nothing).
    if (held_write != nullptr) {
      *held_write = expired_now ? wire::EntryWrite{wire::EntryKind::kPut, 1}
                    : record.kind == RecordKind::kValue
                        ? wire::EntryWrite{wire::EntryKind::kPut, record.expires_us}
                    : record.kind == RecordKind::kTombstone
                        ? wire::EntryWrite{wire::EntryKind::kDelete, 0}
                        : wire::EntryWrite{};
    }
    return record.version;
  }
  record.kind = RecordKind::kInvalidated;
  record.version = version;
  record.value.clear();
  record.expires_us = 0;
  record.content = {};
  if (!supersede(now, key, record)) return std::nullopt;
  stats_.copies_dropped++;
  return version;
}

void KeyValue::on_newer(MonoTime now, const Address& from, const wire::Newer& m) {
  // Only members may change what we hold.
  if (!is_member_address(from)) {
    stats_.invalidations_refused++;
    return;
  }
  stats_.repairs_received += m.entries.size();
  for (const wire::KeyVersion& e : m.entries) {
    if (e.key.size() <= config_.max_key_bytes) apply_invalidation(now, e.key, e.version);
  }
}

void KeyValue::send_newer(const Address& to, std::vector<wire::KeyVersion> entries) {
  stats_.repairs_sent += entries.size();
  wire::Newer m;
  size_t bytes = 0;
  for (wire::KeyVersion& e : entries) {
    const size_t entry = e.key.size() + kEntryOverhead;
    if (!m.entries.empty() && bytes + entry > membership_config_.datagram_budget - 64) {
      send(to, Channel::kDatagram, m);
      m.entries.clear();
      bytes = 0;
    }
    bytes += entry;
    m.entries.push_back(std::move(e));
  }
  if (!m.entries.empty()) send(to, Channel::kDatagram, m);
}

void KeyValue::flush_invalidations(MonoTime now) {
  for (const Member& m : membership_.members()) {
    if (!m.active() || m.name.view() == membership_.name()) continue;
    const InvalidationLog::Pending p = log_.pending(m.name.view(), now, config_.resend_interval);
    if (p.kind == InvalidationLog::Pending::kNothing) continue;
    if (p.kind == InvalidationLog::Pending::kReset) {
      stats_.resets_sent++;
      // A member reset past entries never compares them with what it holds, so it cannot
      // answer that one of our writes lost (a Newer): revalidate our own copies too, for
      // every write a reset covers (an empty log's announcement covers none).
      uint64_t& covered = resetting_[std::string(m.name.view())];
      if (log_.head() > covered) {
        covered = log_.head();
        bump_or_owe(now);
      }
      send(m.addr, Channel::kDatagram,
           wire::InvalidateReset{membership_.name(), log_.id(), log_.head()});
    } else {
      send_entries(m.addr, p.from);
    }
    log_.mark_sent(m.name.view(), now);
  }
  resend_at_ = log_.next_resend(config_.resend_interval);
}

void KeyValue::send_entries(const Address& to, uint64_t from_seq) {
  const uint64_t head = log_.head();
  CKV_ASSERT(from_seq >= log_.first() && from_seq <= head,
             "entries sent are entries the log holds");
  size_t bytes = kInvalidateOverhead;
  for (uint64_t s = from_seq; s <= head && bytes <= membership_config_.datagram_budget; ++s) {
    bytes += log_.at(s).key.size() + kEntryOverhead;
  }
  const bool fits_datagram = bytes <= membership_config_.datagram_budget;
  const size_t chunk_bytes =
      fits_datagram ? membership_config_.datagram_budget : config_.stream_chunk_bytes;
  uint64_t s = from_seq;
  while (s <= head) {
    wire::Invalidate m{membership_.name(), log_.id(), s, {}};
    size_t size = kInvalidateOverhead;
    while (s <= head && m.entries.size() < membership_config_.max_members) {
      const wire::KeyVersion& e = log_.at(s);
      const size_t entry = e.key.size() + kEntryOverhead;
      if (!m.entries.empty() && size + entry > chunk_bytes) break;
      m.entries.push_back(e);
      m.writes.push_back(log_.write(s));
      size += entry;
      ++s;
    }
    CKV_ASSERT(!m.entries.empty() && m.first_seq + m.entries.size() == s,
               "each chunk carries contiguous sequence numbers, at least one");
    stats_.invalidations_sent += m.entries.size();
    send(to, fits_datagram ? Channel::kDatagram : Channel::kStream, m);
  }
}

}  // namespace ckv
