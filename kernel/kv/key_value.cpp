#include "kernel/kv/key_value.h"

#include <algorithm>
#include <cmath>

#include "kernel/core/assert.h"
#include "kernel/wire/codec.h"

namespace ckv {

namespace {

// How many gone members' ids a node remembers for its reads (see gone_writers_).
constexpr size_t kMaxGoneWriters = 4096;
// Markers the store refused, kept in memory until it takes them (see supersede).
constexpr size_t kMaxUnstored = 4096;

// Bytes of an Invalidate frame beyond its entries, and of one entry beyond its key.
constexpr size_t kInvalidateOverhead = 2 + 1 + 256 + 10 + 10 + 5;
constexpr size_t kEntryOverhead = 3 + 10 + 5 + 10;

wire::QueryAnswer answer_of(RecordKind kind) {
  switch (kind) {
    case RecordKind::kValue:
      return wire::QueryAnswer::kValue;
    case RecordKind::kTombstone:
      return wire::QueryAnswer::kTombstone;
    case RecordKind::kInvalidated:
      return wire::QueryAnswer::kInvalidated;
  }
  return wire::QueryAnswer::kNotFound;
}

RecordKind kind_of(wire::QueryAnswer answer) {
  switch (answer) {
    case wire::QueryAnswer::kValue:
      return RecordKind::kValue;
    case wire::QueryAnswer::kTombstone:
      return RecordKind::kTombstone;
    default:
      return RecordKind::kInvalidated;
  }
}

}  // namespace

const char* to_string(ReplyStatus status) {
  switch (status) {
    case ReplyStatus::kOk:
      return "ok";
    case ReplyStatus::kNotFound:
      return "not-found";
    case ReplyStatus::kTimeout:
      return "timeout";
    case ReplyStatus::kError:
      return "error";
  }
  return "?";
}

Result<std::unique_ptr<KeyValue>> KeyValue::open(const KvConfig& config,
                                                 const MembershipConfig& membership_config,
                                                 const Membership& membership, Store& store,
                                                 uint64_t seed, Outbox& out, NodeStats& stats) {
  Result<uint64_t> ceiling = store.get_meta(MetaKey::kClockCeiling);
  if (!ceiling.ok()) return ceiling.error();
  Result<uint64_t> epoch = store.get_meta(MetaKey::kEpoch);
  if (!epoch.ok()) return epoch.error();
  // A new process starts a new epoch: whatever it holds may have been overwritten while
  // it was down.
  const uint64_t next_epoch = epoch.value() + 1;
  if (Status s = store.put_meta(MetaKey::kEpoch, next_epoch); !s.ok()) return s.error();
  return std::unique_ptr<KeyValue>(new KeyValue(config, membership_config, membership, store, seed,
                                                ceiling.value(), next_epoch, out, stats));
}

KeyValue::KeyValue(const KvConfig& config, const MembershipConfig& membership_config,
                   const Membership& membership, Store& store, uint64_t seed,
                   uint64_t clock_ceiling, uint64_t epoch, Outbox& out, NodeStats& stats)
    : config_(config),
      membership_config_(membership_config),
      membership_(membership),
      store_(store),
      out_(out),
      stats_(stats),
      rng_(seed),
      clock_(node_id(membership.name()), clock_ceiling),
      clock_ceiling_(clock_ceiling),
      hold_writes_until_us_(clock_ceiling),
      epoch_(epoch),
      log_(rng_.next() | 1, config.log_entries, config.log_bytes),
      next_query_id_(rng_.next() >> 1) {}

// --- client operations ------------------------------------------------------------------

void KeyValue::get(Now now, uint64_t request, std::string_view key,
                   std::optional<Duration> timeout) {
  stats_.gets++;
  if (key.empty() || key.size() > config_.max_key_bytes) {
    reply_error(request, ClientOp::kGet,
                "key must have 1 to " + std::to_string(config_.max_key_bytes) + " bytes");
    return;
  }
  if (!membership_.joined()) {
    if (held_reads_.size() >= config_.max_pending_queries) {
      reply_error(request, ClientOp::kGet,
                  "too many reads waiting for the node to join; retry later");
      return;
    }
    // Held for the join, but not past the get's own timeout.
    const Duration wait = std::min(config_.join_wait, timeout.value_or(config_.join_wait));
    held_reads_.push_back(HeldRead{request, std::string(key), timeout, now.mono, now.mono + wait});
    return;
  }
  read(now, request, key, timeout);
}

void KeyValue::read(Now now, uint64_t request, std::string_view key,
                    std::optional<Duration> timeout) {
  Record local;
  Result<bool> found = load(key, local);
  if (!found.ok()) {
    stats_.store_errors++;
    reply_error(request, ClientOp::kGet, found.error().detail);
    return;
  }
  Reply r{request, ClientOp::kGet};
  if (found.value() && answer_locally(local, serving_epoch(), r)) {
    stats_.gets_local++;
    reply(std::move(r));
    return;
  }
  Duration wait = timeout.value_or(default_timeout());
  wait = std::clamp<Duration>(wait, std::chrono::milliseconds(1), config_.max_query_timeout);
  start_query(now, std::string(key), request, wait);
}

bool KeyValue::answer_locally(Record& local, uint64_t epoch, Reply& out) {
  if (epoch == 0 || local.kind == RecordKind::kInvalidated || local.validated_epoch != epoch) {
    return false;  // epoch 0: nothing is current (no copy confirmed in it counts)
  }
  out.version = local.version;
  if (local.kind == RecordKind::kValue) {
    out.status = ReplyStatus::kOk;
    out.value = std::move(local.value);
  } else {
    out.status = ReplyStatus::kNotFound;
  }
  return true;
}

void KeyValue::put(Now now, uint64_t request, std::string_view key, std::string value) {
  stats_.puts++;
  write(now, request, ClientOp::kPut, key, std::move(value));
}

void KeyValue::erase(Now now, uint64_t request, std::string_view key) {
  stats_.deletes++;
  write(now, request, ClientOp::kDelete, key, {});
}

void KeyValue::write(Now now, uint64_t request, ClientOp op, std::string_view key,
                     std::string value) {
  auto fail = [&](std::string why) { reply_error(request, op, std::move(why)); };
  if (key.empty() || key.size() > config_.max_key_bytes) {
    return fail("key must have 1 to " + std::to_string(config_.max_key_bytes) + " bytes");
  }
  if (value.size() > config_.max_value_bytes) {
    return fail("value is larger than " + std::to_string(config_.max_value_bytes) + " bytes");
  }
  const int64_t wall_us = now.wall.time_since_epoch().count();
  if (wall_us < static_cast<int64_t>(hold_writes_until_us_) || !held_writes_.empty()) {
    if (held_writes_.size() >= config_.max_pending_queries) {
      return fail("too many writes waiting for the clock; retry later");
    }
    held_writes_.push_back(HeldWrite{request, op, std::string(key), std::move(value)});
    const Duration wait(
        std::max<int64_t>(0, static_cast<int64_t>(hold_writes_until_us_) - wall_us));
    held_until_ = std::min(held_until_, now.mono + wait);
    return;
  }
  Record existing;
  Result<bool> found = load(key, existing);
  if (!found.ok()) {
    stats_.store_errors++;
    return fail(found.error().detail);
  }
  // The new version must beat whatever this node holds, even a marker of a version from
  // a node whose clock runs ahead.
  if (found.value()) clock_.witness(existing.version);
  if (clock_.needs_lease(now.wall, clock_ceiling_)) {
    const uint64_t ceiling = clock_.next_ceiling(now.wall);
    if (Status s = store_.put_meta(MetaKey::kClockCeiling, ceiling); !s.ok()) {
      stats_.store_errors++;
      return fail(s.error().detail);
    }
    clock_ceiling_ = ceiling;
  }
  const Version version = clock_.tick(now.wall);
  Record record;
  record.kind = op == ClientOp::kPut ? RecordKind::kValue : RecordKind::kTombstone;
  record.version = version;
  CKV_ASSERT(epoch_ >= 1, "the epoch is at least 1 once open (0 means never confirmed)");
  record.validated_epoch = epoch_;
  record.value = std::move(value);
  if (Status s = store_.put(key, record); !s.ok()) {
    stats_.store_errors++;
    return fail(s.error().detail);
  }
  if (!unstored_.empty()) unstored_.erase(std::string(key));  // beaten by this write
  announce(now.mono, key, version);
  // A read of this key in flight must not install anything older than this write. (The
  // store already holds the write itself: nothing there to drop.)
  raise_query_floor(key, version);
  reply(Reply{request, op, ReplyStatus::kOk, version});
}

void KeyValue::release_held_reads(Now now) {
  std::vector<HeldRead> due;
  const bool joined = membership_.joined();
  std::erase_if(held_reads_, [&](HeldRead& r) {
    if (!joined && now.mono < r.until) return false;
    due.push_back(std::move(r));
    return true;
  });
  for (HeldRead& r : due) {
    // What is left of the get's own timeout (at least 1 ms: the read still asks).
    std::optional<Duration> left = r.timeout;
    if (left)
      left = std::max<Duration>(std::chrono::milliseconds(1), *left - (now.mono - r.arrived));
    read(now, r.request, r.key, left);
  }
}

void KeyValue::release_held_writes(Now now) {
  const int64_t wall_us = now.wall.time_since_epoch().count();
  if (wall_us < static_cast<int64_t>(hold_writes_until_us_)) {
    held_until_ = now.mono + Duration(static_cast<int64_t>(hold_writes_until_us_) - wall_us);
    return;
  }
  held_until_ = kNever;
  std::vector<HeldWrite> held = std::move(held_writes_);
  held_writes_.clear();
  for (HeldWrite& w : held) {
    write(now, w.request, w.op, w.key, std::move(w.value));
  }
}

// --- messages ---------------------------------------------------------------------------

void KeyValue::handle(Now now, const Address& from, Channel, wire::Message&& message) {
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Invalidate>) {
          on_invalidate(now.mono, from, std::move(m));
        } else if constexpr (std::is_same_v<T, wire::InvalidateAck>) {
          on_invalidate_ack(from, m);
        } else if constexpr (std::is_same_v<T, wire::InvalidateReset>) {
          on_invalidate_reset(from, m);
        } else if constexpr (std::is_same_v<T, wire::Query>) {
          on_query(from, m);
        } else if constexpr (std::is_same_v<T, wire::QueryReply>) {
          on_query_reply(now, from, std::move(m));
        } else if constexpr (std::is_same_v<T, wire::Newer>) {
          on_newer(now.mono, from, m);
        }
      },
      message);
}

const Member* KeyValue::active_member(std::string_view name) const {
  const Member* m = membership_.members().find(name);
  return m != nullptr && m->active() && name != membership_.name() ? m : nullptr;
}

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
  for (const wire::KeyVersion& e : m.entries) {
    if (std::optional<Version> held = apply_invalidation(now, e.key, e.version);
        held && *held > e.version) {
      newer.push_back(wire::KeyVersion{e.key, *held});
      // The writer's write lost to ours. The Newer reply is one datagram and may be lost;
      // our log is resent until acknowledged, so say it again there, or the writer could
      // serve its losing write as current until someone else reads the key. Not for an
      // entry applied before (resends would feed our log from theirs); an entry past a
      // gap may be said twice (when it comes, and when it is resent after the gap).
      if (held->node == self && seq > o.applied) {
        announce(now, e.key, *held);
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

void KeyValue::announce(MonoTime now, std::string_view key, const Version& version) {
  log_.append(key, version);
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

Status KeyValue::bump_epoch() {
  if (Status s = store_.put_meta(MetaKey::kEpoch, epoch_ + 1); !s.ok()) {
    stats_.store_errors++;
    return s;
  }
  epoch_++;
  stats_.epoch_bumps++;
  epoch_owed_ = false;  // any bump closes every gap opened before it
  epoch_retry_at_ = kNever;
  // The store takes writes again (it took this one): hand it the markers it refused.
  if (!unstored_.empty()) store_unstored();
  return {};
}

void KeyValue::bump_or_owe(MonoTime now) {
  if (bump_epoch().ok()) return;
  // Not bumping would leave copies current that may have missed the gap's invalidations.
  // Nor can the epoch move in memory only: copies confirmed in it, once stored, would be
  // current again in the epoch the next start takes from the store.
  epoch_owed_ = true;
  epoch_retry_at_ = now + config_.resend_interval;
}

void KeyValue::raise_query_floor(std::string_view key, const Version& version) {
  if (query_of_key_.empty()) return;
  if (auto q = query_of_key_.find(std::string(key)); q != query_of_key_.end()) {
    Query& query = queries_.at(q->second);
    CKV_ASSERT(query.key == key, "query_of_key_ maps a key to the read of that key");
    query.floor = std::max(query.floor, version);
  }
}

std::optional<Version> KeyValue::apply_invalidation(MonoTime now, std::string_view key,
                                                    const Version& version) {
  raise_query_floor(key, version);
  Record record;
  Result<bool> found = load(key, record);
  if (!found.ok()) {
    stats_.store_errors++;
    return std::nullopt;
  }
  if (!found.value()) return std::nullopt;
  if (record.version >= version) return record.version;
  record.kind = RecordKind::kInvalidated;
  record.version = version;
  record.value.clear();
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

bool KeyValue::sent_by(std::string_view name, const Address& from) const {
  const Member* m = membership_.members().find(name);
  return m != nullptr && m->addr == from;
}

bool KeyValue::is_member_address(const Address& addr) const {
  for (const Member& m : membership_.members()) {
    if (m.addr == addr && m.name.view() != membership_.name()) return true;
  }
  return false;
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
    r.answer = answer_of(record.kind);
    r.version = record.version;
    r.value = std::move(record.value);
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
    if (beats(kind_of(m.answer), m.version, q.best)) {
      q.best = Candidate{kind_of(m.answer), m.version, std::move(m.value)};
    }
  }
  maybe_complete(now, q, false);
}

// --- cluster reads ----------------------------------------------------------------------

bool KeyValue::beats(RecordKind kind, const Version& version,
                     const std::optional<Candidate>& best) {
  if (!best || version > best->version) return true;
  return version == best->version && best->kind == RecordKind::kInvalidated &&
         kind != RecordKind::kInvalidated;
}

Duration KeyValue::default_timeout() const {
  if (config_.query_timeout > Duration(0)) return config_.query_timeout;
  const double n = static_cast<double>(membership_.members().active_count());
  const auto scale = static_cast<int64_t>(std::ceil(std::log10(n + 1)));
  return membership_config_.gossip_interval * 16 * std::max<int64_t>(1, scale);
}

void KeyValue::start_query(Now now, std::string key, uint64_t request, Duration timeout) {
  if (auto existing = query_of_key_.find(key); existing != query_of_key_.end()) {
    // One read serves both; members still silent are asked again now rather than at the
    // older read's backed-off retry.
    // The answers gathered so far may predate this get (a write it follows may have been
    // acknowledged since): it is answered from the next round of questions.
    Query& q = queries_.at(existing->second);
    CKV_ASSERT(q.key == key, "the read found for a key is that key's");
    q.requests.push_back(Waiter{request, now.mono + timeout, q.rounds + 1});
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
    reply_error(request, ClientOp::kGet, "too many cluster reads in flight; retry later");
    return;
  }
  stats_.gets_remote++;
  const uint64_t id = next_query_id_++;
  Query q{id,
          key,
          {Waiter{request, now.mono + timeout, 1}},
          now.mono,
          now.mono + config_.query_retry,
          config_.query_retry};
  q.epoch = epoch_;
  Record local;
  Result<bool> found = load(key, local);
  if (found.ok() && found.value()) {
    q.best = Candidate{local.kind, local.version, std::move(local.value)};
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
  if (found.ok() && found.value() && beats(local.kind, local.version, q.best)) {
    q.best = Candidate{local.kind, local.version, std::move(local.value)};
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
    Record local;
    Result<bool> found = load(q.key, local);
    if (!found.ok() || !found.value() || local.version <= q.best->version) {
      // Current only if every member answered and no gap opened while they did.
      const bool current = complete && q.epoch == epoch_;
      Record record{q.best->kind, q.best->version, current ? epoch_ : 0, q.best->value};
      supersede(now, q.key, record);
    }
    r.version = q.best->version;
    if (q.best->kind == RecordKind::kValue) {
      r.status = ReplyStatus::kOk;
      r.value = q.best->value;
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
    each.rounds = q.rounds >= waiters[i].round ? q.rounds - waiters[i].round + 1 : 1;
    reply(std::move(each));
  }
}

MonoTime KeyValue::earliest_deadline(const Query& q) {
  MonoTime t = kNever;
  for (const Waiter& w : q.requests)
    t = std::min(t, w.deadline);
  return t;
}

void KeyValue::on_member_change(Now now, const MemberChange& change) {
  // Reads do not wait for gone members to appear; a member that is back is waited for.
  const bool active_now = !change.reaped && (change.to_state == MemberState::kAlive ||
                                             change.to_state == MemberState::kSuspect);
  if (change.name != membership_.name()) {
    if (active_now) {
      if (!gone_writers_.empty()) gone_writers_.erase(node_id(change.name));
    } else {
      if (gone_writers_.size() >= kMaxGoneWriters) gone_writers_.clear();
      gone_writers_.insert(node_id(change.name));
    }
  }
  if (change.to_state == MemberState::kAlive || change.to_state == MemberState::kSuspect) {
    if (!change.reaped) {
      // A member that appears or comes back may lack our invalidations, or not know this
      // log yet: feed it, or announce the log, now.
      resend_at_ = std::min(resend_at_, now.mono);
      if (change.from_state == MemberState::kDead || change.from_state == MemberState::kLeft) {
        // (A new member comes "from dead" too.) Our log forgot it when it went, or never
        // knew it: announce the log to it until it acknowledges.
        if (change.name != membership_.name()) log_.track(change.name);
        // Copies confirmed while it was away never heard its answer: confirm them again.
        bump_or_owe(now.mono);
        // Reads in flight ask it too: it may hold the newest version.
        if (change.name != membership_.name()) join_reads(now.mono, change.name);
      }
      return;
    }
  }
  // Gone (dead, left or reaped): reads stop waiting for it, and its log follower state
  // goes (should it come back, it starts over from our log's start, or a reset).
  log_.forget(change.name);
  if (!resetting_.empty()) resetting_.erase(change.name);
  const bool was_active =
      change.from_state == MemberState::kAlive || change.from_state == MemberState::kSuspect;
  // A member held dead that lived again unseen (it is reported dead at a newer
  // incarnation, or it announces its leave, which it can only do alive): what it wrote
  // in that life never reached us either.
  const bool unseen_life =
      !was_active &&
      (change.to_incarnation > change.from_incarnation ||
       (change.from_state == MemberState::kDead && change.to_state == MemberState::kLeft));
  if ((was_active || unseen_life) && !change.reaped && change.name != membership_.name()) {
    // Invalidations it sent that never reached us will now never come: revalidate.
    bump_or_owe(now.mono);
  }
  for (auto& [id, q] : queries_) {
    auto w = std::find(q.waiting.begin(), q.waiting.end(), change.name);
    if (w != q.waiting.end()) {
      q.waiting.erase(w);
      unsettled_reads_.push_back(id);  // settle_reads completes it if nobody else is left
    }
  }
  if (change.reaped) origins_.erase(change.name);
}

void KeyValue::settle_reads(Now now) {
  std::vector<uint64_t> ids;
  ids.swap(unsettled_reads_);
  for (uint64_t id : ids) {
    if (auto it = queries_.find(id); it != queries_.end()) maybe_complete(now, it->second, false);
  }
}

void KeyValue::join_reads(MonoTime now, const std::string& member) {
  for (auto& [id, q] : queries_) {
    if (std::find(q.waiting.begin(), q.waiting.end(), member) == q.waiting.end()) {
      ask_too(now, q, member);
    }
  }
}

void KeyValue::remember_newer(MonoTime now, std::string_view key, const Version& version) {
  Record record;
  Result<bool> found = load(key, record);
  if (!found.ok()) {
    stats_.store_errors++;
    return;
  }
  if (found.value() && record.version >= version) return;
  supersede(now, key, Record{RecordKind::kInvalidated, version, 0, {}});
}

bool KeyValue::supersede(MonoTime now, std::string_view key, const Record& record) {
  if (store_.put(key, record).ok()) {
    if (!unstored_.empty()) unstored_.erase(std::string(key));
    return true;
  }
  stats_.store_errors++;
  // The copy the store still holds may be confirmed current: a new epoch (owed, if the
  // store refuses that too) stops it being served before the cluster confirms it again.
  bump_or_owe(now);
  // Nor may anything older than this version be answered again, current or not: keep a
  // marker of it in memory until the store takes one.
  if (auto it = unstored_.find(key); it != unstored_.end()) {
    it->second = std::max(it->second, record.version);
  } else if (unstored_.size() < kMaxUnstored) {
    unstored_.emplace(std::string(key), record.version);
  }
  return false;
}

Result<bool> KeyValue::load(std::string_view key, Record& out) {
  Result<bool> found = store_.get(key, out);
  if (!found.ok() || unstored_.empty()) return found;
  auto it = unstored_.find(key);
  if (it == unstored_.end() || (found.value() && out.version >= it->second)) return found;
  out = Record{RecordKind::kInvalidated, it->second, 0, {}};
  return true;
}

void KeyValue::store_unstored() {
  for (auto it = unstored_.begin(); it != unstored_.end();) {
    Record held;
    Result<bool> found = store_.get(it->first, held);
    if (!found.ok()) return;
    if (!found.value() || held.version < it->second) {
      if (!store_.put(it->first, Record{RecordKind::kInvalidated, it->second, 0, {}}).ok()) return;
    }
    it = unstored_.erase(it);
  }
}

// --- timers -----------------------------------------------------------------------------

void KeyValue::on_timer(Now now) {
  if (!held_reads_.empty()) release_held_reads(now);
  if (now.mono >= epoch_retry_at_) bump_or_owe(now.mono);
  if (now.mono >= held_until_) release_held_writes(now);
  if (now.mono >= flush_at_ || now.mono >= resend_at_) {
    flush_at_ = kNever;
    flush_invalidations(now.mono);
  }
  std::vector<uint64_t> due;
  for (auto& [id, q] : queries_) {
    if (now.mono >= q.next_retry || now.mono >= earliest_deadline(q) ||
        now.mono >= q.parked_until) {
      due.push_back(id);
    }
  }
  for (uint64_t id : due) {
    auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    Query& q = it->second;
    if (now.mono >= q.next_retry && !q.waiting.empty()) {
      stats_.query_retries++;
      ask(q, q.waiting);
      q.last_ask = now.mono;
      q.retry_every = std::min(q.retry_every * 2, 4 * config_.query_retry);
      q.next_retry = now.mono + q.retry_every;
    }
    if (q.waiting.empty() && now.mono >= q.parked_until) {
      maybe_complete(now, q, false);  // waited long enough for an unknown writer
      continue;
    }
    std::vector<Waiter> expired;
    for (const Waiter& w : q.requests) {
      if (now.mono >= w.deadline) expired.push_back(w);
    }
    if (expired.empty()) continue;
    if (expired.size() == q.requests.size()) {
      maybe_complete(now, q, true);
      continue;
    }
    // Some gets joined later and have time left: answer the expired ones, keep asking.
    stats_.query_timeouts++;
    merge_local(q);
    conclude(now.mono, q, false, expired);
    std::erase_if(q.requests, [&](const Waiter& w) { return now.mono >= w.deadline; });
    CKV_ASSERT(!q.requests.empty(), "gets with time left keep the read going");
  }
}

MonoTime KeyValue::next_deadline() const {
  MonoTime next = std::min({flush_at_, resend_at_, held_until_, epoch_retry_at_});
  // Held reads run as soon as the node has joined (a deadline already passed: at once).
  for (const HeldRead& r : held_reads_)
    next = std::min(next, membership_.joined() ? MonoTime{} : r.until);
  for (const auto& [id, q] : queries_) {
    next = std::min(next, earliest_deadline(q));
    if (!q.waiting.empty()) next = std::min(next, q.next_retry);
    if (q.waiting.empty()) next = std::min(next, q.parked_until);
  }
  return next;
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
      size += entry;
      ++s;
    }
    CKV_ASSERT(!m.entries.empty() && m.first_seq + m.entries.size() == s,
               "each chunk carries contiguous sequence numbers, at least one");
    stats_.invalidations_sent += m.entries.size();
    send(to, fits_datagram ? Channel::kDatagram : Channel::kStream, m);
  }
}

void KeyValue::send(const Address& to, Channel channel, const wire::Message& m) {
  std::vector<uint8_t> packet;
  wire::begin_packet(packet);
  wire::append_frame(packet, m);
  (channel == Channel::kStream ? stats_.streams_sent : stats_.datagrams_sent)++;
  stats_.bytes_sent += packet.size();
  out_.sends.push_back(Send{to, channel, std::move(packet)});
}

void KeyValue::reply(Reply r) {
  out_.replies.push_back(std::move(r));
}

void KeyValue::reply_error(uint64_t request, ClientOp op, std::string why) {
  reply(Reply{request, op, ReplyStatus::kError, {}, {}, std::move(why)});
}

}  // namespace ckv
