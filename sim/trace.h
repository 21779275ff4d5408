// Trace: the record of a simulated run. Every delivery, drop, member change, fault and
// node lifecycle step is folded into a 64-bit hash (message bytes included), so two runs
// are identical exactly when their hashes match. The last records are kept in a ring for
// violation reports; with a sink, every record is also printed as it happens.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/core/time.h"

namespace ckv::sim {

enum class TraceKind : uint8_t {
  kDeliver,    // a: from, b: to, sub: channel, x: bytes, y: hash of the bytes
  kDrop,       // a: from, b: to, sub: DropReason, x: bytes
  kChange,     // a: observer, b: subject, sub: new state, x: old state, y: incarnation
  kFault,      // a: node, sub: FaultKind, x: duration (us)
  kLifecycle,  // a: node, sub: Lifecycle
  kPhase,      // sub: 0 chaos starts, 1 quiet starts, 2 run ends
  kNote,       // free text (violations), hashed by its text
  kReply,      // a: node, b: key index, sub: ReplyStatus, x: ClientOp, y: version wall us
};

enum class Lifecycle : uint8_t { kStart, kCrash, kRestart, kLeaveStart, kLeft, kResume };
inline constexpr size_t kLifecycleCount = 6;
static_assert(static_cast<size_t>(Lifecycle::kResume) + 1 == kLifecycleCount);

struct TraceRecord {
  MonoTime at;
  TraceKind kind;
  uint8_t sub = 0;
  uint32_t a = 0;
  uint32_t b = 0;
  uint64_t x = 0;
  uint64_t y = 0;
  std::array<uint8_t, 4> types{};  // message types in a packet, for readable deliveries
  uint8_t type_count = 0;
};

class Trace {
 public:
  using Sink = std::function<void(std::string_view line)>;
  explicit Trace(size_t ring_capacity, Sink sink = nullptr);

  // `packet`, when given, is hashed into the record and (with a sink) decoded into the line.
  void add(TraceRecord r, std::span<const uint8_t> packet = {});
  void note(MonoTime at, const std::string& text);

  uint64_t hash() const { return hash_; }
  uint64_t records() const { return count_; }
  // The ring's records, oldest first, formatted.
  std::vector<std::string> recent() const;

  static std::string format(const TraceRecord& r);

 private:
  void fold(const TraceRecord& r);

  std::vector<TraceRecord> ring_;
  std::vector<std::string> ring_notes_;  // text of kNote records, by ring slot
  size_t next_ = 0;
  uint64_t count_ = 0;
  uint64_t hash_;
  Sink sink_;
};

}  // namespace ckv::sim
