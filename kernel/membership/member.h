// Member: what one node knows about one member of the cluster (itself included).
#pragma once

#include <cstdint>
#include <string>

#include "kernel/core/address.h"
#include "kernel/core/compact_string.h"
#include "kernel/core/time.h"
#include "kernel/wire/messages.h"

namespace ckv {

using wire::Incarnation;
using wire::MemberState;

struct Member {
  CompactString name;
  Address addr;
  Incarnation incarnation = 0;
  MemberState state = MemberState::kDead;
  MonoTime state_since{};  // when `state` last changed

  bool alive() const { return state == MemberState::kAlive; }
  // Alive or suspect: still a member as far as probing and gossip are concerned.
  bool active() const { return state == MemberState::kAlive || state == MemberState::kSuspect; }
  bool gone() const { return state == MemberState::kDead || state == MemberState::kLeft; }
};

// A change in a node's view of one member; the kernel reports each as an output.
struct MemberChange {
  MonoTime at;
  std::string name;
  Address addr;
  MemberState from_state;
  Incarnation from_incarnation;
  MemberState to_state;
  Incarnation to_incarnation;
  bool is_new;  // the member was not in the table before
  bool reaped;  // the member was removed from the table (to_state is its last state)
};

}  // namespace ckv
