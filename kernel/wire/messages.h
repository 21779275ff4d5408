// The node-to-node messages of the membership protocol, as plain values.
//
// SWIM failure detection (ping, indirect ping, ack, nack), the three kinds of member news
// that gossip carries (alive, suspect, dead), and the push-pull full state exchange. The
// byte format lives in codec.h; these types carry no encoding logic.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "kernel/core/address.h"

namespace ckv::wire {

using Incarnation = uint32_t;

enum class MemberState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };
const char* to_string(MemberState state);

enum class MessageType : uint8_t {
  kPing = 1,
  kIndirectPing = 2,
  kAck = 3,
  kNack = 4,
  kAlive = 5,
  kSuspect = 6,
  kDead = 7,
  kPushPull = 8,
};
const char* to_string(MessageType type);

// "Are you alive?" to `target`; answered with an Ack carrying the same seq.
struct Ping {
  uint32_t seq = 0;
  std::string target;  // the name the sender believes lives at the address
  friend bool operator==(const Ping&, const Ping&) = default;
};

// "Please ping `target` for me": the receiver pings and forwards the ack, or sends a Nack
// when `want_nack` is set and the target stays silent.
struct IndirectPing {
  uint32_t seq = 0;
  std::string target;
  Address target_addr;
  bool want_nack = false;
  friend bool operator==(const IndirectPing&, const IndirectPing&) = default;
};

struct Ack {
  uint32_t seq = 0;
  friend bool operator==(const Ack&, const Ack&) = default;
};

// "I relayed your indirect ping and the target did not answer" (Lifeguard).
struct Nack {
  uint32_t seq = 0;
  friend bool operator==(const Nack&, const Nack&) = default;
};

struct Alive {
  Incarnation incarnation = 0;
  std::string node;
  Address addr;
  friend bool operator==(const Alive&, const Alive&) = default;
};

struct Suspect {
  Incarnation incarnation = 0;
  std::string node;
  std::string from;  // who suspects; distinct accusers confirm a suspicion (Lifeguard)
  friend bool operator==(const Suspect&, const Suspect&) = default;
};

// `from == node` means the node left gracefully.
struct Dead {
  Incarnation incarnation = 0;
  std::string node;
  std::string from;
  friend bool operator==(const Dead&, const Dead&) = default;
};

struct MemberRecord {
  std::string name;
  Address addr;
  Incarnation incarnation = 0;
  MemberState state = MemberState::kAlive;
  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

// Full membership state of the sender. A request (`reply == false`) is answered with the
// receiver's own state, sent over the stream channel to `sender_addr`.
struct PushPull {
  bool join = false;   // sent to a seed while joining
  bool reply = false;  // this is the answer to a request
  std::string sender;
  Address sender_addr;
  std::vector<MemberRecord> members;
  friend bool operator==(const PushPull&, const PushPull&) = default;
};

using Message = std::variant<Ping, IndirectPing, Ack, Nack, Alive, Suspect, Dead, PushPull>;

MessageType type_of(const Message& m);

}  // namespace ckv::wire
