// The node-to-node messages, as plain values.
//
// Membership: SWIM failure detection (ping, indirect ping, ack, nack), the three kinds of
// member news that gossip carries (alive, suspect, dead), and the push-pull full state
// exchange. Key-value: invalidations from each node's numbered log and their acks and
// resets, and cluster reads (query, query reply). The byte format lives in codec.h; these
// types carry no encoding logic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/kv/client.h"
#include "kernel/kv/version.h"

namespace ckv::wire {

using Incarnation = uint32_t;

enum class MemberState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };
inline constexpr size_t kMemberStateCount = 4;
static_assert(static_cast<size_t>(MemberState::kLeft) + 1 == kMemberStateCount);
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
  kInvalidate = 9,
  kInvalidateAck = 10,
  kInvalidateReset = 11,
  kQuery = 12,
  kQueryReply = 13,
  kNewer = 14,
  // Revision 2: a QueryReply holding a value with an expiry (see QueryReply::expires_us).
  kExpiringQueryReply = 15,
  // Revision 3: collection of tombstones and markers (see CollectCheck).
  kCollectCheck = 16,
  kCollectAck = 17,
  // Revision 4: conditional writes, decided by the key's owner (see CondWrite).
  kCondWrite = 18,
  kCondResult = 19,
  // Revision 4 too: listing keys (see ListKeys).
  kListKeys = 20,
  kListKeysReply = 21,
  // Revision 4 too: a QueryReply holding a value with a content type (see QueryReply).
  kTypedQueryReply = 22,
};
// The highest type this revision knows (types from kPing up to it are all defined).
inline constexpr MessageType kLastMessageType = MessageType::kTypedQueryReply;
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

// A label a node gives itself (`--tag role=cache`), carried in membership gossip like
// memberlist's node meta: it changes only with the node's incarnation. Limits and order:
// kernel/membership/tags.h.
struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};
using Tags = std::vector<Tag>;

struct Alive {
  Incarnation incarnation = 0;
  std::string node;
  Address addr;
  Tags tags;  // the node's tags at this incarnation (revision 5)
  // False: the message does not say the tags (it came through a node of an earlier
  // revision, which drops them); `tags` is then empty and means nothing.
  bool tags_said = true;
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
  Tags tags;              // revision 5: sent after all the records (see codec.cpp)
  bool tags_said = true;  // as Alive's
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

// What the write behind an invalidation entry was; kUnknown: the sender holds only a
// marker of the version (it re-announces a version it learnt of, not one it wrote).
enum class EntryKind : uint8_t { kPut = 0, kDelete = 1, kUnknown = 2 };
inline constexpr size_t kEntryKindCount = 3;
struct EntryWrite {
  EntryKind kind = EntryKind::kUnknown;
  uint64_t expires_us = 0;  // kPut: when its value expires (wall-clock us; 0: never)
  friend bool operator==(const EntryWrite&, const EntryWrite&) = default;
};

struct KeyVersion {
  std::string key;
  Version version;
  friend bool operator==(const KeyVersion&, const KeyVersion&) = default;
};

// Entries `first_seq`, `first_seq + 1`, ... of `origin`'s invalidation log `log_id`: each
// says "`key` now has `version`; drop older copies". A log lives as long as its node's
// process; a restarted node starts a new log with a new random id.
struct Invalidate {
  std::string origin;
  uint64_t log_id = 0;
  uint64_t first_seq = 0;
  std::vector<KeyVersion> entries;
  // Revision 4: one per entry, what its write was (watchers are told puts from deletes,
  // and when a put's value expires); empty when the sender, of an earlier revision, did
  // not say. After the entries: a kind byte each, a put's followed by its expiry (varint).
  std::vector<EntryWrite> writes;
  friend bool operator==(const Invalidate&, const Invalidate&) = default;
};

// From `member` to a log's origin: "I have applied log `log_id` through `applied`"
// (0: nothing of it). The origin resends what follows.
struct InvalidateAck {
  std::string member;
  uint64_t log_id = 0;
  uint64_t applied = 0;
  friend bool operator==(const InvalidateAck&, const InvalidateAck&) = default;
};

// From a log's origin: "what you miss is no longer in my log, which is at `head`":
// the receiver revalidates its copies and resumes after `head`.
struct InvalidateReset {
  std::string origin;
  uint64_t log_id = 0;
  uint64_t head = 0;
  friend bool operator==(const InvalidateReset&, const InvalidateReset&) = default;
};

// A cluster read: "what do you hold for `key`?"; answered with a QueryReply, as a
// datagram when small, over the stream channel when not.
struct Query {
  uint64_t id = 0;
  std::string key;
  friend bool operator==(const Query&, const Query&) = default;
};

enum class QueryAnswer : uint8_t { kNotFound = 0, kValue = 1, kTombstone = 2, kInvalidated = 3 };

struct QueryReply {
  uint64_t id = 0;
  std::string responder;
  QueryAnswer answer = QueryAnswer::kNotFound;
  Version version;    // all but kNotFound
  std::string value;  // kValue only
  // kValue only: when the value expires (wall-clock microseconds), 0 never. A reply with
  // an expiry travels as a frame of its own type (kExpiringQueryReply: id, responder,
  // version, expiry, value), which a revision-1 node skips: to it that responder is silent.
  uint64_t expires_us = 0;
  // kValue only: what the value is. A reply with one travels as kTypedQueryReply (id,
  // responder, version, expiry, media type, encoding, value), which a node before
  // revision 4 skips (that responder is silent to it), whatever its expiry.
  ContentType content;
  friend bool operator==(const QueryReply&, const QueryReply&) = default;
};

// "These keys have these newer versions": the receiver treats each entry as an
// invalidation. Sent to a writer whose invalidation was older than what the receiver
// holds, and after a read to members whose answers were older than its result (read
// repair), so knowledge of a version spreads even when its origin is gone.
struct Newer {
  std::vector<KeyVersion> entries;
  friend bool operator==(const Newer&, const Newer&) = default;
};

// From a node about to collect (remove) its records of these keys: "hold nothing older
// than these versions". The receiver treats each entry as an invalidation, even of a key
// it holds no record of (reads it has in flight install nothing older), and answers with
// a CollectAck once what it holds is at least as new. The collector removes a record only
// after every member has answered two checks of it in a row (see docs/kv-protocol.md).
struct CollectCheck {
  std::string origin;
  uint64_t round = 0;
  std::vector<KeyVersion> entries;
  friend bool operator==(const CollectCheck&, const CollectCheck&) = default;
};

// From `member` to a collector: round `round` is applied (`clean`), or could not be (its
// store refused a marker: `clean` false).
struct CollectAck {
  std::string member;
  uint64_t round = 0;
  bool clean = false;
  friend bool operator==(const CollectAck&, const CollectAck&) = default;
};

// From `origin` to the owner of `key` (by its view): "decide this conditional write for
// me". Always on the stream channel (it may carry a large value). Answered with a
// CondResult carrying the same id, or not at all (then the origin times out).
struct CondWrite {
  uint64_t id = 0;
  std::string origin;
  std::string key;
  bool erase = false;  // a delete; else a put of `value`
  WriteCondition condition;
  uint64_t ttl_us = 0;  // puts: the value's time to live (0: none)
  ContentType content;  // puts: what the value is
  std::string value;
  friend bool operator==(const CondWrite&, const CondWrite&) = default;
};

// From the owner (`responder`) to the origin of CondWrite `id`: what became of it.
struct CondResult {
  enum class Outcome : uint8_t {
    kWritten = 0,  // `version` is the write's, `expires_us` its expiry
    kFailed = 1,   // the condition did not hold: `version` is the current value's
    kError = 2,    // `code` and `error` say why; nothing was written
  };
  uint64_t id = 0;
  std::string responder;
  Outcome outcome = Outcome::kError;
  Version version;
  uint64_t expires_us = 0;
  ErrorCode code = ErrorCode::kUnavailable;
  std::string error;
  friend bool operator==(const CondResult&, const CondResult&) = default;
};
inline constexpr size_t kCondOutcomeCount = 3;

// Value bytes after which a listing's answer with values stops (see ListKeys::values):
// bounds each answer whatever the limit, so pages of large values stay well inside a
// stream frame.
inline constexpr size_t kListValueBytes = 4 * 1024 * 1024;

// From `origin`, listing keys, to every member it holds active: "your records of the keys
// that start with `prefix` and sort after `after`, the first `limit` of them". Stream
// channel; answered with a ListKeysReply.
struct ListKeys {
  uint64_t id = 0;
  std::string origin;
  std::string prefix;
  std::string after;
  uint32_t limit = 0;
  // Send the values too (with their content types); the answer then also stops once its
  // values pass kListValueBytes, after the record that passed it.
  bool values = false;
  friend bool operator==(const ListKeys&, const ListKeys&) = default;
};

// One record in a listing's answer: values with their size and expiry, tombstones and
// markers with their version only (they hide older values held elsewhere). Values asked
// for: a kValue record carries the value and its content type too.
struct ListedRecord {
  std::string key;
  QueryAnswer kind = QueryAnswer::kValue;  // kValue, kTombstone or kInvalidated
  Version version;
  uint64_t size = 0;
  uint64_t expires_us = 0;
  ContentType content;
  std::string value;
  friend bool operator==(const ListedRecord&, const ListedRecord&) = default;
};

// `responder`'s records for ListKeys `id`, in key order; `more`: it holds more after the
// last one (it stopped at the limit).
struct ListKeysReply {
  uint64_t id = 0;
  std::string responder;
  bool more = false;
  std::vector<ListedRecord> records;
  friend bool operator==(const ListKeysReply&, const ListKeysReply&) = default;
};

using Message =
    std::variant<Ping, IndirectPing, Ack, Nack, Alive, Suspect, Dead, PushPull, Invalidate,
                 InvalidateAck, InvalidateReset, Query, QueryReply, Newer, CollectCheck, CollectAck,
                 CondWrite, CondResult, ListKeys, ListKeysReply>;

MessageType type_of(const Message& m);

}  // namespace ckv::wire
