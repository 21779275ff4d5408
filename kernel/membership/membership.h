// Membership: the SWIM failure detector and gossip membership with the Lifeguard
// extensions, as a pure state machine. What it does (probing, suspicion, awareness,
// dissemination, anti-entropy, leave) is described in docs/membership.md.
//
// Contract: reads no clock and does no I/O — inputs carry the time, outputs go to an
// Outbox, and `next_deadline` says when `on_timer` wants to run next. Driven through
// Node, one input at a time (not thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/core/random.h"
#include "kernel/membership/awareness.h"
#include "kernel/membership/broadcast_queue.h"
#include "kernel/membership/config.h"
#include "kernel/membership/member_table.h"
#include "kernel/membership/suspicion.h"
#include "kernel/outbox.h"
#include "kernel/stats.h"
#include "kernel/wire/messages.h"

namespace ckv {

class Membership {
 public:
  Membership(const MembershipConfig& config, std::string name, Address address, uint64_t seed,
             MonoTime start, Outbox& out, NodeStats& stats);

  // Contacts the seeds (push-pull) until one answers. No seeds: this node founds a cluster.
  // A node that has already joined (or founded) stays joined and tries the seeds a few
  // times (kMemberJoinTries, same backoff) until one answers: a later peer that never
  // answers does not make it "joining" again.
  void join(MonoTime now, std::span<const Address> seeds);
  // Starts a graceful leave; see leave_complete().
  void leave(MonoTime now);
  // Gives this node new tags (kernel/membership/tags.h): its incarnation goes up and the
  // news is gossiped, so every member takes the new tags over the old. Tags out of bounds
  // are refused; the same tags again change nothing.
  Status set_tags(MonoTime now, wire::Tags tags);
  // An operator's verdict that a failed member is gone for good (serf's force-leave): a
  // member held dead is marked left at once and the news gossiped, as if it had left
  // gracefully, so members stop trying to reach it. Refused (kInvalidArgument, saying why)
  // for a member alive or suspect, and for this node; kNotFound for a name not in the
  // table. A member already left: nothing to do. Should the member in fact be running, it
  // refutes the news when it hears it, as any accusation.
  Status force_leave(MonoTime now, std::string_view member);
  const wire::Tags& tags() const { return tags_; }
  // The leave news has been gossiped as often as any news is, or nobody is left to tell.
  bool leave_complete() const;

  void handle(MonoTime now, const Address& from, Channel channel, wire::Message&& message);
  // A message came from `from`, which names a member this node does not know: exchange
  // state with it (rate-limited, see above).
  void contact_stranger(MonoTime now, const Address& from);
  void on_timer(MonoTime now);
  MonoTime next_deadline() const;

  const MemberTable& members() const { return table_; }
  const std::string& name() const { return name_; }
  const Address& address() const { return address_; }
  Incarnation incarnation() const { return incarnation_; }
  int health_score() const { return awareness_.score(); }
  bool joined() const { return joined_; }
  // Pings addressed to this node so far (from a member probing it, or from a helper probing
  // it for one). Members probe only those they hold alive or suspect: a node that gets none
  // for a while may be held dead, and forgotten, by everyone, whatever it hears from them
  // and whoever answers its own probes (a member that holds it dead still does).
  uint64_t probes_received() const { return probes_received_; }
  size_t pending_broadcasts() const { return broadcasts_.size(); }

 private:
  struct Probe {
    std::string target;
    Address addr;
    uint32_t seq;
    MonoTime direct_deadline;
    MonoTime final_deadline;
    bool indirect_sent = false;
    int expected_nacks = 0;
    int nacks = 0;
    std::vector<Address> helpers;  // asked to probe for us; acks and nacks come from these
  };
  // An indirect ping we are carrying out for another node.
  struct Relay {
    uint32_t local_seq;
    Address requester;
    uint32_t requester_seq;
    Address target;  // the ack must come from here
    bool want_nack;
    MonoTime nack_deadline;
  };

  // Member news, from gossip, push-pull or our own detector.
  void on_alive(MonoTime now, const wire::Alive& a);
  void on_suspect(MonoTime now, const wire::Suspect& s);
  void on_dead(MonoTime now, const wire::Dead& d);
  void refute(MonoTime now, Incarnation accused);
  // Raises this node's incarnation past `past` and gossips that it is alive (with its tags).
  void announce_self(MonoTime now, Incarnation past);
  // A member held dead was reported dead or suspect at a newer incarnation.
  void note_unseen_life(MonoTime now, Member& m, Incarnation incarnation);
  void correct_about_leave(std::string_view accuser, const Member& left);
  void merge(MonoTime now, const wire::PushPull& remote);

  void on_ping(MonoTime now, const Address& from, const wire::Ping& p);
  void on_indirect_ping(MonoTime now, const Address& from, const wire::IndirectPing& p);
  void on_ack(const Address& from, const wire::Ack& a);
  void on_nack(const Address& from, const wire::Nack& n);
  void on_push_pull(MonoTime now, const wire::PushPull& p);

  void start_probe(MonoTime now);
  void send_indirect_probes();
  void finish_failed_probe(MonoTime now);
  void expire_relays(MonoTime now);
  void expire_suspicions(MonoTime now);
  void gossip(MonoTime now);
  void push_pull_random(MonoTime now);
  void reconnect(MonoTime now);
  void retry_join(MonoTime now);
  void reap(MonoTime now);

  void send_datagram(const Address& to, std::span<const wire::Message> messages);
  void send_push_pull(const Address& to, bool join, bool reply);
  void broadcast(std::string_view subject, const wire::Message& news);
  void record_change(MonoTime now, const Member& m, MemberState from_state,
                     Incarnation from_incarnation, bool is_new);
  // Makes room in a full table by forgetting the member gone longest; false if none is gone.
  bool evict_longest_gone();
  Suspicion* find_suspicion(std::string_view node);
  // Whether `addr` is where a member we consider alive or suspect lives.
  bool is_active_member_address(const Address& addr) const;
  void drop_suspicion(std::string_view node);
  // `k` distinct random members that satisfy `want` (all of them, if fewer), never this
  // node.
  std::vector<const Member*> random_members(size_t k,
                                            const std::function<bool(const Member&)>& want);
  Duration push_pull_interval() const;
  // How many times each piece of news is gossiped at the current cluster size.
  int retransmit_limit() const;

  const MembershipConfig config_;
  const std::string name_;
  const Address address_;
  Outbox& out_;
  NodeStats& stats_;
  Prng rng_;

  MemberTable table_;
  Incarnation incarnation_ = 1;
  wire::Tags tags_;
  BroadcastQueue broadcasts_;
  Awareness awareness_;
  std::vector<Suspicion> suspicions_;
  std::optional<Probe> probe_;
  size_t probe_cursor_ = 0;
  std::vector<Relay> relays_;
  uint32_t next_seq_ = 0;

  MonoTime next_probe_;
  MonoTime next_gossip_;
  MonoTime next_push_pull_;
  MonoTime next_reconnect_;
  std::unordered_map<std::string, MonoTime> last_reconnect_;  // failed members only

  // Push-pulls a member sends seeds given after it joined (see join()).
  static constexpr uint32_t kMemberJoinTries = 6;
  std::vector<Address> seeds_;
  uint64_t probes_received_ = 0;
  bool joined_ = false;
  MonoTime next_join_try_ = kNever;  // kNever: not retrying
  Duration join_backoff_{};
  uint32_t join_tries_left_ = 0;

  bool leaving_ = false;

  // contact_stranger's limits: the next time any stranger may be contacted, and when each
  // recent one was (a few dozen at most: forgotten wholesale when full).
  MonoTime next_stranger_contact_{};
  std::unordered_map<uint64_t, MonoTime> strangers_contacted_;
};

}  // namespace ckv
