#include "kernel/wire/datagram_batcher.h"

#include <span>

#include "kernel/core/assert.h"
#include "kernel/wire/codec.h"

namespace ckv::wire {
namespace {

// The frames in `packet` if all are key-value messages, else 0 (a membership message, or
// not a well-formed packet).
size_t count_key_value_frames(std::span<const uint8_t> packet) {
  size_t frames = 0;
  bool key_value = true;
  Status s = for_each_frame(packet, [&](uint8_t type, size_t) {
    ++frames;
    key_value = key_value && type >= static_cast<uint8_t>(MessageType::kInvalidate);
  });
  return s.ok() && key_value ? frames : 0;
}

}  // namespace

bool DatagramBatcher::add(const Address& to, std::vector<uint8_t>& packet) {
  const size_t frames = count_key_value_frames(packet);
  if (frames == 0) return false;  // not to be packed: the caller sends it alone, now
  auto open = open_.find(to.packed());
  if (open != open_.end()) {
    CKV_ASSERT(open->second < datagrams_.size() && datagrams_[open->second].to == to,
               "an open datagram index maps back to its peer");
    Datagram& d = datagrams_[open->second];
    // The version byte is shared: only the frames are appended.
    if (d.bytes.size() + packet.size() - 1 <= budget_bytes_ && d.frames + frames <= max_frames_) {
      d.bytes.insert(d.bytes.end(), packet.begin() + 1, packet.end());
      d.frames += frames;
      CKV_ASSERT(d.bytes.size() <= budget_bytes_ && d.frames <= max_frames_,
                 "a packed datagram stays within its limits");
      return true;
    }
  }
  // A new datagram; it takes later packets only if it has room for them.
  const bool room = packet.size() < budget_bytes_ && frames < max_frames_;
  datagrams_.push_back(Datagram{to, std::move(packet), frames});
  if (room) {
    open_[to.packed()] = datagrams_.size() - 1;
  } else if (open != open_.end()) {
    open_.erase(open);
  }
  return true;
}

void DatagramBatcher::drain(
    const std::function<void(const Address& to, std::vector<uint8_t>&& datagram)>& send) {
  for (Datagram& d : datagrams_)
    send(d.to, std::move(d.bytes));
  datagrams_.clear();  // keeps its capacity: a batcher drains after every burst
  open_.clear();
}

}  // namespace ckv::wire
