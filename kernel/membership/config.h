// MembershipConfig: every tunable of the SWIM/Lifeguard membership layer in one place.
// The defaults are memberlist's LAN profile (the values serf and Consul ship with), plus
// serf's reconnect and reap timeouts.
#pragma once

#include <chrono>
#include <cstddef>

#include "kernel/core/time.h"
#include "kernel/wire/messages.h"

namespace ckv {

struct MembershipConfig {
  using ms = std::chrono::milliseconds;
  using s = std::chrono::seconds;

  // This node's tags at start (kernel/membership/tags.h: sorted, bounded); change them
  // later with Membership::set_tags.
  wire::Tags tags;

  // Failure detection.
  Duration probe_interval = ms(1000);  // one probe of one member per interval
  Duration probe_timeout = ms(500);    // direct ack wait before indirect probes
  int indirect_checks = 3;             // members asked to probe on our behalf

  // Dissemination.
  Duration gossip_interval = ms(200);
  int gossip_nodes = 3;                 // random members per gossip round
  Duration gossip_to_the_dead = s(30);  // keep gossiping to members this long after death
  int retransmit_mult = 4;              // each update sent mult * ceil(log10(n+1)) times
  size_t datagram_budget = 1400;        // bytes per datagram, piggybacked gossip included

  // Suspicion (Lifeguard): timeout = suspicion_mult * max(1, log10(n)) * probe_interval,
  // started at suspicion_max_timeout_mult times that and shrunk by confirmations.
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  int awareness_max_multiplier = 8;  // local health scales probe timing up to x8

  // Lifeguard on: local health awareness, nacks, confirmation-shrunk suspicion timeouts
  // and telling a suspect it is suspected. Off: plain SWIM with a fixed suspicion timeout.
  bool lifeguard = true;

  // Anti-entropy and healing.
  Duration push_pull_interval = s(30);  // scaled up beyond 32 members, like memberlist
  Duration reconnect_interval = s(30);  // try to reach one failed member this often
  Duration join_retry_min = s(1);       // first retry of unanswered join seeds
  Duration join_retry_max = s(30);      // retry backoff cap

  // Forgetting.
  Duration reconnect_timeout = std::chrono::hours(24);  // reap failed members after this
  Duration tombstone_timeout = std::chrono::hours(24);  // reap left members after this

  // Input limits.
  size_t max_datagram_bytes = 64 * 1024;
  size_t max_stream_bytes = 32 * 1024 * 1024;
  size_t max_datagram_frames = 255;  // messages in one datagram (memberlist's compound limit)
  size_t max_stream_frames = 16;     // messages in one stream message
  size_t max_members = 1 << 16;      // full: the longest-gone member makes room, or news waits

  friend bool operator==(const MembershipConfig&, const MembershipConfig&) = default;
};

}  // namespace ckv
