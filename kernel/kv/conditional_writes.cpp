#include <algorithm>

#include "kernel/core/assert.h"
#include "kernel/core/random.h"
#include "kernel/kv/key_value.h"

// KeyValue, part five: conditional writes (If-Match, If-None-Match), decided by each key's
// owner one at a time (see key_value.h and docs/kv-protocol.md, "Conditional writes").
//
// A client's conditional write on node X: X finds the key's owner by its view. If it is X
// (and X may decide now), X queues it for the key; if X is the owner but within a hand-off
// wait, it queues it too and starts it when the wait ends; else X forwards it (CondWrite,
// stream channel) and answers the client when the CondResult comes, or "unavailable" at
// cas_timeout or when the owner leaves X's view. The owner decides the front of a key's
// queue: a cluster read of the key with an internal request id (never answered from a
// local copy), whose reply run_internal_replies takes; then the condition; then the write
// (also under an internal id), whose reply ends the decision and starts the next.

namespace ckv {

bool WriteCondition::holds(bool exists, const Version& version) const {
  const bool listed =
      exists && std::find(versions.begin(), versions.end(), version) != versions.end();
  switch (kind) {
    case Kind::kNone:
      return true;
    case Kind::kAbsent:
      return !exists;
    case Kind::kExists:
      return exists;
    case Kind::kMatch:
      return listed;
    case Kind::kNotMatch:
      return !listed;
  }
  return false;
}

uint64_t KeyValue::owner_score(std::string_view key, std::string_view node) {
  uint64_t state = fnv1a(key) ^ node_id(node);
  return splitmix64(state);
}

std::string_view KeyValue::owner_of(std::string_view key) const {
  std::string_view best = membership_.name();
  uint64_t best_score = owner_score(key, best);
  for (const Member& m : membership_.members()) {
    if (!m.active() || m.name.view() == membership_.name()) continue;
    const uint64_t score = owner_score(key, m.name.view());
    if (score > best_score || (score == best_score && m.name.view() > best)) {
      best = m.name.view();
      best_score = score;
    }
  }
  return best;
}

bool KeyValue::may_decide(MonoTime now, std::string_view key, MonoTime* wait_until) const {
  MonoTime until = joined_at_ == kNever ? kNever : joined_at_ + config_.cas_handoff;
  const uint64_t mine = owner_score(key, membership_.name());
  for (const auto& [name, at] : recently_gone_) {
    // It outranked this node for the key: it may still be deciding, or others may still
    // hold it active and send it the key's writes.
    if (owner_score(key, name) >= mine) until = std::max(until, at + config_.cas_handoff);
  }
  if (wait_until != nullptr) *wait_until = until;
  return now >= until;
}

void KeyValue::write_if(Now now, uint64_t request, std::string_view key, bool erase,
                        std::string value, std::optional<Duration> ttl, WriteCondition condition,
                        ContentType content) {
  observe(now);
  const ClientOp op = erase ? ClientOp::kDelete : ClientOp::kPut;
  CKV_ASSERT(request < kInternalRequest, "drivers' request ids stay below the kernel's own");
  (erase ? stats_.deletes : stats_.puts)++;
  stats_.cond_writes++;
  auto fail = [&](ErrorCode code, std::string why) {
    if (code == ErrorCode::kUnavailable) stats_.cond_unavailable++;
    reply_error(request, op, Error{code, std::move(why)});
  };
  if (key.empty() || key.size() > config_.max_key_bytes) {
    return fail(ErrorCode::kInvalidArgument,
                "key must have 1 to " + std::to_string(config_.max_key_bytes) + " bytes");
  }
  if (value.size() > config_.max_value_bytes) {
    return fail(ErrorCode::kOversized,
                "value is larger than " + std::to_string(config_.max_value_bytes) + " bytes");
  }
  if (!valid_content_type(content) || (erase && !content.empty())) {
    return fail(ErrorCode::kInvalidArgument,
                "content type and encoding must each be at most " +
                    std::to_string(kMaxContentTypeBytes) +
                    " bytes of printable ASCII, and a delete has none");
  }
  if (!ttl && !erase && config_.default_ttl > Duration(0)) ttl = config_.default_ttl;
  if (ttl && (*ttl <= Duration(0) || *ttl > config_.max_ttl)) {
    return fail(ErrorCode::kInvalidArgument,
                "ttl must be positive and at most " +
                    std::to_string(config_.max_ttl.count() / 1'000'000) + " s");
  }
  if (condition.kind == WriteCondition::Kind::kNone ||
      condition.versions.size() > WriteCondition::kMaxVersions) {
    return fail(ErrorCode::kInvalidArgument, "a conditional write needs a condition with at most " +
                                                 std::to_string(WriteCondition::kMaxVersions) +
                                                 " versions");
  }
  if (!membership_.joined()) {
    return fail(ErrorCode::kUnavailable,
                "this node has not joined a cluster yet: it cannot tell who decides conditional "
                "writes of the key; retry later");
  }
  if (decisions_pending_ + forwarded_.size() >= config_.max_pending_queries) {
    return fail(ErrorCode::kUnavailable, "too many conditional writes in flight; retry later");
  }
  const std::string_view owner = owner_of(key);
  if (owner == membership_.name()) {
    Decision d;
    d.request = request;
    d.op = op;
    d.condition = std::move(condition);
    d.value = std::move(value);
    d.content = std::move(content);
    d.ttl = ttl;
    d.deadline = now.mono + config_.cas_timeout;
    enqueue_decision(now, std::string(key), std::move(d));
    run_internal_replies(now);  // a cluster of one decides at once
    return;
  }
  const Member* m = active_member(owner);
  CKV_ASSERT(m != nullptr, "an owner other than this node is an active member");
  const uint64_t id = next_forward_id_++;
  wire::CondWrite w;
  w.id = id;
  w.origin = std::string(membership_.name());
  w.key = std::string(key);
  w.erase = erase;
  w.condition = std::move(condition);
  w.ttl_us = ttl ? static_cast<uint64_t>(ttl->count()) : 0;
  w.content = std::move(content);
  w.value = std::move(value);
  send(m->addr, Channel::kStream, w);
  stats_.cond_writes_forwarded++;
  forwarded_.emplace(id, Forwarded{request, op, std::string(key), std::string(owner),
                                   now.mono + config_.cas_timeout});
}

void KeyValue::on_cond_write(Now now, const Address& from, wire::CondWrite&& m) {
  const Member* origin = active_member(m.origin);
  if (origin == nullptr || origin->addr != from) return;  // not a member we know there
  auto refuse = [&](std::string why) {
    stats_.cond_unavailable++;
    wire::CondResult r;
    r.id = m.id;
    r.responder = std::string(membership_.name());
    r.outcome = wire::CondResult::Outcome::kError;
    r.code = ErrorCode::kUnavailable;
    r.error = std::move(why);
    send(from, Channel::kStream, r);
  };
  if (!membership_.joined() || owner_of(m.key) != membership_.name()) {
    return refuse("the owner of this key is changing (node " + std::string(membership_.name()) +
                  " does not own it by its view); retry");
  }
  if (m.key.size() > config_.max_key_bytes || m.value.size() > config_.max_value_bytes ||
      m.condition.kind == WriteCondition::Kind::kNone || !valid_content_type(m.content) ||
      m.ttl_us > static_cast<uint64_t>(config_.max_ttl.count())) {
    return refuse("the conditional write exceeds the owner's limits");
  }
  if (decisions_pending_ >= config_.max_pending_queries) {
    return refuse("too many conditional writes in flight at the owner; retry later");
  }
  Decision d;
  d.origin = m.origin;
  d.request = m.id;
  d.op = m.erase ? ClientOp::kDelete : ClientOp::kPut;
  d.condition = std::move(m.condition);
  d.value = std::move(m.value);
  d.content = std::move(m.content);
  if (m.ttl_us != 0) d.ttl = Duration(static_cast<int64_t>(m.ttl_us));  // at most max_ttl
  d.deadline = now.mono + config_.cas_timeout;
  enqueue_decision(now, std::move(m.key), std::move(d));
}

void KeyValue::on_cond_result(MonoTime now, const Address& from, const wire::CondResult& m) {
  auto it = forwarded_.find(m.id);
  if (it == forwarded_.end() || it->second.owner != m.responder) return;
  const Member* owner = active_member(m.responder);
  if (owner == nullptr || owner->addr != from) return;
  const Forwarded f = it->second;
  forwarded_.erase(it);
  Reply r{f.request, f.op};
  r.version = m.version;
  switch (m.outcome) {
    case wire::CondResult::Outcome::kWritten:
      r.status = ReplyStatus::kOk;
      r.expires_us = m.expires_us;
      // Read-your-writes here: the owner's invalidation may come after this answer, so
      // this node keeps a marker of the write now (reads in flight find it, and ask the
      // owner).
      raise_query_floor(f.key, m.version);
      remember_newer(now, f.key, m.version);
      clock_.witness(m.version);  // this node's next write of the key is stamped above it
      break;
    case wire::CondResult::Outcome::kFailed:
      r.status = ReplyStatus::kPreconditionFailed;
      break;
    case wire::CondResult::Outcome::kError:
      r.status = ReplyStatus::kError;
      r.code = m.code;
      r.error = "the key's owner " + m.responder + ": " + m.error;
      if (m.code == ErrorCode::kUnavailable) stats_.cond_unavailable++;
      break;
  }
  reply(std::move(r));
}

void KeyValue::enqueue_decision(Now now, std::string key, Decision d) {
  std::vector<Decision>& queue = decisions_[key];
  queue.push_back(std::move(d));
  decisions_pending_++;
  if (queue.size() == 1) start_decision(now, key);
}

void KeyValue::start_decision(Now now, const std::string& key) {
  auto it = decisions_.find(key);
  if (it == decisions_.end() || it->second.empty()) return;
  Decision& d = it->second.front();
  if (d.id != 0) return;  // already started
  if (owner_of(key) != membership_.name()) {
    Reply r{d.request, d.op, ReplyStatus::kError};
    r.code = ErrorCode::kUnavailable;
    r.error = "the owner of this key changed before the write was decided; retry";
    stats_.cond_unavailable++;
    return finish_decision(now, key, std::move(r));
  }
  // A majority of the members it knows (all but those that left) must be active in its
  // view: a node cut off with a minority (one side of a split) decides nothing, so two
  // sides cannot both say yes from one state.
  size_t known = 1;
  size_t active = 1;
  for (const Member& m : membership_.members()) {
    if (m.name.view() == membership_.name() || m.state == MemberState::kLeft) continue;
    known++;
    if (m.active()) active++;
  }
  if (2 * active <= known) {
    Reply r{d.request, d.op, ReplyStatus::kError};
    r.code = ErrorCode::kUnavailable;
    r.error = "the key's owner sees " + std::to_string(active) + " of the " +
              std::to_string(known) +
              " members it knows alive: conditional writes need a majority; nothing was "
              "written; retry";
    stats_.cond_unavailable++;
    return finish_decision(now, key, std::move(r));
  }
  MonoTime wait_until = kNever;
  if (!may_decide(now.mono, key, &wait_until)) {
    handoff_wake_ = std::min(handoff_wake_, wait_until);
    return;  // conditional_timer starts it
  }
  stats_.cond_decided++;
  d.id = next_internal_++;
  internal_key_[d.id] = key;
  // The cluster's current version: every member answers, a local copy is not enough.
  Record local;
  Result<bool> found = load(key, local);
  if (!found.ok()) {
    stats_.store_errors++;
    Reply r{d.request, d.op, ReplyStatus::kError};
    r.code = found.error().code;
    r.error = found.error().detail;
    return finish_decision(now, key, std::move(r));
  }
  const Duration left = std::max<Duration>(std::chrono::milliseconds(1), d.deadline - now.mono);
  start_query(now, key, d.id, std::min(left, default_timeout()), found.value() ? &local : nullptr);
}

void KeyValue::run_internal_replies(Now now) {
  while (!internal_replies_.empty()) {
    std::vector<Reply> replies;
    replies.swap(internal_replies_);
    for (Reply& r : replies) {
      auto k = internal_key_.find(r.request);
      if (k == internal_key_.end()) continue;  // its decision ended (abandoned)
      const std::string key = k->second;
      internal_key_.erase(k);
      auto q = decisions_.find(key);
      CKV_ASSERT(q != decisions_.end() && !q->second.empty() && q->second.front().id == r.request,
                 "an internal reply belongs to the decision at the front of its key's queue");
      Decision& d = q->second.front();
      if (d.writing) {
        // The write is done (or failed): that is the answer.
        Reply answer = std::move(r);
        answer.request = d.request;
        answer.op = d.op;
        finish_decision(now, key, std::move(answer));
        continue;
      }
      // The read is done: decide.
      const bool read_ok = r.status == ReplyStatus::kOk || r.status == ReplyStatus::kNotFound;
      if (!read_ok || !r.current) {
        Reply answer{d.request, d.op, ReplyStatus::kError};
        answer.code = r.status == ReplyStatus::kError ? r.code : ErrorCode::kUnavailable;
        answer.error = r.status == ReplyStatus::kError
                           ? r.error
                           : "could not learn the key's current version (a member did not "
                             "answer); nothing was written; retry";
        if (answer.code == ErrorCode::kUnavailable) stats_.cond_unavailable++;
        finish_decision(now, key, std::move(answer));
        continue;
      }
      const bool exists = r.status == ReplyStatus::kOk;
      if (!d.condition.holds(exists, r.version)) {
        stats_.cond_failed++;
        Reply answer{d.request, d.op, ReplyStatus::kPreconditionFailed};
        if (exists) answer.version = r.version;
        finish_decision(now, key, std::move(answer));
        continue;
      }
      // The write, at once: stamped above the version read (conclude witnessed it).
      d.writing = true;
      d.id = next_internal_++;
      internal_key_[d.id] = key;
      if (d.op == ClientOp::kDelete) {
        write(now, d.id, ClientOp::kDelete, key, {}, 0, {});
      } else {
        const uint64_t expires_us =
            d.ttl ? wall_floor_us_ + static_cast<uint64_t>(d.ttl->count()) : 0;
        write(now, d.id, ClientOp::kPut, key, std::move(d.value), expires_us, std::move(d.content));
      }
    }
  }
}

void KeyValue::finish_decision(Now now, const std::string& key, Reply r) {
  auto it = decisions_.find(key);
  CKV_ASSERT(it != decisions_.end() && !it->second.empty(), "a decision ends in its key's queue");
  Decision d = std::move(it->second.front());
  it->second.erase(it->second.begin());
  decisions_pending_--;
  if (d.id != 0) internal_key_.erase(d.id);
  answer_decision(d, std::move(r));
  if (it->second.empty()) {
    decisions_.erase(it);
  } else {
    start_decision(now, key);
  }
}

void KeyValue::answer_decision(const Decision& d, Reply r) {
  if (d.origin.empty()) {
    r.request = d.request;
    r.op = d.op;
    reply(std::move(r));
    return;
  }
  const Member* origin = active_member(d.origin);
  if (origin == nullptr) return;  // it times out (or is gone)
  wire::CondResult m;
  m.id = d.request;
  m.responder = std::string(membership_.name());
  m.version = r.version;
  m.expires_us = r.expires_us;
  switch (r.status) {
    case ReplyStatus::kOk:
      m.outcome = wire::CondResult::Outcome::kWritten;
      break;
    case ReplyStatus::kPreconditionFailed:
      m.outcome = wire::CondResult::Outcome::kFailed;
      break;
    default:
      m.outcome = wire::CondResult::Outcome::kError;
      m.code = r.status == ReplyStatus::kError ? r.code : ErrorCode::kUnavailable;
      m.error = r.error;
      break;
  }
  send(origin->addr, Channel::kStream, m);
}

void KeyValue::conditional_timer(Now now) {
  // Forwarded writes whose owner stayed silent.
  for (auto it = forwarded_.begin(); it != forwarded_.end();) {
    if (now.mono < it->second.deadline) {
      ++it;
      continue;
    }
    stats_.cond_unavailable++;
    reply_error(it->second.request, it->second.op,
                Error{ErrorCode::kUnavailable,
                      "the key's owner " + it->second.owner +
                          " did not answer in time: the write may or may not have been made; "
                          "read the key to know"});
    it = forwarded_.erase(it);
  }
  // Decisions past their deadline that have not reached their write (a write in flight
  // answers as it ends), and decisions whose hand-off wait is over.
  std::erase_if(recently_gone_,
                [&](const auto& gone) { return gone.second + config_.cas_handoff <= now.mono; });
  if (now.mono >= handoff_wake_) handoff_wake_ = kNever;
  std::vector<std::string> keys;
  for (const auto& [key, queue] : decisions_)
    keys.push_back(key);
  for (const std::string& key : keys) {
    auto it = decisions_.find(key);
    if (it == decisions_.end()) continue;
    Decision& d = it->second.front();
    if (!d.writing && now.mono >= d.deadline) {
      Reply r{d.request, d.op, ReplyStatus::kError};
      r.code = ErrorCode::kUnavailable;
      r.error = "the conditional write could not be decided in time; nothing was written; retry";
      stats_.cond_unavailable++;
      finish_decision(now, key, std::move(r));  // its read, if any, answers into the void
    } else if (d.id == 0) {
      start_decision(now, key);
    }
  }
}

MonoTime KeyValue::conditional_deadline() const {
  MonoTime next = handoff_wake_;
  for (const auto& [id, f] : forwarded_)
    next = std::min(next, f.deadline);
  for (const auto& [key, queue] : decisions_) {
    if (!queue.front().writing) next = std::min(next, queue.front().deadline);
  }
  return next;
}

void KeyValue::conditional_member_change(Now now, const MemberChange& change) {
  if (joined_at_ == kNever && membership_.joined()) joined_at_ = now.mono;
  if (change.name == membership_.name()) return;
  const bool active_now = !change.reaped && (change.to_state == MemberState::kAlive ||
                                             change.to_state == MemberState::kSuspect);
  const bool was_active =
      change.from_state == MemberState::kAlive || change.from_state == MemberState::kSuspect;
  if (was_active && !active_now) {
    recently_gone_.emplace_back(change.name, now.mono);
    // Writes forwarded to it will not be answered.
    for (auto it = forwarded_.begin(); it != forwarded_.end();) {
      if (it->second.owner != change.name) {
        ++it;
        continue;
      }
      stats_.cond_unavailable++;
      reply_error(it->second.request, it->second.op,
                  Error{ErrorCode::kUnavailable,
                        "the key's owner " + change.name +
                            " failed or left before answering: the write may or may not have "
                            "been made; read the key to know"});
      it = forwarded_.erase(it);
    }
  }
}

void KeyValue::abandon_decisions() {
  for (auto& [key, queue] : decisions_) {
    for (Decision& d : queue) {
      Reply r{d.request, d.op, ReplyStatus::kError};
      r.code = ErrorCode::kUnavailable;
      r.error = "the node's store failed while deciding; the write may not have been made; retry";
      stats_.cond_unavailable++;
      answer_decision(d, std::move(r));
    }
  }
  decisions_.clear();
  decisions_pending_ = 0;
  internal_key_.clear();
}

}  // namespace ckv
