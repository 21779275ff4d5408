// How a record's kind travels in answers (QueryReply, ListKeysReply) and back: a value,
// a tombstone, or a marker of a newer version held elsewhere.
#pragma once

#include "kernel/kv/store.h"
#include "kernel/wire/messages.h"

namespace ckv {

inline wire::QueryAnswer answer_of(RecordKind kind) {
  switch (kind) {
    case RecordKind::kValue:
      return wire::QueryAnswer::kValue;
    case RecordKind::kTombstone:
      return wire::QueryAnswer::kTombstone;
    case RecordKind::kInvalidated:
      return wire::QueryAnswer::kInvalidated;
  }
  return wire::QueryAnswer::kNotFound;
}

// kNotFound has no record kind: it reads as a marker (the caller checks for it first).
inline RecordKind kind_of(wire::QueryAnswer answer) {
  switch (answer) {
    case wire::QueryAnswer::kValue:
      return RecordKind::kValue;
    case wire::QueryAnswer::kTombstone:
      return RecordKind::kTombstone;
    default:
      return RecordKind::kInvalidated;
  }
}

}  // namespace ckv
