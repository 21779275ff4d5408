// The client side of the key-value layer: what a get, put or delete answers, and the
// condition a conditional write carries.
//
// Every operation carries a request id chosen by the driver, below kInternalRequest;
// exactly one Reply with that id comes out of the node's outbox, at once for local work,
// later for cluster reads and conditional writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/kv/content_type.h"
#include "kernel/kv/version.h"

namespace ckv {

enum class ClientOp : uint8_t { kGet = 0, kPut = 1, kDelete = 2, kList = 3 };

enum class ReplyStatus : uint8_t {
  kOk = 0,        // get: `value` holds the value; put/delete: done, `version` is the write's
  kNotFound = 1,  // get: no member holds a value (`version`: the tombstone's, if any)
  kTimeout = 2,   // get: no member answered within the timeout, and this node holds nothing
  kError = 3,     // bad input, a store failure or too much load; `code` and `error` say which
  // A conditional write whose condition did not hold: nothing was written. `version` is
  // the key's current value's (zero: the key has no value).
  kPreconditionFailed = 4,
};
inline constexpr size_t kReplyStatusCount = 5;
static_assert(static_cast<size_t>(ReplyStatus::kPreconditionFailed) + 1 == kReplyStatusCount);
const char* to_string(ReplyStatus status);

// Request ids from this one up are the kernel's own (a driver's must stay below it).
inline constexpr uint64_t kInternalRequest = uint64_t{1} << 63;

// What a conditional write (put or delete) requires of the key's current state, as HTTP's
// If-Match and If-None-Match do (RFC 9110 section 13.1). Decided by the key's owner after
// a cluster read (kv/key_value.h, "conditional writes").
struct WriteCondition {
  enum class Kind : uint8_t {
    kNone = 0,      // unconditional
    kAbsent = 1,    // If-None-Match: *  -- no value exists (create only)
    kExists = 2,    // If-Match: *       -- a value exists
    kMatch = 3,     // If-Match: "v"...  -- the current value's version is one of `versions`
    kNotMatch = 4,  // If-None-Match: "v"... -- no value, or one not in `versions`
  };
  static constexpr size_t kMaxVersions = 16;
  Kind kind = Kind::kNone;
  std::vector<Version> versions;  // kMatch, kNotMatch
  // Whether the condition holds when the key's current value has `version` (`exists`
  // false: the key has no value).
  bool holds(bool exists, const Version& version) const;
  friend bool operator==(const WriteCondition&, const WriteCondition&) = default;
};
inline constexpr size_t kWriteConditionKindCount = 5;

// One key of a listing: its current value's version, size and expiry (0: never); with
// values asked for, the value and its content type too.
struct ListedKey {
  std::string key;
  Version version;
  uint64_t size = 0;
  uint64_t expires_us = 0;
  std::string value;
  ContentType content;
  friend bool operator==(const ListedKey&, const ListedKey&) = default;
};

struct Reply {
  uint64_t request = 0;
  ClientOp op = ClientOp::kGet;
  ReplyStatus status = ReplyStatus::kOk;
  Version version;
  std::string value;
  std::string error;
  // Get of a value, or put: when the value expires (wall-clock microseconds), 0 never.
  uint64_t expires_us = 0;
  // Get of a value: what its writer said it is (empty: not given).
  ContentType content;
  // kError only: kInvalidArgument or kOversized (the request was bad), kNoSpace (the store
  // is full or at its bound), kIoError (the store failed), kUnavailable (retry later).
  ErrorCode code = ErrorCode::kInvalidArgument;
  // Get only. `remote`: the cluster was asked (the node had no current copy). `current`
  // is false when some member alive at the start never answered before the timeout, so
  // a newer version may exist; the answer is then the newest this node could find.
  bool remote = false;
  bool current = true;
  // List only: the keys with a value, in key order, and where the next page starts
  // (empty: this was the last page). `current` is false when a member stayed silent or a
  // newest version was held by nobody who answered (as for a get).
  std::vector<ListedKey> keys;
  std::string next;
  // Get only: rounds of questions this get waited for — one, plus one for each write of
  // the key that raced it (its answers predated an invalidation that arrived meanwhile).
  // A get that joined a read already in flight counts the round then in flight too (it
  // waited for it to end before its own round was asked).
  uint32_t rounds = 0;
};

}  // namespace ckv
