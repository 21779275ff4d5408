#include "sim/trace.h"

#include <cstdio>
#include <cstring>

#include "kernel/core/enum_names.h"
#include "kernel/core/hash.h"
#include "kernel/outbox.h"
#include "kernel/wire/codec.h"
#include "sim/fault_plan.h"
#include "sim/network.h"

namespace ckv::sim {

namespace {

uint64_t hash_words(uint64_t h, std::span<const uint8_t> bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word = 0;
    for (int k = 7; k >= 0; --k)
      word = (word << 8) | bytes[i + static_cast<size_t>(k)];
    h = hash_word(h, word);
  }
  for (; i < bytes.size(); ++i)
    h = hash_word(h, bytes[i]);
  return h;
}

// Every byte of a packet up to 4 KiB; of a larger one (a big value in flight) its size and
// its first and last 2 KiB, which hold every header and enough of the body to tell runs
// apart without hashing megabytes per message.
uint64_t hash_bytes(std::span<const uint8_t> bytes) {
  constexpr size_t kWhole = 4096, kEdge = 2048;
  const uint64_t h = hash_word(kFnvOffset, bytes.size());
  if (bytes.size() <= kWhole) return hash_words(h, bytes);
  return hash_words(hash_words(h, bytes.first(kEdge)), bytes.last(kEdge));
}

constexpr auto kLifecycleNames =
    name_table({"start", "crashed", "restarted", "leaving", "left", "resumed"});
static_assert(kLifecycleNames.size() == kLifecycleCount, "one name per value");

const char* lifecycle_name(uint8_t step) {
  return name_of(kLifecycleNames, static_cast<Lifecycle>(step));
}

}  // namespace

Trace::Trace(size_t ring_capacity, Sink sink)
    : ring_(ring_capacity), ring_notes_(ring_capacity), hash_(kFnvOffset), sink_(std::move(sink)) {}

void Trace::fold(const TraceRecord& r) {
  uint64_t h = hash_;
  h = hash_word(h, static_cast<uint64_t>(micros(r.at)));
  h = hash_word(h, (uint64_t{static_cast<uint8_t>(r.kind)} << 8) | r.sub);
  h = hash_word(h, (uint64_t{r.a} << 32) | r.b);
  h = hash_word(h, r.x);
  h = hash_word(h, r.y);
  hash_ = h;
  ++count_;
}

void Trace::add(TraceRecord r, std::span<const uint8_t> packet) {
  if (!packet.empty()) {
    r.y = hash_bytes(packet);
    r.x = packet.size();
    // A packet that does not frame keeps the types read before the error; its bytes are
    // hashed all the same.
    (void)wire::for_each_frame(packet, [&](uint8_t type, size_t) {
      if (r.type_count < r.types.size()) r.types[r.type_count++] = type;
    });
  }
  fold(r);
  if (!ring_.empty()) {
    ring_[next_] = r;
    ring_notes_[next_].clear();
    next_ = (next_ + 1) % ring_.size();
  }
  if (sink_) {
    std::string line = format(r);
    if (!packet.empty()) {
      std::vector<wire::Message> messages;
      if (wire::decode_packet(packet, wire::DecodeLimits{SIZE_MAX, SIZE_MAX}, messages).ok()) {
        for (const auto& m : messages)
          line += " | " + wire::describe(m);
      }
    }
    sink_(line);
  }
}

void Trace::note(MonoTime at, const std::string& text) {
  TraceRecord r{at, TraceKind::kNote};
  r.y = fnv1a(text);
  fold(r);
  if (!ring_.empty()) {
    ring_[next_] = r;
    ring_notes_[next_] = text;
    next_ = (next_ + 1) % ring_.size();
  }
  if (sink_) sink_(format(r) + text);
}

std::vector<std::string> Trace::recent() const {
  std::vector<std::string> lines;
  const size_t held = std::min<uint64_t>(count_, ring_.size());
  for (size_t i = 0; i < held; ++i) {
    const size_t slot = (next_ + ring_.size() - held + i) % ring_.size();
    lines.push_back(format(ring_[slot]) + ring_notes_[slot]);
  }
  return lines;
}

std::string Trace::format(const TraceRecord& r) {
  char head[48];
  std::snprintf(head, sizeof head, "%12.6f  ", static_cast<double>(micros(r.at)) / 1e6);
  std::string line = head;
  auto node = [](uint32_t i) { return "n" + std::to_string(i); };
  switch (r.kind) {
    case TraceKind::kDeliver:
    case TraceKind::kDrop: {
      line += node(r.a) + " -> " + node(r.b) + " ";
      line += r.kind == TraceKind::kDeliver
                  ? (r.sub == static_cast<uint8_t>(Channel::kStream) ? "stream" : "datagram")
                  : std::string("DROPPED (") + to_string(static_cast<DropReason>(r.sub)) + ")";
      line += " " + std::to_string(r.x) + "B";
      for (uint8_t i = 0; i < r.type_count; ++i) {
        line += i == 0 ? " [" : ",";
        line += wire::to_string(static_cast<wire::MessageType>(r.types[i]));
      }
      if (r.type_count > 0) line += "]";
      break;
    }
    case TraceKind::kChange:
      line += node(r.a) + " sees " + node(r.b) + " " +
              wire::to_string(static_cast<wire::MemberState>(r.x)) + " -> " +
              wire::to_string(static_cast<wire::MemberState>(r.sub)) +
              " inc=" + std::to_string(r.y);
      break;
    case TraceKind::kFault:
      if (static_cast<FaultKind>(r.sub) == FaultKind::kClockStep) {
        line += "FAULT clock_step " + node(r.a) + " by " +
                std::to_string(static_cast<int64_t>(r.x) / 1000) + "ms";
        break;
      }
      line += std::string("FAULT ") + to_string(static_cast<FaultKind>(r.sub)) + " " + node(r.a) +
              " for " + std::to_string(r.x / 1000) + "ms";
      if (r.y != 0 && static_cast<FaultKind>(r.sub) == FaultKind::kSlowDisk) {
        line += ", commits take " + std::to_string(r.y / 1000) + "ms";
      } else if (r.y != 0) {
        line += ", input " + std::to_string(r.y / 1000) + "ms late";
      }
      break;
    case TraceKind::kLifecycle:
      line += node(r.a) + " " + lifecycle_name(r.sub);
      break;
    case TraceKind::kPhase:
      line += r.sub == 0 ? "PHASE chaos" : r.sub == 1 ? "PHASE quiet" : "PHASE end";
      break;
    case TraceKind::kNote:
      line += "NOTE ";
      break;
    case TraceKind::kReply: {
      static const char* ops[] = {"get", "put", "delete"};
      line += node(r.a) + " answers " + ops[r.x % 3] + " key" + std::to_string(r.b) + ": " +
              to_string(static_cast<ReplyStatus>(r.sub)) + " v=" + std::to_string(r.y);
      break;
    }
  }
  return line;
}

}  // namespace ckv::sim
