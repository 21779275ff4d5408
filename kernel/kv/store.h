// Store: where a node keeps its keys, behind an interface the kernel calls synchronously.
//
// Each key holds one Record: a value, a tombstone (the key was deleted), or an
// invalidation marker (a newer version exists elsewhere; this node holds no value for it).
// The kernel also keeps a few numbers of its own ("meta": the clock ceiling, the epoch).
//
// What implementations promise:
//  - `get` sees every `put`/`erase` made before it by this process;
//  - `put_meta` is durable when it returns (it survives a crash);
//  - `put`/`erase` are durable when the implementation says so (the production store
//    with --sync, the in-memory store in durable mode); otherwise a crash may lose the
//    latest ones, never reorder them or tear a record;
//  - `write_batch` applies all of its writes or none, also across a crash.
// Failures come back as values; the kernel answers the client with an error and goes on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "kernel/core/result.h"
#include "kernel/kv/content_type.h"
#include "kernel/kv/version.h"

namespace ckv {

enum class RecordKind : uint8_t {
  kValue = 0,
  kTombstone = 1,
  kInvalidated = 2,
};
inline constexpr size_t kRecordKindCount = 3;
static_assert(static_cast<size_t>(RecordKind::kInvalidated) + 1 == kRecordKindCount);
const char* to_string(RecordKind kind);

struct Record {
  RecordKind kind = RecordKind::kValue;
  Version version;
  // The epoch in which this copy was last confirmed current (see kv/key_value.h); 0 if
  // never (epochs start at 1).
  uint64_t validated_epoch = 0;
  std::string value;  // kValue only
  // kValue only: the wall-clock microsecond at which the value expires (its TTL ran out);
  // 0: never. From then on the node treats it as a tombstone of the same version.
  uint64_t expires_us = 0;
  ContentType content;  // kValue only: what its writer said the value is

  friend bool operator==(const Record&, const Record&) = default;
};

// Whether `record` is a value whose TTL has run out by wall-clock microsecond `wall_us`.
inline bool expired(const Record& record, uint64_t wall_us) {
  return record.kind == RecordKind::kValue && record.expires_us != 0 &&
         record.expires_us <= wall_us;
}

enum class MetaKey : uint8_t {
  kClockCeiling = 0,        // HybridClock lease, wall microseconds
  kEpoch = 1,               // last epoch this node used
  kLastContact = 2,         // wall microseconds when another member last probed this node
  kCollectPausedUntil = 3,  // wall microseconds: no collection before (a failed member was reaped)
};

// One write of a batch: `record` null erases the key.
struct RecordWrite {
  std::string_view key;
  const Record* record;
};

class Store {
 public:
  virtual ~Store() = default;

  // True and fills `out` when the key has a record; false when it has none.
  virtual Result<bool> get(std::string_view key, Record& out) = 0;
  virtual Status put(std::string_view key, const Record& record) = 0;
  virtual Status erase(std::string_view key) = 0;
  // Applies every write at once (in order: the last write of a key wins); on failure none.
  virtual Status write_batch(std::span<const RecordWrite> writes) = 0;
  // Visits every record whose key is `from` or after it, in key order, until `visit`
  // returns false.
  virtual Status for_each_from(
      std::string_view from,
      const std::function<bool(std::string_view key, const Record& record)>& visit) = 0;
  // Visits every record until `visit` returns false.
  Status for_each(const std::function<bool(std::string_view key, const Record& record)>& visit) {
    return for_each_from({}, visit);
  }

  // 0 when never written.
  virtual Result<uint64_t> get_meta(MetaKey key) = 0;
  virtual Status put_meta(MetaKey key, uint64_t value) = 0;
};

}  // namespace ckv
