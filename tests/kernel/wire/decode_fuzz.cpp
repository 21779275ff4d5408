// libFuzzer target for the wire decoder (kernel/wire/codec.h): any bytes, as a node would
// decode them from a datagram or a stream message, plus under tighter limits. Beyond "no
// crash, no read out of bounds": a failed decode leaves nothing behind; a decoded packet
// encodes back to exactly its bytes (one encoding per value) and decodes again to equal
// messages; the frame walker sees the same frames; loosening a limit never turns a
// decoded packet into an error. Seeds: decode_fuzz_corpus/ (decode_fuzz_seeds.cpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "kernel/membership/config.h"
#include "kernel/wire/codec.h"

namespace {

using namespace ckv;
using namespace ckv::wire;

void require(bool ok, const char* invariant) {
  if (ok) return;
  std::fprintf(stderr, "wire_decode_fuzz: broken invariant: %s\n", invariant);
  std::abort();
}

// What Node::on_message applies to a datagram or to a stream message.
DecodeLimits node_limits(bool stream) {
  const MembershipConfig c;
  DecodeLimits limits;
  limits.max_packet_bytes = stream ? c.max_stream_bytes : c.max_datagram_bytes;
  limits.max_members = c.max_members;
  limits.max_frames = stream ? c.max_stream_frames : c.max_datagram_frames;
  return limits;
}

// Every limit at most the datagram's and the stream's, so the counts' refusals run too.
constexpr DecodeLimits kTight{64 * 1024, 2, 3};

// Decodes `bytes` and checks everything that must hold of the outcome. True: decoded.
bool decode_and_check(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                      std::vector<Message>& out) {
  out.push_back(Ack{7});  // decode_packet clears whatever was there
  const Status s = decode_packet(bytes, limits, out);
  if (!s.ok()) {
    require(out.empty(), "a failed decode leaves no messages");
    require(!s.error().detail.empty(), "an error says what went wrong");
    return false;
  }
  require(!out.empty(), "a decoded packet holds a message");
  require(out.size() <= limits.max_frames, "no more messages than max_frames");

  // A later revision's packet may hold more than we took from it (codec.h); ours may not.
  const bool later = wire_revision(bytes[0]) > wire_revision(kWireVersion);
  const std::vector<uint8_t> again = encode_packet(out);
  if (!later) {  // (an earlier revision's, but for the version byte: ours extends it)
    require(again.size() == bytes.size() &&
                std::equal(again.begin() + 1, again.end(), bytes.begin() + 1),
            "a decoded packet encodes back to exactly its bytes");
  }
  std::vector<Message> twice;
  require(decode_packet(again, limits, twice).ok(), "a re-encoded packet decodes");
  require(twice == out, "a re-encoded packet decodes to the same messages");

  size_t known = 0;  // frames of types we know: one per message, in order
  size_t frame_bytes = 0;
  bool types_match = true;
  const Status walked = for_each_frame(bytes, [&](uint8_t type, size_t n) {
    frame_bytes += n;
    const bool ours = type >= static_cast<uint8_t>(MessageType::kPing) &&
                      type <= static_cast<uint8_t>(kLastMessageType);
    if (!ours) {
      types_match = types_match && later;
      return;
    }
    types_match =
        types_match && known < out.size() && type == static_cast<uint8_t>(type_of(out[known]));
    ++known;
  });
  require(walked.ok(), "the frame walker accepts a decoded packet");
  require(types_match && known == out.size(), "the frame walker sees each message's frame");
  require(frame_bytes + 1 == bytes.size(), "the frames and the version byte are the packet");

  for (const Message& m : out) {
    require(describe(m).starts_with(to_string(type_of(m))), "describe names the message kind");
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  static const DecodeLimits datagram = node_limits(false);
  static const DecodeLimits stream = node_limits(true);
  std::vector<Message> as_datagram, as_stream, tight;
  const bool datagram_ok = decode_and_check(bytes, datagram, as_datagram);
  const bool stream_ok = decode_and_check(bytes, stream, as_stream);
  if (datagram_ok && stream_ok) require(as_datagram == as_stream, "the limits change no message");
  if (decode_and_check(bytes, kTight, tight)) {
    require(datagram_ok && stream_ok, "what decodes under tight limits decodes under looser ones");
    require(tight == as_datagram, "the limits change no message");
  }
  return 0;
}
