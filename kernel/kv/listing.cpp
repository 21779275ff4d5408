#include <algorithm>

#include "kernel/core/assert.h"
#include "kernel/kv/key_value.h"
#include "kernel/kv/record_answer.h"

// KeyValue, part six: listing the keys the cluster holds (see key_value.h and
// docs/kv-protocol.md, "Listing").
//
// The lister scans its own store and asks every member it holds active (ListKeys, stream
// channel) for their records of the range, values, tombstones and markers alike, each at
// most `limit` of them. Answers are merged per key by version (a higher version wins; at
// one version a value or tombstone beats a marker), so a key deleted or overwritten on
// one member does not come back from a stale copy on another. A member that stopped at
// the limit bounds the page: keys beyond its last one are left for the next page (a
// listing with values also stops each answer past wire::kListValueBytes of them). Keys
// whose newest version is a value not past its TTL are listed; a newest version that
// only markers name (its holder did not answer) makes the listing not current.

namespace ckv {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Status KeyValue::scan_for_listing(std::string_view prefix, std::string_view after, size_t limit,
                                  bool values, std::vector<wire::ListedRecord>& out, bool& more) {
  more = false;
  size_t value_bytes = 0;
  // From the first key after `after` that could start with `prefix`.
  std::string from = std::max(std::string(after) + '\0', std::string(prefix));
  if (after.empty()) from = std::string(prefix);
  return store_.for_each_from(from, [&](std::string_view key, const Record& record) {
    if (!starts_with(key, prefix)) return false;  // past the prefix's range
    if (!after.empty() && key <= after) return true;
    if (out.size() >= limit || value_bytes >= wire::kListValueBytes) {
      more = true;
      return false;
    }
    wire::ListedRecord e;
    e.key = std::string(key);
    e.kind = answer_of(record.kind);
    e.version = record.version;
    if (record.kind == RecordKind::kValue) {
      e.size = record.value.size();
      e.expires_us = record.expires_us;
      if (values) {
        e.value = record.value;
        e.content = record.content;
        value_bytes += e.value.size() + e.content.bytes();
      }
    }
    out.push_back(std::move(e));
    return true;
  });
}

void KeyValue::merge_listing(Listing& l, std::vector<wire::ListedRecord>&& records, bool more) {
  for (wire::ListedRecord& e : records) {
    if (!starts_with(e.key, l.prefix) || (!l.after.empty() && e.key <= l.after)) continue;
    const RecordKind kind = kind_of(e.kind);
    auto [it, inserted] = l.merged.try_emplace(e.key);
    ListBest& best = it->second;
    const bool better = inserted || e.version > best.version ||
                        (e.version == best.version && best.kind == RecordKind::kInvalidated &&
                         kind != RecordKind::kInvalidated);
    if (better) {
      best =
          ListBest{kind, e.version, e.size, e.expires_us, std::move(e.value), std::move(e.content)};
    }
  }
  if (more && !records.empty() && (!l.bound || records.back().key < *l.bound)) {
    l.bound = records.back().key;
  }
}

void KeyValue::list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
                    size_t limit, std::optional<Duration> timeout, bool values) {
  observe(now);
  CKV_ASSERT(request < kInternalRequest, "drivers' request ids stay below the kernel's own");
  auto fail = [&](ErrorCode code, std::string why) {
    reply_error(request, ClientOp::kList, Error{code, std::move(why)});
  };
  if (limit == 0 || limit > kMaxListLimit) {
    return fail(ErrorCode::kInvalidArgument, "limit must be 1 to " + std::to_string(kMaxListLimit));
  }
  if (prefix.size() > config_.max_key_bytes || after.size() > config_.max_key_bytes) {
    return fail(ErrorCode::kInvalidArgument, "prefix and after must have at most " +
                                                 std::to_string(config_.max_key_bytes) + " bytes");
  }
  if (listings_.size() >= config_.max_pending_queries) {
    return fail(ErrorCode::kUnavailable, "too many listings in flight; retry later");
  }
  Listing l;
  l.request = request;
  l.prefix = std::string(prefix);
  l.after = std::string(after);
  l.limit = limit;
  l.values = values;
  Duration wait = timeout.value_or(default_timeout());
  l.deadline = now.mono +
               std::clamp<Duration>(wait, std::chrono::milliseconds(1), config_.max_query_timeout);
  start_listing_round(std::move(l));
}

void KeyValue::start_listing_round(Listing&& listing) {
  const uint64_t id = next_listing_id_++;  // answers to an earlier round are ignored
  Listing& l = listings_[id] = std::move(listing);
  l.rounds++;
  l.merged.clear();
  l.bound.reset();
  l.waiting.clear();
  std::vector<wire::ListedRecord> own;
  bool more = false;
  if (Status s = scan_for_listing(l.prefix, l.after, l.limit, l.values, own, more); !s.ok()) {
    stats_.store_errors++;
    const uint64_t request = l.request;
    listings_.erase(id);
    reply_error(request, ClientOp::kList, s.error());
    return;
  }
  merge_listing(l, std::move(own), more);
  const wire::ListKeys ask = listing_question(id, l);
  for (const Member& m : membership_.members()) {
    if (!m.active() || m.name.view() == membership_.name()) continue;
    l.waiting.emplace_back(m.name.view());
    send(m.addr, Channel::kStream, ask);
  }
  if (l.waiting.empty()) conclude_listing(id, true);
}

wire::ListKeys KeyValue::listing_question(uint64_t id, const Listing& l) const {
  return wire::ListKeys{id,      std::string(membership_.name()), l.prefix,
                        l.after, static_cast<uint32_t>(l.limit),  l.values};
}

void KeyValue::on_list_keys(const Address& from, const wire::ListKeys& m) {
  const Member* origin = active_member(m.origin);
  if (origin == nullptr || origin->addr != from) return;  // only members may ask
  const size_t limit = std::clamp<size_t>(m.limit, 1, kMaxListLimit);
  wire::ListKeysReply r;
  r.id = m.id;
  r.responder = std::string(membership_.name());
  if (Status s = scan_for_listing(m.prefix, m.after, limit, m.values, r.records, r.more); !s.ok()) {
    stats_.store_errors++;
    return;  // silent: the lister's answer is then not current
  }
  send(from, Channel::kStream, r);
}

void KeyValue::on_list_keys_reply(Now, const Address& from, wire::ListKeysReply&& m) {
  auto it = listings_.find(m.id);
  if (it == listings_.end()) return;
  Listing& l = it->second;
  auto asked = std::find(l.waiting.begin(), l.waiting.end(), m.responder);
  if (asked == l.waiting.end() || !sent_by(m.responder, from)) return;
  l.waiting.erase(asked);
  merge_listing(l, std::move(m.records), m.more);
  if (l.waiting.empty()) conclude_listing(m.id, true);
}

void KeyValue::conclude_listing(uint64_t id, bool complete) {
  auto it = listings_.find(id);
  CKV_ASSERT(it != listings_.end(), "a listing concludes once");
  Listing l = std::move(it->second);
  listings_.erase(it);
  // A newest version only markers name, with every member answering: a write raced the
  // scans (its writer answered before it, others after). Ask again, as a read would.
  if (complete && l.rounds < kListRounds &&
      std::any_of(l.merged.begin(), l.merged.end(), [&](const auto& e) {
        return e.second.kind == RecordKind::kInvalidated && (!l.bound || e.first <= *l.bound);
      })) {
    stats_.listings_reissued++;
    start_listing_round(std::move(l));
    return;
  }
  Reply r{l.request, ClientOp::kList, ReplyStatus::kOk};
  r.remote = true;
  bool definite = true;
  for (const auto& [key, best] : l.merged) {
    if (l.bound && key > *l.bound) break;
    if (r.keys.size() == l.limit) {
      r.next = r.keys.back().key;
      break;
    }
    if (best.kind == RecordKind::kInvalidated) {
      definite = false;  // the newest version's holder did not answer (or is gone)
      continue;
    }
    if (best.kind != RecordKind::kValue ||
        (best.expires_us != 0 && best.expires_us <= wall_floor_us_)) {
      continue;
    }
    ListedKey listed{key, best.version, best.size, best.expires_us};
    if (l.values) {
      listed.value = best.value;
      listed.content = best.content;
    }
    r.keys.push_back(std::move(listed));
  }
  if (r.next.empty() && l.bound) r.next = *l.bound;
  r.current = complete && definite && membership_.joined();
  stats_.listings++;
  reply(std::move(r));
}

void KeyValue::listing_timer(Now now) {
  std::vector<uint64_t> due;
  for (const auto& [id, l] : listings_) {
    if (now.mono >= l.deadline) due.push_back(id);
  }
  for (uint64_t id : due)
    conclude_listing(id, false);
}

void KeyValue::listing_member_change(const MemberChange& change) {
  if (listings_.empty() || change.name == membership_.name()) return;
  const bool active_now = !change.reaped && (change.to_state == MemberState::kAlive ||
                                             change.to_state == MemberState::kSuspect);
  const bool was_active =
      change.from_state == MemberState::kAlive || change.from_state == MemberState::kSuspect;
  for (auto& [id, l] : listings_) {
    if (!active_now) {
      // A member gone is not waited for (as a read does not wait for it); the listing
      // ends in settle_listings, once the whole input is handled.
      std::erase(l.waiting, change.name);
    } else if (!was_active || change.reaped) {
      // One that appears or comes back is asked too: it may hold the newest versions.
      const Member* m = active_member(change.name);
      if (m == nullptr ||
          std::find(l.waiting.begin(), l.waiting.end(), change.name) != l.waiting.end()) {
        continue;
      }
      l.waiting.push_back(change.name);
      send(m->addr, Channel::kStream, listing_question(id, l));
    }
  }
}

void KeyValue::settle_listings() {
  std::vector<uint64_t> done;
  for (const auto& [id, l] : listings_) {
    if (l.waiting.empty()) done.push_back(id);
  }
  for (uint64_t id : done)
    conclude_listing(id, true);
}

}  // namespace ckv
