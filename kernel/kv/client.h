// The client side of the key-value layer: what a get, put or delete answers.
//
// Every operation carries a request id chosen by the driver; exactly one Reply with that
// id comes out of the node's outbox, at once for local work, later for cluster reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernel/core/result.h"
#include "kernel/kv/version.h"

namespace ckv {

enum class ClientOp : uint8_t { kGet = 0, kPut = 1, kDelete = 2 };

enum class ReplyStatus : uint8_t {
  kOk = 0,        // get: `value` holds the value; put/delete: done, `version` is the write's
  kNotFound = 1,  // get: no member holds a value (`version`: the tombstone's, if any)
  kTimeout = 2,   // get: no member answered within the timeout, and this node holds nothing
  kError = 3,     // bad input, a store failure or too much load; `code` and `error` say which
};
inline constexpr size_t kReplyStatusCount = 4;
static_assert(static_cast<size_t>(ReplyStatus::kError) + 1 == kReplyStatusCount);
const char* to_string(ReplyStatus status);

struct Reply {
  uint64_t request = 0;
  ClientOp op = ClientOp::kGet;
  ReplyStatus status = ReplyStatus::kOk;
  Version version;
  std::string value;
  std::string error;
  // Get of a value, or put: when the value expires (wall-clock microseconds), 0 never.
  uint64_t expires_us = 0;
  // kError only: kInvalidArgument or kOversized (the request was bad), kNoSpace (the store
  // is full or at its bound), kIoError (the store failed), kUnavailable (retry later).
  ErrorCode code = ErrorCode::kInvalidArgument;
  // Get only. `remote`: the cluster was asked (the node had no current copy). `current`
  // is false when some member alive at the start never answered before the timeout, so
  // a newer version may exist; the answer is then the newest this node could find.
  bool remote = false;
  bool current = true;
  // Get only: rounds of questions this get waited for — one, plus one for each write of
  // the key that raced it (its answers predated an invalidation that arrived meanwhile).
  // A get that joined a read already in flight counts from the round asked for it.
  uint32_t rounds = 0;
};

}  // namespace ckv
