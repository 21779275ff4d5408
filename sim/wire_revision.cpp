#include "sim/wire_revision.h"

#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"
#include "kernel/wire/messages.h"

namespace ckv::sim {

namespace {
constexpr uint8_t kUnknownType = 200;  // a frame type no build of generation 0 knows
constexpr uint8_t kAddedField[] = {0x5a, 0x00};
}  // namespace

std::optional<std::vector<uint8_t>> as_later_revision(std::span<const uint8_t> packet,
                                                      uint8_t version, size_t max_bytes) {
  if (packet.empty()) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(packet.size() + 16);
  out.push_back(version);
  wire::ByteWriter w(out);
  wire::ByteReader r(packet.subspan(1));
  while (!r.at_end()) {
    const uint8_t type = r.u8();
    const uint64_t length = r.varint();
    const size_t body_at = packet.size() - r.remaining();
    r.take(length);
    if (r.failed()) return std::nullopt;
    const std::span<const uint8_t> body = packet.subspan(body_at, length);
    // (A query reply's value runs to the end of its frame.)
    const bool append = type != static_cast<uint8_t>(wire::MessageType::kQueryReply) &&
                        type != static_cast<uint8_t>(wire::MessageType::kExpiringQueryReply);
    w.u8(type);
    w.varint(length + (append ? sizeof kAddedField : 0));
    out.insert(out.end(), body.begin(), body.end());
    if (append) out.insert(out.end(), std::begin(kAddedField), std::end(kAddedField));
  }
  w.u8(kUnknownType);
  w.varint(1);
  w.u8(0);
  if (out.size() > max_bytes) return std::nullopt;
  return out;
}

}  // namespace ckv::sim
