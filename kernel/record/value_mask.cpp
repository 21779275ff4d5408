#include "kernel/record/value_mask.h"

#include <cstring>
#include <variant>

#include "kernel/wire/codec.h"

namespace ckv::record {

namespace {

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

void ValueMask::mask(std::string& value) const {
  if (value.empty()) return;
  const uint64_t h = hash_bytes(value, key_);
  for (size_t i = 0; i < value.size(); i += 8) {
    const uint64_t word = mix(h + i);
    std::memcpy(value.data() + i, &word, std::min<size_t>(8, value.size() - i));
  }
}

void ValueMask::mask(Record& record) const {
  mask(record.value);
}

void ValueMask::mask_packet(std::vector<uint8_t>& packet) const {
  // Every packet the kernel decodes: its generation, any revision (a rolling upgrade).
  if (packet.empty() ||
      wire::wire_generation(packet[0]) != wire::wire_generation(wire::kWireVersion) ||
      wire::wire_revision(packet[0]) == 0) {
    return;
  }
  // Most packets carry no value (probes, gossip, invalidations): seen from the frame
  // types alone, without decoding.
  bool carries = false;
  (void)wire::for_each_frame(packet, [&](uint8_t type, size_t) {
    const auto t = static_cast<wire::MessageType>(type);
    carries = carries || t == wire::MessageType::kQueryReply ||
              t == wire::MessageType::kExpiringQueryReply ||
              t == wire::MessageType::kTypedQueryReply || t == wire::MessageType::kCondWrite ||
              t == wire::MessageType::kListKeysReply;
  });
  if (!carries) return;
  wire::DecodeLimits limits;
  limits.max_packet_bytes = packet.size();
  limits.max_frames = 1 << 16;
  std::vector<wire::Message> messages;
  if (!wire::decode_packet(packet, limits, messages).ok()) return;
  bool any = false;
  for (wire::Message& m : messages) {
    if (auto* reply = std::get_if<wire::QueryReply>(&m)) {
      any = any || !reply->value.empty();
      mask(reply->value);
    } else if (auto* write = std::get_if<wire::CondWrite>(&m)) {
      any = any || !write->value.empty();
      mask(write->value);
    } else if (auto* listing = std::get_if<wire::ListKeysReply>(&m)) {
      for (wire::ListedRecord& r : listing->records) {
        any = any || !r.value.empty();
        mask(r.value);
      }
    }
  }
  if (!any) return;
  wire::begin_packet(packet);
  for (const wire::Message& m : messages)
    wire::append_frame(packet, m);
}

void ValueMask::mask(Effects& effects) const {
  for (Send& s : effects.sends)
    mask_packet(s.bytes);
  for (Reply& r : effects.replies) {
    mask(r.value);
    for (ListedKey& k : r.keys)
      mask(k.value);
  }
}

void ValueMask::mask(Event& e) const {
  mask(e.value);
  mask(e.record);
  if (e.type == Type::kMessage) mask_packet(e.bytes);
  mask(e.released);
  for (auto& [key, rec] : e.writes) {
    if (rec) mask(*rec);
  }
}

}  // namespace ckv::record
