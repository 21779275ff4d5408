// KeyValue, part three: cluster reads — a get that misses locally asks every active
// member, merges the answers (and its own record), asks again when a racing write makes
// the answers stale, seeks an unknown writer, and concludes: caches the winner and
// answers every get waiting on the read. Also the answering side (on_query).
#include <algorithm>
#include <cmath>

#include "kernel/core/assert.h"
#include "kernel/kv/key_value.h"
#include "kernel/kv/record_answer.h"
#include "kernel/wire/codec.h"

namespace ckv {

void KeyValue::raise_query_floor(std::string_view key, const Version& version) {
  if (query_of_key_.empty()) return;
  if (auto q = query_of_key_.find(std::string(key)); q != query_of_key_.end()) {
    Query& query = queries_.at(q->second);
    CKV_ASSERT(query.key == key, "query_of_key_ maps a key to the read of that key");
    query.floor = std::max(query.floor, version);
  }
}

void KeyValue::on_query(const Address& from, const wire::Query& m) {
  stats_.queries_answered++;
  if (m.key.size() > config_.max_key_bytes) return;
  wire::QueryReply r;
  r.id = m.id;
  r.responder = membership_.name();
  Record record;
  Result<bool> found = load(m.key, record);
  if (!found.ok()) {
    stats_.store_errors++;
    return;  // the asker counts us as silent; better than a false "not found"
  }
  if (found.value()) {
    r.answer = answer_of(record.kind);  // (a value past its TTL: a tombstone, see load)
    r.version = record.version;
    r.value = std::move(record.value);
    r.expires_us = record.expires_us;
    r.content = std::move(record.content);
  }
  const bool large = r.value.size() > config_.inline_value_bytes;
  send(from, large ? Channel::kStream : Channel::kDatagram, r);
}

void KeyValue::on_query_reply(Now now, const Address& from, wire::QueryReply&& m) {
  auto it = queries_.find(m.id);
  if (it == queries_.end()) return;
  Query& q = it->second;
  auto w = std::find(q.waiting.begin(), q.waiting.end(), m.responder);
  if (w == q.waiting.end()) return;  // not asked, or a duplicate
  if (!sent_by(m.responder, from)) return;
  q.waiting.erase(w);
  q.answered++;
  q.responders.push_back(node_id(m.responder));
  CKV_ASSERT(q.answered + q.waiting.size() <= q.asked && q.responders.size() == q.answered,
             "answers never exceed the members asked");
  if (m.answer != wire::QueryAnswer::kNotFound) {
    q.holders.emplace_back(m.responder, m.version);
    // A marker means a newer write exists: if it is newer than every value, ask again.
    if (m.answer == wire::QueryAnswer::kInvalidated) q.floor = std::max(q.floor, m.version);
    Candidate answer{kind_of(m.answer), m.version, std::move(m.value), m.expires_us,
                     std::move(m.content)};
    expire_if_due(answer);  // judged by our expiry clock, not the responder's
    if (beats(answer.kind, answer.version, q.best)) q.best = std::move(answer);
  }
  maybe_complete(now, q, false);
}

// --- cluster reads ----------------------------------------------------------------------

void KeyValue::expire_if_due(Candidate& c) const {
  if (c.kind != RecordKind::kValue || c.expires_us == 0 || c.expires_us > wall_floor_us_) return;
  c.kind = RecordKind::kTombstone;
  c.value.clear();
  c.expires_us = 0;
  c.content = {};
}

bool KeyValue::beats(RecordKind kind, const Version& version,
                     const std::optional<Candidate>& best) {
  if (!best || version > best->version) return true;
  // At one version a value or tombstone beats a bare marker, and a tombstone a value: one
  // write's version is a put or a delete, never both, so a tombstone there is the value
  // expired by its holder's clock (ahead of ours by less than the skew).
  return version == best->version &&
         ((best->kind == RecordKind::kInvalidated && kind != RecordKind::kInvalidated) ||
          (best->kind == RecordKind::kValue && kind == RecordKind::kTombstone));
}

Duration KeyValue::default_timeout() const {
  if (config_.query_timeout > Duration(0)) return config_.query_timeout;
  const double n = static_cast<double>(membership_.members().active_count());
  const auto scale = static_cast<int64_t>(std::ceil(std::log10(n + 1)));
  return membership_config_.gossip_interval * 16 * std::max<int64_t>(1, scale);
}

void KeyValue::start_query(Now now, std::string key, uint64_t request, Duration timeout,
                           const Record* local) {
  if (auto existing = query_of_key_.find(key); existing != query_of_key_.end()) {
    // One read serves both; members still silent are asked again now rather than at the
    // older read's backed-off retry.
    // The answers gathered so far may predate this get (a write it follows may have been
    // acknowledged since): it is answered from the next round of questions.
    Query& q = queries_.at(existing->second);
    CKV_ASSERT(q.key == key, "the read found for a key is that key's");
    q.requests.push_back(Waiter{request, now.mono + timeout, q.rounds + 1, q.rounds});
    stats_.gets_remote++;
    if (!q.waiting.empty() && now.mono >= q.last_ask + config_.query_retry) {
      ask(q, q.waiting);
      q.last_ask = now.mono;
      q.retry_every = config_.query_retry;
      q.next_retry = now.mono + q.retry_every;
    }
    return;
  }
  if (queries_.size() >= config_.max_pending_queries) {
    reply_error(request, ClientOp::kGet,
                Error{ErrorCode::kUnavailable, "too many cluster reads in flight; retry later"});
    return;
  }
  stats_.gets_remote++;
  const uint64_t id = next_query_id_++;
  Query q{id,
          key,
          {Waiter{request, now.mono + timeout, 1, 1}},
          now.mono,
          now.mono + config_.query_retry,
          config_.query_retry};
  q.epoch = epoch_;
  if (local != nullptr) {
    q.best =
        Candidate{local->kind, local->version, local->value, local->expires_us, local->content};
    q.local_version = local->version;
  }
  std::vector<std::string> members;
  for (const Member& m : membership_.members()) {
    if (m.active() && m.name.view() != membership_.name()) members.emplace_back(m.name.view());
  }
  q.waiting = members;
  q.asked = members.size();
  auto [it, inserted] = queries_.emplace(id, std::move(q));
  query_of_key_[key] = id;
  CKV_ASSERT(inserted && queries_.size() == query_of_key_.size(),
             "query ids are fresh; one read per key");
  ask(it->second, members);
  maybe_complete(now, it->second, false);
}

void KeyValue::ask(Query& q, const std::vector<std::string>& members) {
  for (const std::string& name : members) {
    if (const Member* m = active_member(name)) {
      send(m->addr, Channel::kDatagram, wire::Query{q.id, q.key});
      stats_.queries_sent++;
    }
  }
}

void KeyValue::merge_local(Query& q) {
  // Our own copy may have changed while the read was in flight (a local write, an
  // invalidation): it competes like any answer.
  Record local;
  Result<bool> found = load(q.key, local);
  if (!found.ok()) return;  // (conclude then installs what the read found, as before)
  q.local_version.reset();
  if (!found.value()) return;
  q.local_version = local.version;
  if (beats(local.kind, local.version, q.best)) {
    q.best = Candidate{local.kind, local.version, std::move(local.value), local.expires_us,
                       std::move(local.content)};
  }
}

bool KeyValue::maybe_complete(Now now, Query& q, bool timed_out) {
  CKV_ASSERT(!q.requests.empty() && q.round_floor <= q.floor,
             "a read in flight has a get waiting; its floor only rises");
  if (!q.waiting.empty() && !timed_out) return false;
  merge_local(q);
  if (!timed_out) {
    // The newest version we know of is newer than every answer, or is only a marker we
    // learnt of after asking: the answers predate that write.
    const bool behind = q.best && (q.best->version < q.floor ||
                                   (q.best->kind == RecordKind::kInvalidated &&
                                    q.floor > q.round_floor && q.best->version <= q.floor));
    if (behind && q.asked > 0) {
      // Every answer predates an invalidation that reached us meanwhile: ask again, or we
      // would cache a copy that nothing will ever invalidate.
      stats_.reads_reissued++;
      return maybe_complete(now, next_round(now, std::move(q)), false);
    }
    if (q.best && q.best->kind == RecordKind::kInvalidated && q.best->version >= q.floor &&
        seek_writer(now.mono, q)) {
      return false;
    }
    // Gets that joined after this round's questions went out get a round of their own.
    const uint32_t round = q.rounds;
    if (std::any_of(q.requests.begin(), q.requests.end(),
                    [&](const Waiter& w) { return w.round > round; })) {
      std::vector<Waiter> served;
      for (const Waiter& w : q.requests) {
        if (w.round <= round) served.push_back(w);
      }
      if (!served.empty()) conclude(now.mono, q, true, served);
      std::erase_if(q.requests, [&](const Waiter& w) { return w.round <= round; });
      return maybe_complete(now, next_round(now, std::move(q)), false);
    }
  }
  if (timed_out) stats_.query_timeouts++;
  // Timed out: complete only if nobody asked is still silent and the read was not waiting
  // for a writer to appear; and never for gets whose own round was not asked yet.
  const bool complete = q.waiting.empty() && q.parked_until == kNever;
  std::vector<Waiter> in_round, late;
  for (const Waiter& w : q.requests)
    (w.round <= q.rounds ? in_round : late).push_back(w);
  if (!in_round.empty()) conclude(now.mono, q, complete, in_round);
  if (!late.empty()) conclude(now.mono, q, false, late);
  query_of_key_.erase(q.key);
  queries_.erase(q.id);
  CKV_ASSERT(queries_.size() == query_of_key_.size(), "every read is indexed by its key");
  return true;
}

KeyValue::Query& KeyValue::next_round(Now now, Query&& q) {
  const uint64_t old_id = q.id;
  Query again = std::move(q);
  queries_.erase(old_id);
  again.id = next_query_id_++;
  again.best.reset();
  again.rounds++;
  again.holders.clear();
  again.responders.clear();
  again.parked_until = kNever;
  again.waiting.clear();
  for (const Member& m : membership_.members()) {
    if (m.active() && m.name.view() != membership_.name())
      again.waiting.emplace_back(m.name.view());
  }
  again.asked = again.waiting.size();
  again.answered = 0;
  again.round_floor = again.floor;
  again.epoch = epoch_;
  again.last_ask = now.mono;
  again.retry_every = config_.query_retry;
  again.next_retry = now.mono + again.retry_every;
  auto [it, inserted] = queries_.emplace(again.id, std::move(again));
  query_of_key_[it->second.key] = it->second.id;
  CKV_ASSERT(queries_.size() == query_of_key_.size(), "a new round replaces, not adds, a read");
  ask(it->second, it->second.waiting);
  return it->second;
}

bool KeyValue::seek_writer(MonoTime now, Query& q) {
  CKV_ASSERT(q.best.has_value() && q.waiting.empty(),
             "a read seeks the writer only after everyone asked answered");
  const uint64_t writer_id = q.best->version.node;
  // Our own write that we no longer hold, or a writer that answered without it: lost.
  if (writer_id == node_id(membership_.name())) return false;
  if (std::find(q.responders.begin(), q.responders.end(), writer_id) != q.responders.end()) {
    return false;
  }
  if (gone_writers_.contains(writer_id)) return false;
  for (const Member& m : membership_.members()) {
    if (node_id(m.name.view()) != writer_id) continue;
    if (!m.active()) return false;  // dead or left: nobody can give us the value now
    ask_too(now, q, m.name.view());
    return true;
  }
  // Not a member here: the news of it may still be spreading (on_member_change adds it to
  // the read), so wait a moment; or it left before we joined, or was forgotten, and never
  // will be one: then remember not to wait for it again.
  if (q.parked_until == kNever) q.parked_until = now + config_.unknown_writer_wait;
  if (now < q.parked_until) return true;
  if (gone_writers_.size() >= kMaxGoneWriters) gone_writers_.clear();
  gone_writers_.insert(writer_id);
  return false;
}

void KeyValue::ask_too(MonoTime now, Query& q, std::string_view member) {
  q.parked_until = kNever;  // waiting for an answer now, not for a writer to appear
  CKV_ASSERT(std::find(q.waiting.begin(), q.waiting.end(), member) == q.waiting.end(),
             "a member is waited for at most once per round");
  q.waiting.emplace_back(member);
  q.asked++;
  ask(q, {q.waiting.back()});
  // The silent are asked again from now on, not at once.
  q.last_ask = now;
  q.next_retry = std::max(q.next_retry, now + q.retry_every);
}

void KeyValue::conclude(MonoTime now, Query& q, bool complete, const std::vector<Waiter>& waiters) {
  Reply r{0, ClientOp::kGet, ReplyStatus::kNotFound};
  CKV_ASSERT(!waiters.empty() && (!complete || q.waiting.empty()),
             "a conclusion answers someone; complete means nobody is silent");
  r.remote = true;
  // A node that has not joined (it read once join_wait passed) knows nobody to ask.
  complete = complete && membership_.joined();
  // Definite: a value or tombstone at least as new as anything we know of, or nothing at
  // all. A newer version that nobody who answered holds makes a 404 a guess.
  const bool definite =
      !q.best || (q.best->kind != RecordKind::kInvalidated && q.best->version >= q.floor);
  r.current = complete && definite;
  r.rounds = q.rounds;
  if (q.best) expire_if_due(*q.best);  // time passed while the members answered
  if (!q.best || q.best->kind == RecordKind::kInvalidated || q.best->version < q.floor) {
    // Nobody holds a value, or the newest version is held by nobody who answered.
    const bool nobody_answered = q.answered == 0 && q.asked > 0;
    if (!complete && nobody_answered && !q.best) r.status = ReplyStatus::kTimeout;
    if (q.best) {
      // Remember the newest version we learnt of (even without a copy of the key): nothing
      // older is installed later, and a later write here gets a higher version.
      r.version = std::max(q.best->version, q.floor);
      remember_newer(now, q.key, r.version);
    }
  } else {
    // A value or a tombstone, at least as new as anything invalidated meanwhile: cache
    // it, confirmed current only when everyone asked has answered.
    // (merge_local has just read our own record: its version is known.)
    if (!q.local_version || *q.local_version <= q.best->version) {
      // Current only if every member answered and no gap opened while they did.
      const bool current = complete && q.epoch == epoch_;
      Record record{q.best->kind,  q.best->version,    current ? epoch_ : 0,
                    q.best->value, q.best->expires_us, q.best->content};
      if (supersede(now, q.key, record)) q.local_version = record.version;
    }
    r.version = q.best->version;
    if (q.best->kind == RecordKind::kValue) {
      r.status = ReplyStatus::kOk;
      r.value = q.best->value;
      r.expires_us = q.best->expires_us;
      r.content = q.best->content;
    }
  }
  if (!r.version.is_zero()) clock_.witness(r.version);  // writes follow what we answered
  if (q.best) {
    // Read repair: members that answered with an older version learn the newer one.
    const Version newest = std::max(q.best->version, q.floor);
    for (const auto& [name, version] : q.holders) {
      const Member* m = active_member(name);
      if (m != nullptr && version < newest) send_newer(m->addr, {wire::KeyVersion{q.key, newest}});
    }
    q.holders.clear();
  }
  for (size_t i = 0; i < waiters.size(); ++i) {
    Reply each = i + 1 == waiters.size() ? std::move(r) : r;
    each.request = waiters[i].request;
    // The rounds this get waited for: a get that joined later waited for fewer.
    each.rounds = q.rounds >= waiters[i].counted_from ? q.rounds - waiters[i].counted_from + 1 : 1;
    reply(std::move(each));
  }
}

MonoTime KeyValue::earliest_deadline(const Query& q) {
  MonoTime t = kNever;
  for (const Waiter& w : q.requests)
    t = std::min(t, w.deadline);
  return t;
}

void KeyValue::settle_reads(Now now) {
  std::vector<uint64_t> ids;
  ids.swap(unsettled_reads_);
  for (uint64_t id : ids) {
    if (auto it = queries_.find(id); it != queries_.end()) maybe_complete(now, it->second, false);
  }
  if (joined_at_ == kNever && membership_.joined()) joined_at_ = now.mono;
  if (!listings_.empty()) settle_listings();
  run_internal_replies(now);
}

void KeyValue::join_reads(MonoTime now, const std::string& member) {
  for (auto& [id, q] : queries_) {
    if (std::find(q.waiting.begin(), q.waiting.end(), member) == q.waiting.end()) {
      ask_too(now, q, member);
    }
  }
}

}  // namespace ckv
