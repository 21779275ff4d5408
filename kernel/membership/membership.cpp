#include "kernel/membership/membership.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "kernel/core/assert.h"
#include "kernel/membership/tags.h"
#include "kernel/wire/codec.h"

namespace ckv {

using wire::Message;

namespace {

// ceil(log10(n + 1)) for n >= 0, in integers: the number of decimal digits of n (0 -> 0).
int ceil_log10_plus_one(size_t n) {
  int digits = 0;
  while (n > 0) {
    n /= 10;
    ++digits;
  }
  return digits;
}

// At most this many indirect pings are carried out for others at once; a flood of requests
// cannot grow the node's state without bound.
constexpr size_t kMaxRelays = 1024;

}  // namespace

Membership::Membership(const MembershipConfig& config, std::string name, Address address,
                       uint64_t seed, MonoTime start, Outbox& out, NodeStats& stats)
    : config_(config),
      name_(std::move(name)),
      address_(address),
      out_(out),
      stats_(stats),
      rng_(seed),
      tags_(config.tags),
      awareness_(config.awareness_max_multiplier) {
  // Unpredictable to outsiders: sequence numbers (so acks are hard to forge) and the
  // member table's hash key (so names cannot be chosen to collide).
  next_seq_ = static_cast<uint32_t>(rng_.next());
  table_.set_hash_key(rng_.next());
  Member self{
      CompactString(name_), address_, incarnation_, MemberState::kAlive, true, start, tags_};
  table_.insert(std::move(self), rng_);
  CKV_ASSERT(table_.size() == 1 && table_.find(name_) != nullptr,
             "a new node's table holds itself");
  // Random phases keep the nodes of a cluster from ticking in lockstep.
  auto stagger = [&](Duration interval) { return start + rng_.between(Duration(0), interval); };
  next_probe_ = stagger(config_.probe_interval);
  next_gossip_ = stagger(config_.gossip_interval);
  next_push_pull_ = stagger(config_.push_pull_interval);
  next_reconnect_ = stagger(config_.reconnect_interval) + config_.reconnect_interval;
}

// ---------------------------------------------------------------------------------------
// Joining and leaving

void Membership::join(MonoTime now, std::span<const Address> seeds) {
  seeds_.clear();
  for (const Address& seed : seeds) {
    if (seed != address_ && std::find(seeds_.begin(), seeds_.end(), seed) == seeds_.end()) {
      seeds_.push_back(seed);
    }
  }
  if (seeds_.empty()) {
    joined_ = true;  // founding a cluster of one
    next_join_try_ = kNever;
    return;
  }
  // A member (of a cluster, or founding one) given more seeds, e.g. peers found by mDNS,
  // stays joined: one that never answers (another cluster key, a firewall) must not make
  // it report "joining" again. It still retries them, a bounded number of times, so two
  // founders that find each other merge even if the first push-pulls are lost.
  join_tries_left_ = joined_ ? kMemberJoinTries : std::numeric_limits<uint32_t>::max();
  join_backoff_ = config_.join_retry_min;
  next_join_try_ = now;
  retry_join(now);
}

void Membership::retry_join(MonoTime now) {
  for (const Address& seed : seeds_) {
    send_push_pull(seed, /*join=*/true, /*reply=*/false);
    stats_.join_attempts++;
  }
  if (--join_tries_left_ == 0) {
    next_join_try_ = kNever;
    return;
  }
  next_join_try_ = now + join_backoff_;
  join_backoff_ = std::min(join_backoff_ * 2, config_.join_retry_max);
}

void Membership::leave(MonoTime now) {
  if (leaving_) return;
  leaving_ = true;
  probe_.reset();
  next_join_try_ = kNever;
  Member* self = table_.find(name_);
  const MemberState before = self->state;
  table_.set_state(*self, MemberState::kLeft, now);
  record_change(now, *self, before, incarnation_, false);
  broadcast(name_, wire::Dead{incarnation_, name_, name_});
}

bool Membership::leave_complete() const {
  if (!leaving_) return false;
  const size_t others = table_.active_count();  // this node is "left" now, so not counted
  return others == 0 || !broadcasts_.pending(name_);
}

// ---------------------------------------------------------------------------------------
// Input

void Membership::handle(MonoTime now, const Address& from, Channel channel, Message&& message) {
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Ping>) {
          on_ping(now, from, m);
        } else if constexpr (std::is_same_v<T, wire::IndirectPing>) {
          on_indirect_ping(now, from, m);
        } else if constexpr (std::is_same_v<T, wire::Ack>) {
          on_ack(from, m);
        } else if constexpr (std::is_same_v<T, wire::Nack>) {
          on_nack(from, m);
        } else if constexpr (std::is_same_v<T, wire::Alive>) {
          on_alive(now, m);
        } else if constexpr (std::is_same_v<T, wire::Suspect>) {
          on_suspect(now, m);
        } else if constexpr (std::is_same_v<T, wire::Dead>) {
          on_dead(now, m);
        } else if constexpr (std::is_same_v<T, wire::PushPull>) {
          // A full state answer is large: only over a stream, never to a datagram whose
          // source anyone could forge.
          if (channel == Channel::kStream) {
            on_push_pull(now, m);
          } else {
            stats_.wrong_channel++;
          }
        }
      },
      message);
}

void Membership::on_ping(MonoTime /*now*/, const Address& from, const wire::Ping& p) {
  if (p.target != name_) {
    // Meant for whoever had this address before us; answering would vouch for them.
    stats_.misdirected_pings++;
    return;
  }
  probes_received_++;
  const Message ack = wire::Ack{p.seq};
  send_datagram(from, {&ack, 1});
}

void Membership::on_indirect_ping(MonoTime now, const Address& from, const wire::IndirectPing& p) {
  if (relays_.size() >= kMaxRelays || !is_active_member_address(from)) {
    // Only members may use us to probe, and only so many at once.
    stats_.relays_dropped++;
    return;
  }
  const uint32_t seq = ++next_seq_;
  relays_.push_back(
      Relay{seq, from, p.seq, p.target_addr, p.want_nack, now + config_.probe_timeout});
  const Message ping = wire::Ping{seq, p.target};
  send_datagram(p.target_addr, {&ping, 1});
}

void Membership::on_ack(const Address& from, const wire::Ack& a) {
  const auto from_helper = [&] {
    return std::find(probe_->helpers.begin(), probe_->helpers.end(), from) != probe_->helpers.end();
  };
  if (probe_ && probe_->seq == a.seq && (from == probe_->addr || from_helper())) {
    // Only a direct answer in time says our own timing is healthy (Lifeguard).
    if (config_.lifeguard && !probe_->indirect_sent) awareness_.apply(-1);
    probe_.reset();
    return;
  }
  auto relay = std::find_if(relays_.begin(), relays_.end(), [&](const Relay& r) {
    return r.local_seq == a.seq && r.target == from;
  });
  if (relay == relays_.end()) return;  // late or unknown: nothing waits for it
  const Message ack = wire::Ack{relay->requester_seq};
  const Address to = relay->requester;
  relays_.erase(relay);
  send_datagram(to, {&ack, 1});
}

void Membership::on_nack(const Address& from, const wire::Nack& n) {
  if (probe_ && probe_->seq == n.seq &&
      std::find(probe_->helpers.begin(), probe_->helpers.end(), from) != probe_->helpers.end()) {
    probe_->nacks++;
    stats_.nacks_received++;
  }
}

void Membership::on_push_pull(MonoTime now, const wire::PushPull& p) {
  stats_.push_pulls_received++;
  if (p.sender == name_) return;
  merge(now, p);
  if (!p.reply) {
    // Answer with our state after the merge, so refutations it caused travel back at once.
    send_push_pull(p.sender_addr, p.join, /*reply=*/true);
    if (!joined_) {
      // A member exchanged full state with us: we are in its cluster, whether or not our
      // own seeds have answered yet (they are still tried, a few times, as a member's).
      joined_ = true;
      join_tries_left_ = std::min(join_tries_left_, kMemberJoinTries);
    }
  } else if (!joined_ || std::find(seeds_.begin(), seeds_.end(), p.sender_addr) != seeds_.end()) {
    // The first answer completes a join; a member stops retrying seeds once one answers.
    joined_ = true;
    next_join_try_ = kNever;
  }
}

void Membership::merge(MonoTime now, const wire::PushPull& remote) {
  for (const wire::MemberRecord& r : remote.members) {
    const Member* local = table_.find(r.name);
    if (local && r.name != name_ && local->state == r.state &&
        r.incarnation <= local->incarnation && !(r.tags_said && !local->tags_said)) {
      continue;  // nothing new
    }
    switch (r.state) {
      case MemberState::kAlive:
        on_alive(now, wire::Alive{r.incarnation, r.name, r.addr, r.tags, r.tags_said});
        break;
      case MemberState::kLeft:
        on_dead(now, wire::Dead{r.incarnation, r.name, r.name});
        break;
      case MemberState::kSuspect:
      case MemberState::kDead:
        // Someone else's verdict is only a suspicion here: it gives the member a chance
        // to refute before we declare it dead ourselves.
        on_suspect(now, wire::Suspect{r.incarnation, r.name, remote.sender});
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Member news

void Membership::on_alive(MonoTime now, const wire::Alive& a) {
  const bool about_self = a.node == name_;
  if (about_self) {
    if (leaving_) return;
    if (a.incarnation < incarnation_) return;  // old news about us
    if (a.incarnation == incarnation_ && a.addr == address_ && (!a.tags_said || a.tags == tags_)) {
      return;  // our own news (or a copy that lost its tags through an older node)
    }
    // Someone claims a newer us, or holds other tags at our incarnation (news of a process
    // of ours before a restart, which counted up to the same number): outbid it.
    refute(now, a.incarnation);
    return;
  }

  Member* m = table_.find(a.node);
  if (m == nullptr) {
    if (table_.size() >= config_.max_members && !evict_longest_gone()) {
      stats_.members_refused++;
      return;
    }
    Member& added = table_.insert(Member{CompactString(a.node), a.addr, a.incarnation,
                                         MemberState::kAlive, a.tags_said, now, a.tags},
                                  rng_);
    record_change(now, added, MemberState::kDead, 0, /*is_new=*/true);
    broadcast(a.node, a);
    return;
  }
  if (a.incarnation <= m->incarnation) {
    if (a.incarnation == m->incarnation && a.tags_said && !m->tags_said) {
      // The tags of news we had only through a node of an earlier revision.
      m->tags = a.tags;
      m->tags_said = true;
    }
    return;
  }
  if (a.addr != m->addr && m->active()) {
    // Two live processes claim one name; keep the one we know until it is gone.
    stats_.address_conflicts++;
    return;
  }
  drop_suspicion(a.node);
  const MemberState before = m->state;
  const Incarnation before_inc = m->incarnation;
  m->incarnation = a.incarnation;
  CKV_ASSERT(m->incarnation > before_inc, "a member's incarnation never decreases");
  m->addr = a.addr;
  if (a.tags_said) m->tags = a.tags;  // else: the last tags known stand in, until said
  m->tags_said = a.tags_said;
  table_.set_state(*m, MemberState::kAlive, now);
  record_change(now, *m, before, before_inc, false);
  broadcast(a.node, a);
}

void Membership::on_suspect(MonoTime now, const wire::Suspect& s) {
  Member* m = table_.find(s.node);
  if (m == nullptr) return;
  if (m->state == MemberState::kLeft) {
    correct_about_leave(s.from, *m);
    return;
  }
  if (s.incarnation < m->incarnation) return;

  if (Suspicion* existing = find_suspicion(s.node)) {
    if (existing->confirm(s.from)) {
      stats_.suspicion_confirmations++;
      broadcast(s.node, s);
    }
    return;
  }
  if (!m->alive()) {
    if (m->state == MemberState::kDead) note_unseen_life(now, *m, s.incarnation);
    return;
  }

  if (s.node == name_) {
    if (!leaving_) refute(now, s.incarnation);
    return;
  }

  broadcast(s.node, s);
  const MemberState before = m->state;
  const Incarnation before_inc = m->incarnation;
  m->incarnation = s.incarnation;
  CKV_ASSERT(m->incarnation >= before_inc && before == MemberState::kAlive && s.node != name_,
             "only another alive member becomes suspect, never at a lower incarnation");
  table_.set_state(*m, MemberState::kSuspect, now);
  record_change(now, *m, before, before_inc, false);

  // Lifeguard: expect suspicion_mult - 2 independent confirmations, when the cluster has
  // that many other members to give them.
  const size_t n = table_.active_count();
  int expected = config_.suspicion_mult - 2;
  if (!config_.lifeguard || static_cast<int>(n) - 2 < expected) expected = 0;
  const Duration min = suspicion_min_timeout(config_.suspicion_mult, n, config_.probe_interval);
  const Duration max = config_.lifeguard ? min * config_.suspicion_max_timeout_mult : min;
  suspicions_.emplace_back(s.node, s.incarnation, s.from, now, min, max, expected);
  if (s.from == name_) stats_.suspicions_started++;
}

void Membership::on_dead(MonoTime now, const wire::Dead& d) {
  Member* m = table_.find(d.node);
  if (m == nullptr) return;
  const bool is_leave = d.node == d.from;
  // Older news is dropped, except that a member held dead in fact left (an operator's
  // force-leave, made by a node that missed the member's last refutation, says so at the
  // incarnation it knew): both are gone, and everyone should agree how.
  if (d.incarnation < m->incarnation && !(is_leave && m->state == MemberState::kDead)) return;

  if (d.node == name_) {
    if (!leaving_) refute(now, d.incarnation);
    return;
  }
  // Dead is final, except that learning a failed member in fact left is worth keeping.
  if (m->state == MemberState::kLeft) {
    if (!is_leave) correct_about_leave(d.from, *m);
    return;
  }
  if (m->state == MemberState::kDead && !is_leave) {
    note_unseen_life(now, *m, d.incarnation);
    return;
  }

  drop_suspicion(d.node);
  broadcast(d.node, d);
  const MemberState before = m->state;
  const Incarnation before_inc = m->incarnation;
  m->incarnation = std::max(m->incarnation, d.incarnation);
  CKV_ASSERT(m->incarnation >= before_inc && d.node != name_ &&
                 (before == MemberState::kAlive || before == MemberState::kSuspect ||
                  (before == MemberState::kDead && is_leave)),
             "dead is final except for learning of a leave");
  table_.set_state(*m, is_leave ? MemberState::kLeft : MemberState::kDead, now);
  record_change(now, *m, before, before_inc, false);
}

void Membership::note_unseen_life(MonoTime now, Member& m, Incarnation incarnation) {
  // News of a member we hold dead, at a newer incarnation: it came back and failed again
  // while we did not see it (a partition, say). Nothing changes for the failure detector,
  // but the member may have acted in that life (the key-value layer revalidates what it
  // may have written), so the change is reported.
  if (incarnation <= m.incarnation || m.name == name_) return;
  const Incarnation before = m.incarnation;
  m.incarnation = incarnation;
  CKV_ASSERT(m.state == MemberState::kDead && m.incarnation > before,
             "only a member held dead gets an unseen life, at a newer incarnation");
  record_change(now, m, MemberState::kDead, before, false);
}

void Membership::correct_about_leave(std::string_view accuser, const Member& left) {
  // Whoever suspects or buries a member that left missed its goodbye (gossip is
  // probabilistic); tell it directly, so the departure is not recorded as a failure.
  const Member* to = table_.find(accuser);
  if (to == nullptr || to->name == name_ || !to->active()) return;
  const Message news = wire::Dead{left.incarnation, left.name.str(), left.name.str()};
  send_datagram(to->addr, {&news, 1});
}

void Membership::refute(MonoTime now, Incarnation accused) {
  announce_self(now, accused);
  if (config_.lifeguard) awareness_.apply(1);
  stats_.refutations++;
}

void Membership::announce_self(MonoTime now, Incarnation past) {
  const Incarnation before = incarnation_;
  // Outbid `past` without ever wrapping around (which would go backwards).
  constexpr Incarnation kMax = std::numeric_limits<Incarnation>::max();
  incarnation_ = std::max(incarnation_, past) == kMax ? kMax : std::max(incarnation_, past) + 1;
  Member* self = table_.find(name_);
  self->incarnation = incarnation_;
  self->tags = tags_;
  record_change(now, *self, self->state, before, false);
  broadcast(name_, wire::Alive{incarnation_, name_, address_, tags_});
}

Status Membership::force_leave(MonoTime now, std::string_view member) {
  auto refuse = [&](const std::string& why) {
    return Error{ErrorCode::kInvalidArgument, std::string(member) + " " + why};
  };
  if (member == name_) return refuse("is this node: stop it instead (it leaves gracefully)");
  const Member* m = table_.find(member);
  if (m == nullptr) {
    return Error{ErrorCode::kNotFound, "no member named " + std::string(member)};
  }
  switch (m->state) {
    case MemberState::kAlive:
      return refuse("is alive: only a failed member can be forced out");
    case MemberState::kSuspect:
      return refuse("is suspect, not yet failed: wait until it is declared dead");
    case MemberState::kLeft:
      return Status();
    case MemberState::kDead:
      break;
  }
  stats_.forced_leaves++;
  on_dead(now, wire::Dead{m->incarnation, std::string(member), std::string(member)});
  return Status();
}

Status Membership::set_tags(MonoTime now, wire::Tags tags) {
  if (Status s = check_tags(tags); !s.ok()) return s;
  if (tags == tags_) return Status();
  tags_ = std::move(tags);
  if (leaving_) {
    // A leaving node's news is its leave: the new tags are only its own (no one else will
    // keep them, as no one keeps the member).
    table_.find(name_)->tags = tags_;
    return Status();
  }
  announce_self(now, incarnation_);
  stats_.tag_changes++;
  return Status();
}

// ---------------------------------------------------------------------------------------
// Timers

void Membership::on_timer(MonoTime now) {
  expire_suspicions(now);
  expire_relays(now);
  if (probe_ && !probe_->indirect_sent && now >= probe_->direct_deadline) {
    send_indirect_probes();
  }
  if (probe_ && now >= probe_->final_deadline) finish_failed_probe(now);
  if (!leaving_ && now >= next_probe_) start_probe(now);
  if (now >= next_gossip_ && !broadcasts_.empty()) gossip(now);
  if (!leaving_ && now >= next_push_pull_) push_pull_random(now);
  if (!leaving_ && now >= next_reconnect_) reconnect(now);
  if (!leaving_ && now >= next_join_try_) retry_join(now);
}

MonoTime Membership::next_deadline() const {
  MonoTime next = kNever;
  auto consider = [&](MonoTime t) { next = std::min(next, t); };
  for (const Suspicion& s : suspicions_)
    consider(s.deadline());
  for (const Relay& r : relays_) {
    if (r.want_nack) consider(r.nack_deadline);
  }
  if (probe_) {
    consider(probe_->indirect_sent ? probe_->final_deadline : probe_->direct_deadline);
  }
  if (!broadcasts_.empty()) consider(next_gossip_);
  if (!leaving_) {
    consider(next_probe_);
    consider(next_push_pull_);
    if (table_.count(MemberState::kDead) > 0) consider(next_reconnect_);
    consider(next_join_try_);
  }
  return next;
}

void Membership::expire_suspicions(MonoTime now) {
  // Collect first: declaring a member dead edits suspicions_.
  std::vector<std::pair<std::string, Incarnation>> expired;
  for (const Suspicion& s : suspicions_) {
    if (s.deadline() <= now) expired.emplace_back(s.node(), s.incarnation());
  }
  for (auto& [node, incarnation] : expired) {
    drop_suspicion(node);
    const Member* m = table_.find(node);
    CKV_ASSERT(m != nullptr && m->state == MemberState::kSuspect && m->incarnation == incarnation,
               "a suspicion always names a suspect member at the suspected incarnation");
    if (m == nullptr || m->state != MemberState::kSuspect || m->incarnation != incarnation) {
      continue;
    }
    stats_.suspicion_timeouts++;
    on_dead(now, wire::Dead{incarnation, node, name_});
  }
}

void Membership::expire_relays(MonoTime now) {
  for (size_t i = 0; i < relays_.size();) {
    if (relays_[i].nack_deadline > now) {
      ++i;
      continue;
    }
    const Relay r = relays_[i];
    relays_.erase(relays_.begin() + static_cast<ptrdiff_t>(i));
    if (r.want_nack) {
      const Message nack = wire::Nack{r.requester_seq};
      send_datagram(r.requester, {&nack, 1});
    }
  }
}

void Membership::start_probe(MonoTime now) {
  if (probe_) finish_failed_probe(now);  // cannot happen with sane timing; be safe
  const Duration interval =
      config_.lifeguard ? awareness_.scale(config_.probe_interval) : config_.probe_interval;
  next_probe_ = now + interval;

  const Member* target = nullptr;
  for (size_t checked = 0; checked < table_.size() && target == nullptr; ++checked) {
    if (probe_cursor_ >= table_.size()) {
      // End of a round: reap what is due, then probe in a new random order.
      reap(now);
      table_.shuffle(rng_);
      probe_cursor_ = 0;
      if (table_.size() == 0) break;
    }
    CKV_ASSERT(probe_cursor_ < table_.size(), "the probe cursor stays inside the table");
    const Member& m = table_[probe_cursor_++];
    if (m.name != name_ && m.active()) target = &m;
  }
  if (target == nullptr) return;

  const Duration timeout =
      config_.lifeguard ? awareness_.scale(config_.probe_timeout) : config_.probe_timeout;
  probe_ = Probe{target->name.str(), target->addr, ++next_seq_, now + timeout, now + interval};
  stats_.probes_sent++;

  Message frames[2] = {wire::Ping{probe_->seq, probe_->target}, wire::Ack{}};
  size_t count = 1;
  if (config_.lifeguard && target->state == MemberState::kSuspect) {
    // Tell a suspect directly that it is suspected, so it can refute in time.
    frames[count++] = wire::Suspect{target->incarnation, probe_->target, name_};
  }
  send_datagram(probe_->addr, {frames, count});
}

void Membership::send_indirect_probes() {
  const std::string target = probe_->target;
  auto helpers = random_members(static_cast<size_t>(config_.indirect_checks),
                                [&](const Member& m) { return m.alive() && m.name != target; });
  const Message request =
      wire::IndirectPing{probe_->seq, probe_->target, probe_->addr, config_.lifeguard};
  for (const Member* helper : helpers) {
    send_datagram(helper->addr, {&request, 1});
    probe_->helpers.push_back(helper->addr);
    stats_.indirect_probes_sent++;
  }
  probe_->indirect_sent = true;
  probe_->expected_nacks = config_.lifeguard ? static_cast<int>(helpers.size()) : 0;
  CKV_ASSERT(probe_->helpers.size() == helpers.size() &&
                 helpers.size() <= static_cast<size_t>(config_.indirect_checks),
             "no more helpers than indirect_checks");
}

void Membership::finish_failed_probe(MonoTime now) {
  Probe probe = std::move(*probe_);
  probe_.reset();
  stats_.probes_failed++;
  if (config_.lifeguard) {
    // Missing nacks mean our own messages are not getting through: we may be the
    // unhealthy one. Without helpers to nack, any failed probe counts.
    awareness_.apply(probe.expected_nacks > 0 ? std::max(0, probe.expected_nacks - probe.nacks)
                                              : 1);
  }
  const Member* m = table_.find(probe.target);
  if (m == nullptr || !m->active()) return;
  on_suspect(now, wire::Suspect{m->incarnation, probe.target, name_});
}

void Membership::gossip(MonoTime now) {
  next_gossip_ = now + config_.gossip_interval;
  auto targets = random_members(static_cast<size_t>(config_.gossip_nodes), [&](const Member& m) {
    if (m.active()) return true;
    return m.state == MemberState::kDead && now - m.state_since <= config_.gossip_to_the_dead;
  });
  const int limit = retransmit_limit();
  for (const Member* target : targets) {
    std::vector<uint8_t> packet;
    wire::begin_packet(packet);
    if (broadcasts_.fill(packet, config_.datagram_budget, limit) == 0) break;
    stats_.datagrams_sent++;
    stats_.bytes_sent += packet.size();
    out_.sends.push_back(Send{target->addr, Channel::kDatagram, std::move(packet)});
  }
}

void Membership::contact_stranger(MonoTime now, const Address& from) {
  if (!joined_ || leaving_ || from == address_ || now < next_stranger_contact_) return;
  constexpr size_t kRemembered = 64;
  constexpr Duration kPerAddress = std::chrono::seconds(10);
  auto it = strangers_contacted_.find(from.packed());
  if (it != strangers_contacted_.end() && now < it->second + kPerAddress) return;
  if (strangers_contacted_.size() >= kRemembered) strangers_contacted_.clear();
  strangers_contacted_[from.packed()] = now;
  next_stranger_contact_ = now + config_.gossip_interval;
  stats_.stranger_contacts++;
  send_push_pull(from, /*join=*/false, /*reply=*/false);
}

void Membership::push_pull_random(MonoTime now) {
  next_push_pull_ = now + push_pull_interval();
  auto peer = random_members(1, [](const Member& m) { return m.alive(); });
  if (!peer.empty()) send_push_pull(peer.front()->addr, /*join=*/false, /*reply=*/false);
}

void Membership::reconnect(MonoTime now) {
  next_reconnect_ = now + config_.reconnect_interval;
  // Try the failed member we tried least recently (never beats any time), so that among k
  // failed members each is tried once every k intervals: a live one hidden among dead ones
  // is found within a bounded time.
  std::erase_if(last_reconnect_, [&](const auto& entry) {
    const Member* m = table_.find(entry.first);
    return m == nullptr || m->state != MemberState::kDead;
  });
  const Member* pick = nullptr;
  MonoTime pick_last = kNever;
  for (const Member& m : table_) {
    if (m.state != MemberState::kDead) continue;
    auto it = last_reconnect_.find(m.name.str());
    const MonoTime last = it == last_reconnect_.end() ? MonoTime::min() : it->second;
    if (pick == nullptr || last < pick_last) {
      pick = &m;
      pick_last = last;
    }
  }
  if (pick == nullptr) return;
  last_reconnect_[pick->name.str()] = now;
  stats_.reconnect_attempts++;
  send_push_pull(pick->addr, /*join=*/false, /*reply=*/false);
}

void Membership::reap(MonoTime now) {
  auto removed = table_.remove_if([&](const Member& m) {
    if (m.state == MemberState::kDead) return now - m.state_since >= config_.reconnect_timeout;
    if (m.state == MemberState::kLeft && m.name != name_) {
      return now - m.state_since >= config_.tombstone_timeout;
    }
    return false;
  });
  for (const Member& m : removed) {
    CKV_ASSERT(m.gone() && m.name != name_, "reaping removes only gone members, never this node");
    out_.changes.push_back(MemberChange{now, m.name.str(), m.addr, m.state, m.incarnation, m.state,
                                        m.incarnation, false, /*reaped=*/true});
  }
}

// ---------------------------------------------------------------------------------------
// Output helpers

void Membership::send_datagram(const Address& to, std::span<const Message> messages) {
  std::vector<uint8_t> packet;
  wire::begin_packet(packet);
  for (const Message& m : messages)
    wire::append_frame(packet, m);
  broadcasts_.fill(packet, config_.datagram_budget, retransmit_limit());
  stats_.datagrams_sent++;
  stats_.bytes_sent += packet.size();
  out_.sends.push_back(Send{to, Channel::kDatagram, std::move(packet)});
}

void Membership::send_push_pull(const Address& to, bool join, bool reply) {
  wire::PushPull state;
  state.join = join;
  state.reply = reply;
  state.sender = name_;
  state.sender_addr = address_;
  state.members.reserve(table_.size());
  for (const Member& m : table_) {
    state.members.push_back(
        wire::MemberRecord{m.name.str(), m.addr, m.incarnation, m.state, m.tags, m.tags_said});
  }
  const Message message = std::move(state);
  std::vector<uint8_t> packet = wire::encode_packet({&message, 1});
  stats_.push_pulls_sent++;
  stats_.streams_sent++;
  stats_.bytes_sent += packet.size();
  out_.sends.push_back(Send{to, Channel::kStream, std::move(packet)});
}

void Membership::broadcast(std::string_view subject, const Message& news) {
  std::vector<uint8_t> frame;
  wire::append_frame(frame, news);
  broadcasts_.push(subject, std::move(frame));
}

void Membership::record_change(MonoTime now, const Member& m, MemberState from_state,
                               Incarnation from_incarnation, bool is_new) {
  CKV_ASSERT(!is_new || from_state == MemberState::kDead,
             "a new member is reported as coming from dead");
  out_.changes.push_back(MemberChange{now, m.name.str(), m.addr, from_state, from_incarnation,
                                      m.state, m.incarnation, is_new, false});
}

bool Membership::evict_longest_gone() {
  const Member* oldest = nullptr;
  for (const Member& m : table_) {
    if (m.gone() && m.name != name_ && (oldest == nullptr || m.state_since < oldest->state_since)) {
      oldest = &m;
    }
  }
  if (oldest == nullptr) return false;
  const std::string name = oldest->name.str();
  table_.remove_if([&](const Member& m) { return m.name == name; });
  last_reconnect_.erase(name);
  return true;
}

bool Membership::is_active_member_address(const Address& addr) const {
  for (const Member& m : table_) {
    if (m.addr == addr && m.active() && m.name != name_) return true;
  }
  return false;
}

Suspicion* Membership::find_suspicion(std::string_view node) {
  for (Suspicion& s : suspicions_) {
    if (s.node() == node) return &s;
  }
  return nullptr;
}

void Membership::drop_suspicion(std::string_view node) {
  std::erase_if(suspicions_, [&](const Suspicion& s) { return s.node() == node; });
}

std::vector<const Member*> Membership::random_members(
    size_t k, const std::function<bool(const Member&)>& want) {
  std::vector<const Member*> picked;
  const size_t n = table_.size();
  for (size_t tries = 0; tries < 3 * n && picked.size() < k; ++tries) {
    const Member& m = table_[static_cast<size_t>(rng_.below(n))];
    if (m.name == name_ || !want(m)) continue;
    if (std::find(picked.begin(), picked.end(), &m) != picked.end()) continue;
    picked.push_back(&m);
  }
  // Random tries can miss the few members that qualify (a small cluster, or most members
  // suspect): then a failed probe would go without indirect checks. Take the rest in
  // table order from a random place.
  if (picked.size() == k || n == 0) return picked;
  const auto start = static_cast<size_t>(rng_.below(n));
  for (size_t i = 0; i < n && picked.size() < k; ++i) {
    const Member& m = table_[(start + i) % n];
    if (m.name == name_ || !want(m)) continue;
    if (std::find(picked.begin(), picked.end(), &m) != picked.end()) continue;
    picked.push_back(&m);
  }
  return picked;
}

int Membership::retransmit_limit() const {
  return config_.retransmit_mult * ceil_log10_plus_one(table_.active_count());
}

Duration Membership::push_pull_interval() const {
  // memberlist's scale: x1 up to 32 members, then one more interval per doubling.
  const size_t n = table_.active_count();
  int multiplier = 1;
  for (size_t threshold = 32; threshold < n; threshold *= 2)
    ++multiplier;
  return config_.push_pull_interval * multiplier;
}

}  // namespace ckv
