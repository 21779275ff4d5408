#include "kernel/kv/key_value.h"

#include <algorithm>

#include "kernel/core/assert.h"
#include "kernel/core/enum_names.h"
#include "kernel/wire/codec.h"

// KeyValue, part one: client operations and writes, epochs, member changes, timers and
// the store. The invalidation protocol is in invalidations.cpp, cluster reads in
// cluster_read.cpp (see key_value.h for the design).

namespace ckv {

namespace {

// Markers the store refused, kept in memory until it takes them (see supersede).
constexpr size_t kMaxUnstored = 4096;

}  // namespace

constexpr auto kReplyStatusNames =
    name_table({"ok", "not-found", "timeout", "error", "precondition-failed"});
static_assert(kReplyStatusNames.size() == kReplyStatusCount, "one name per value");

const char* to_string(ReplyStatus status) {
  return name_of(kReplyStatusNames, status);
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
  // The store may take no writes (a full disk): start anyway, serving nothing from local
  // copies until the new epoch is stored (owed, as after a gap; on_timer retries it).
  // Meanwhile the epoch number stays the last run's: copies confirmed in it are never
  // served, and none confirmed now outlives the bump.
  const bool epoch_stored = store.put_meta(MetaKey::kEpoch, next_epoch).ok();
  std::unique_ptr<KeyValue> kv(
      new KeyValue(config, membership_config, membership, store, seed, ceiling.value(),
                   epoch_stored ? next_epoch : std::max<uint64_t>(1, epoch.value()), out, stats));
  if (!epoch_stored) {
    stats.store_errors++;
    kv->epoch_owed_ = true;
    kv->epoch_retry_at_ = MonoTime{};
  }
  if (Status counted = kv->count_values(); !counted.ok()) return counted.error();
  Result<uint64_t> contact = store.get_meta(MetaKey::kLastContact);
  if (!contact.ok()) return contact.error();
  kv->last_probed_us_ = contact.value();
  kv->last_contact_saved_us_ = contact.value();
  kv->had_peer_ = contact.value() != 0;
  Result<uint64_t> paused = store.get_meta(MetaKey::kCollectPausedUntil);
  if (!paused.ok()) return paused.error();
  kv->collect_paused_until_us_ = paused.value();
  return kv;
}

Status KeyValue::count_values() {
  if (!bound_.enabled()) return {};
  // Copies are evicted in key order until reads and fills order them.
  bound_.clear();
  Status counted = store_.for_each([&](std::string_view key, const Record& record) {
    bound_.on_change(key, nullptr, &record);
    return true;
  });
  if (!counted.ok()) return counted;
  if (bound_.over()) evict_copies();  // (the bound was lowered since)
  return {};
}

void KeyValue::on_commit_failed(Now now) {
  stats_.commit_failures++;
  // The gate dropped the events of the lost batch; what the feed gave since may not hold.
  feed_.reset(out_.events);
  // The records it counted of the lost batch are not in the store.
  if (!count_values().ok()) stats_.store_errors++;
  // The kernel acted on a batch the store did not keep, and what it did lives in memory:
  // its log's entries of writes that were not stored (their datagrams were dropped), what
  // it applied of others' logs (the markers were lost with the batch, the acks dropped),
  // reads that merged a record that was never stored. Start those over as a restarted
  // process would, keeping membership, the clock and the markers held in memory.
  log_ = InvalidationLog(rng_.next() | 1, config_.log_entries, config_.log_bytes);
  for (const Member& m : membership_.members()) {
    // The new log announces itself: every member revalidates its copies, so no write
    // acknowledged before whose invalidation was still in flight goes unnoticed.
    if (m.active() && m.name.view() != membership_.name()) log_.track(m.name.view());
  }
  flush_at_ = kNever;
  resend_at_ = now.mono;
  origins_.clear();  // each origin's next message starts a new epoch
  resetting_.clear();
  bump_or_owe(now.mono);
  // Reads in flight start again, each with what is left of its timeout.
  std::vector<std::pair<std::string, Waiter>> reads;
  for (auto& [id, q] : queries_) {
    for (const Waiter& w : q.requests) {
      if (w.request < kInternalRequest) reads.emplace_back(q.key, w);
    }
  }
  queries_.clear();
  query_of_key_.clear();
  unsettled_reads_.clear();
  // Conditional writes being decided end: a decision may rest on a write that was lost.
  internal_replies_.clear();
  abandon_decisions();
  for (auto& [key, w] : reads) {
    const Duration left = std::max<Duration>(std::chrono::milliseconds(1), w.deadline - now.mono);
    read(now, w.request, key, left);
  }
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
      wall_floor_us_(clock_ceiling),
      bound_(node_id(membership.name()), config.max_data_bytes),
      feed_(config.max_feed_keys),
      hold_writes_until_us_(clock_ceiling),
      epoch_(epoch),
      log_(rng_.next() | 1, config.log_entries, config.log_bytes),
      next_query_id_(rng_.next() >> 1),
      // Random starts, as for query ids: a restarted node must not take an answer meant
      // for its previous process (a forwarded write's result, a listing's records) as its own.
      next_forward_id_(rng_.next() >> 1),
      next_listing_id_(rng_.next() >> 1) {}

// --- client operations ------------------------------------------------------------------

void KeyValue::observe(Now now) {
  const int64_t wall_us = now.wall.time_since_epoch().count();
  if (wall_us > 0) wall_floor_us_ = std::max(wall_floor_us_, static_cast<uint64_t>(wall_us));
  last_input_ = std::max(last_input_, now.mono);
  if (joined_at_ == kNever && membership_.joined()) joined_at_ = now.mono;
  check_contact(now, /*request=*/false);
}

void KeyValue::get(Now now, uint64_t request, std::string_view key,
                   std::optional<Duration> timeout) {
  observe(now);
  stats_.gets++;
  if (key.empty() || key.size() > config_.max_key_bytes) {
    reply_error(request, ClientOp::kGet,
                Error{ErrorCode::kInvalidArgument,
                      "key must have 1 to " + std::to_string(config_.max_key_bytes) + " bytes"});
    return;
  }
  if (!membership_.joined()) {
    if (held_reads_.size() >= config_.max_pending_queries) {
      reply_error(request, ClientOp::kGet,
                  Error{ErrorCode::kUnavailable,
                        "too many reads waiting for the node to join; retry later"});
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
  bool expired_now = false;
  Result<bool> found = load(key, local, &expired_now);
  if (!found.ok()) {
    stats_.store_errors++;
    reply_error(request, ClientOp::kGet, found.error());
    return;
  }
  if (expired_now) {
    // Keep the 404 it is now: the tombstone outlives the expiry clock (a restart with the
    // wall clock stepped back), and frees the value's bytes.
    stats_.values_expired++;
    supersede(now.mono, key, local);
  }
  Reply r{request, ClientOp::kGet};
  if (found.value() && answer_locally(local, serving_epoch(), wall_floor_us_, r)) {
    bound_.touch(key);
    stats_.gets_local++;
    reply(std::move(r));
    return;
  }
  Duration wait = timeout.value_or(default_timeout());
  wait = std::clamp<Duration>(wait, std::chrono::milliseconds(1), config_.max_query_timeout);
  start_query(now, std::string(key), request, wait, found.value() ? &local : nullptr);
}

bool KeyValue::answer_locally(Record& local, uint64_t epoch, uint64_t wall_us, Reply& out) {
  if (epoch == 0 || local.kind == RecordKind::kInvalidated || local.validated_epoch != epoch) {
    return false;  // epoch 0: nothing is current (no copy confirmed in it counts)
  }
  out.version = local.version;
  if (local.kind == RecordKind::kValue && !expired(local, wall_us)) {
    out.status = ReplyStatus::kOk;
    out.value = std::move(local.value);
    out.expires_us = local.expires_us;
    out.content = std::move(local.content);
  } else {
    out.status = ReplyStatus::kNotFound;
  }
  return true;
}

void KeyValue::put(Now now, uint64_t request, std::string_view key, std::string value,
                   std::optional<Duration> ttl, ContentType content) {
  observe(now);
  stats_.puts++;
  if (!valid_content_type(content)) {
    reply_error(request, ClientOp::kPut,
                Error{ErrorCode::kInvalidArgument,
                      "content type and encoding must each be at most " +
                          std::to_string(kMaxContentTypeBytes) +
                          " bytes of printable ASCII (inner spaces and tabs allowed)"});
    return;
  }
  if (!ttl && config_.default_ttl > Duration(0)) ttl = config_.default_ttl;
  if (ttl && (*ttl <= Duration(0) || *ttl > config_.max_ttl)) {
    reply_error(request, ClientOp::kPut,
                Error{ErrorCode::kInvalidArgument,
                      "ttl must be positive and at most " +
                          std::to_string(config_.max_ttl.count() / 1'000'000) + " s"});
    return;
  }
  const uint64_t expires_us = ttl ? wall_floor_us_ + static_cast<uint64_t>(ttl->count()) : 0;
  write(now, request, ClientOp::kPut, key, std::move(value), expires_us, std::move(content));
}

void KeyValue::erase(Now now, uint64_t request, std::string_view key) {
  observe(now);
  stats_.deletes++;
  write(now, request, ClientOp::kDelete, key, {}, 0, {});
}

void KeyValue::write(Now now, uint64_t request, ClientOp op, std::string_view key,
                     std::string value, uint64_t expires_us, ContentType content) {
  auto fail = [&](Error why) { reply_error(request, op, std::move(why)); };
  if (key.empty() || key.size() > config_.max_key_bytes) {
    return fail(Error{ErrorCode::kInvalidArgument,
                      "key must have 1 to " + std::to_string(config_.max_key_bytes) + " bytes"});
  }
  if (value.size() > config_.max_value_bytes) {
    return fail(
        Error{ErrorCode::kOversized,
              "value is larger than " + std::to_string(config_.max_value_bytes) + " bytes"});
  }
  const int64_t wall_us = now.wall.time_since_epoch().count();
  if (wall_us < static_cast<int64_t>(hold_writes_until_us_) || !held_writes_.empty()) {
    if (held_writes_.size() >= config_.max_pending_queries) {
      return fail(
          Error{ErrorCode::kUnavailable, "too many writes waiting for the clock; retry later"});
    }
    held_writes_.push_back(
        HeldWrite{request, op, std::string(key), std::move(value), expires_us, std::move(content)});
    const Duration wait(
        std::max<int64_t>(0, static_cast<int64_t>(hold_writes_until_us_) - wall_us));
    held_until_ = std::min(held_until_, now.mono + wait);
    return;
  }
  Record existing;
  Result<bool> found = load(key, existing);
  if (!found.ok()) {
    stats_.store_errors++;
    return fail(found.error());
  }
  if (bound_.enabled() && op == ClientOp::kPut) {
    // Own writes are never evicted (they may be the only copy): one that would pass the
    // bound is refused; copies make room for one that fits.
    Record raw;
    Result<bool> stored = store_.get(key, raw);
    const bool replaces_own = stored.ok() && stored.value() && raw.kind == RecordKind::kValue &&
                              raw.version.node == clock_.last().node;
    if (!bound_.own_write_fits(replaces_own ? raw.value.size() : 0, value.size())) {
      stats_.writes_refused_full++;
      return fail(Error{ErrorCode::kNoSpace,
                        "this node's own writes hold " + std::to_string(bound_.own_bytes()) +
                            " of the " + std::to_string(bound_.max_bytes()) +
                            " bytes of values it may keep (--max-data-mb); copies of others' "
                            "writes are evicted first, its own never: delete keys or raise "
                            "the bound"});
    }
  }
  // The new version must beat whatever this node holds, even a marker of a version from
  // a node whose clock runs ahead.
  if (found.value()) clock_.witness(existing.version);
  if (clock_.needs_lease(now.wall, clock_ceiling_)) {
    const uint64_t ceiling = clock_.next_ceiling(now.wall);
    if (Status s = store_.put_meta(MetaKey::kClockCeiling, ceiling); !s.ok()) {
      stats_.store_errors++;
      return fail(s.error());
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
  record.expires_us = expires_us;
  record.content = std::move(content);
  if (Status s = store_put(key, record); !s.ok()) {
    stats_.store_errors++;
    return fail(s.error());
  }
  if (!unstored_.empty()) unstored_.erase(std::string(key));  // beaten by this write
  announce(now.mono, key, version,
           op == ClientOp::kDelete ? wire::EntryWrite{wire::EntryKind::kDelete, 0}
                                   : wire::EntryWrite{wire::EntryKind::kPut, expires_us});
  feed_.on_change(key, version,
                  op == ClientOp::kDelete ? ChangeEvent::Kind::kDelete : ChangeEvent::Kind::kPut,
                  out_.events, expires_us);
  // A read of this key in flight must not install anything older than this write. (The
  // store already holds the write itself: nothing there to drop.)
  raise_query_floor(key, version);
  Reply done{request, op, ReplyStatus::kOk, version};
  done.expires_us = expires_us;
  reply(std::move(done));
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
    write(now, w.request, w.op, w.key, std::move(w.value), w.expires_us, std::move(w.content));
  }
}

// --- messages ---------------------------------------------------------------------------

void KeyValue::handle(Now now, const Address& from, Channel, wire::Message&& message) {
  observe(now);
  // A node back from a long absence drops its old records before it answers anyone.
  if (std::holds_alternative<wire::Query>(message) ||
      std::holds_alternative<wire::ListKeys>(message) ||
      std::holds_alternative<wire::CollectCheck>(message)) {
    check_contact(now, /*request=*/true);
  }
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
        } else if constexpr (std::is_same_v<T, wire::CollectCheck>) {
          on_collect_check(now.mono, from, m);
        } else if constexpr (std::is_same_v<T, wire::CollectAck>) {
          on_collect_ack(now.mono, from, m);
        } else if constexpr (std::is_same_v<T, wire::CondWrite>) {
          on_cond_write(now, from, std::move(m));
        } else if constexpr (std::is_same_v<T, wire::CondResult>) {
          on_cond_result(now.mono, from, m);
        } else if constexpr (std::is_same_v<T, wire::ListKeys>) {
          on_list_keys(from, m);
        } else if constexpr (std::is_same_v<T, wire::ListKeysReply>) {
          on_list_keys_reply(now, from, std::move(m));
        }
      },
      message);
}

const Member* KeyValue::active_member(std::string_view name) const {
  const Member* m = membership_.members().find(name);
  return m != nullptr && m->active() && name != membership_.name() ? m : nullptr;
}

Status KeyValue::bump_epoch() {
  if (Status s = store_.put_meta(MetaKey::kEpoch, epoch_ + 1); !s.ok()) {
    stats_.store_errors++;
    return s;
  }
  epoch_++;
  stats_.epoch_bumps++;
  feed_.reset(out_.events);  // a gap may have opened: watchers re-read
  epoch_owed_ = false;       // any bump closes every gap opened before it
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
  epoch_owed_ = true;  // serving_epoch() is 0 until a bump is stored
  epoch_retry_at_ = now + config_.resend_interval;
  feed_.reset(out_.events);
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

void KeyValue::on_member_change(Now now, const MemberChange& change) {
  collection_member_change(now, change);
  conditional_member_change(now, change);
  listing_member_change(change);
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
        // Copies of its writes kept while it was gone may be evicted again.
        if (!evicting_ && bound_.over()) evict_copies();
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
  if (store_put(key, record).ok()) {
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

Status KeyValue::store_put(std::string_view key, const Record& record) {
  if (!bound_.enabled()) return store_.put(key, record);
  Record before;
  Result<bool> had = store_.get(key, before);
  if (!had.ok()) return had.error();
  if (Status s = store_.put(key, record); !s.ok()) return s;
  bound_.on_change(key, had.value() ? &before : nullptr, &record);
  if (bound_.over() && !evicting_) evict_copies();
  return {};
}

void KeyValue::evict_copies() {
  evicting_ = true;
  // Each copy is offered once (an offered copy becomes the most recent). Copies of writes
  // whose writer is not an active member may be the last copy anywhere: they are kept, as
  // own writes are.
  for (size_t tries = bound_.copies(); bound_.over() && tries > 0; --tries) {
    std::optional<std::string> key = bound_.oldest_copy();
    if (!key) break;  // own writes alone fill the bound
    Record copy;
    Result<bool> found = store_.get(*key, copy);
    if (!found.ok() || !found.value() || copy.kind != RecordKind::kValue) {
      bound_.forget_copy(*key);  // (nothing to evict: no longer a value there)
      continue;
    }
    if (!writer_active(copy.version.node)) continue;
    const Record marker{RecordKind::kInvalidated, copy.version, 0, {}};
    if (!store_.put(*key, marker).ok()) {
      stats_.store_errors++;
      break;  // evicted by a later write
    }
    bound_.on_change(*key, &copy, &marker);
    stats_.copies_evicted++;
  }
  evicting_ = false;
}

bool KeyValue::writer_active(uint64_t writer) const {
  for (const Member& m : membership_.members()) {
    if (m.active() && node_id(m.name.view()) == writer) return true;
  }
  return false;
}

Result<bool> KeyValue::load(std::string_view key, Record& out, bool* expired_now) {
  Result<bool> found = store_.get(key, out);
  if (found.ok() && found.value() && expired(out, wall_floor_us_)) {
    out.kind = RecordKind::kTombstone;  // the same version: it still beats older copies
    out.value.clear();
    out.expires_us = 0;
    out.content = {};
    if (expired_now != nullptr) *expired_now = true;
  }
  if (!found.ok() || unstored_.empty()) return found;
  auto it = unstored_.find(key);
  // (A marker at the very version of a value it holds says that value is gone there: it
  // expired, by some node's clock, and the store refused the tombstone.)
  if (it == unstored_.end() ||
      (found.value() && (out.version > it->second ||
                         (out.version == it->second && out.kind != RecordKind::kValue)))) {
    return found;
  }
  out = Record{RecordKind::kInvalidated, it->second, 0, {}};
  if (expired_now != nullptr) *expired_now = false;
  return true;
}

void KeyValue::store_unstored() {
  for (auto it = unstored_.begin(); it != unstored_.end();) {
    Record held;
    Result<bool> found = store_.get(it->first, held);
    if (!found.ok()) return;
    if (!found.value() || held.version < it->second) {
      if (!store_put(it->first, Record{RecordKind::kInvalidated, it->second, 0, {}}).ok()) return;
    }
    it = unstored_.erase(it);
  }
}

// --- timers -----------------------------------------------------------------------------

void KeyValue::on_timer(Now now) {
  observe(now);
  feed_.on_clock(wall_floor_us_, out_.events);
  if (!held_reads_.empty()) release_held_reads(now);
  if (now.mono >= epoch_retry_at_) bump_or_owe(now.mono);
  if (now.mono >= held_until_) release_held_writes(now);
  collection_timer(now);
  conditional_timer(now);
  listing_timer(now);
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
  run_internal_replies(now);
}

MonoTime KeyValue::next_deadline() const {
  MonoTime next = std::min({flush_at_, resend_at_, held_until_, epoch_retry_at_});
  if (collect_) {
    next = std::min({next, collect_->resend_at, collect_->give_up_at});
  } else if (config_.tombstone_horizon > Duration(0)) {
    next = std::min(next, collect_at_);
  }
  // Held reads run as soon as the node has joined (a deadline already passed: at once).
  for (const HeldRead& r : held_reads_)
    next = std::min(next, membership_.joined() ? MonoTime{} : r.until);
  for (const auto& [id, q] : queries_) {
    next = std::min(next, earliest_deadline(q));
    if (!q.waiting.empty()) next = std::min(next, q.next_retry);
    if (q.waiting.empty()) next = std::min(next, q.parked_until);
  }
  for (const auto& [id, l] : listings_)
    next = std::min(next, l.deadline);
  if (const uint64_t expiry = feed_.next_expiry_us(); expiry != 0) {
    // The expiry clock, moved on by inputs, read as of the last one.
    const uint64_t left = expiry > wall_floor_us_ ? expiry - wall_floor_us_ : 0;
    next = std::min(next, last_input_ + Duration(static_cast<int64_t>(left)));
  }
  return std::min(next, conditional_deadline());
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
  if (r.request >= kInternalRequest) {
    internal_replies_.push_back(
        std::move(r));  // a decision's read or write: see run_internal_replies
    return;
  }
  out_.replies.push_back(std::move(r));
}

void KeyValue::reply_error(uint64_t request, ClientOp op, Error why) {
  Reply r{request, op, ReplyStatus::kError, {}, {}, std::move(why.detail)};
  r.code = why.code;
  reply(std::move(r));
}

}  // namespace ckv
