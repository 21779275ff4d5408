// The versioned binary wire format of node-to-node packets.
//
//   packet  = version:u8 frame*            (version: generation << 4 | revision)
//   frame   = type:u8 length:varint body   (body is exactly `length` bytes)
//
// One datagram or stream frame carries one packet, so a probe and the gossip piggybacked
// on it travel together. Decoding is all-or-nothing and total: any byte string yields
// either every message or an Error (truncated, malformed, oversized, unknown version or
// type); it never reads outside its input and never allocates more than the input could
// justify.
//
// Versions, for rolling upgrades: a later *revision* of the same generation may only add
// fields at the end of a frame's body and add frame types, so nodes of different revisions
// understand each other. A packet of a revision newer than ours is decoded by the rules we
// know: bytes after the fields we know, and frames of types we do not know, are skipped.
// A packet of our revision or an older one must hold nothing we do not know (anything
// else is malformed). A packet of another generation, or revision 0, is refused: a change
// that old nodes cannot skip needs a new generation. (A QueryReply's value runs to the end
// of its frame, so a revision cannot append to it; it adds a frame type instead.)
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "kernel/core/result.h"
#include "kernel/wire/messages.h"

namespace ckv::wire {

// Generation 0, revision 5 (revision 2 added the frame type kExpiringQueryReply, revision
// 3 kCollectCheck and kCollectAck, revision 4 kCondWrite, kCondResult, kListKeys and
// kListKeysReply, revision 5 tags at the end of Alive and PushPull; an earlier revision's
// decoder skips them as a later revision's additions).
inline constexpr uint8_t kWireVersion = 0x05;
inline constexpr uint8_t wire_generation(uint8_t version) {
  return version >> 4;
}
inline constexpr uint8_t wire_revision(uint8_t version) {
  return version & 0x0f;
}
inline constexpr size_t kMaxNameBytes = 255;
// The protocol's bound on a key; configuration sets a node's own (smaller) limit.
inline constexpr size_t kMaxKeyBytes = 64 * 1024;

struct DecodeLimits {
  size_t max_packet_bytes = 64 * 1024;
  size_t max_members = 1 << 16;  // records in one push-pull, entries in one invalidation
  size_t max_frames = 255;       // messages in one packet
};

// Starts a packet in `out` (clearing it) by writing the version byte.
void begin_packet(std::vector<uint8_t>& out);

// Appends one frame holding `m` to `out`.
void append_frame(std::vector<uint8_t>& out, const Message& m);

// A whole packet holding `messages`, in order.
std::vector<uint8_t> encode_packet(std::span<const Message> messages);

// Decodes a packet into `out` (cleared first). On error `out` is left empty.
Status decode_packet(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                     std::vector<Message>& out);

// Walks the frames of a packet without decoding bodies, calling `visit(type, frame_bytes)`
// for each; for traces and statistics. Stops at the first framing error and returns it.
Status for_each_frame(std::span<const uint8_t> packet,
                      const std::function<void(uint8_t type, size_t frame_bytes)>& visit);

// One line describing a decoded message, for traces and logs.
std::string describe(const Message& m);

}  // namespace ckv::wire
