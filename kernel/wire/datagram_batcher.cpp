#include "kernel/wire/datagram_batcher.h"

#include "kernel/wire/codec.h"

namespace ckv::wire {

size_t count_frames(std::span<const uint8_t> packet) {
  size_t frames = 0;
  Status s = for_each_frame(packet, [&frames](uint8_t, size_t) { ++frames; });
  return s.ok() ? frames : 0;
}

void DatagramBatcher::add(const Address& to, std::vector<uint8_t>&& packet) {
  const size_t frames = count_frames(packet);
  auto open = open_.find(to.packed());
  if (frames > 0 && open != open_.end()) {
    Datagram& d = datagrams_[open->second];
    // The version byte is shared: only the frames are appended.
    if (d.bytes.size() + packet.size() - 1 <= budget_bytes_ && d.frames + frames <= max_frames_) {
      d.bytes.insert(d.bytes.end(), packet.begin() + 1, packet.end());
      d.frames += frames;
      return;
    }
  }
  // A new datagram; it takes later packets only if it has room for them and was well
  // formed (a malformed packet is the receiver's to reject, alone).
  const bool room = frames > 0 && packet.size() < budget_bytes_ && frames < max_frames_;
  datagrams_.push_back(Datagram{to, std::move(packet), frames});
  if (room) {
    open_[to.packed()] = datagrams_.size() - 1;
  } else if (open != open_.end()) {
    open_.erase(open);
  }
}

void DatagramBatcher::drain(
    const std::function<void(const Address& to, std::vector<uint8_t>&& datagram)>& send) {
  for (Datagram& d : datagrams_)
    send(d.to, std::move(d.bytes));
  datagrams_.clear();  // keeps its capacity: a batcher drains after every burst
  open_.clear();
}

}  // namespace ckv::wire
