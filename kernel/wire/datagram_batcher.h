// DatagramBatcher: packs the key-value datagrams a node sends in a burst into as few as
// will do.
//
// Under load a node sends many small packets to the same few peers at once (a query per
// client read, a reply per query). A packet is a version byte and a list of frames
// (codec.h), so packets bound for one peer can travel as one: the frames of each are
// appended to an open datagram for that peer while it stays within `budget_bytes` and
// `max_frames`. A packet that would not fit starts a new datagram; one over the budget on
// its own travels alone, unchanged. The receiver decodes the same messages in the same
// order as if each packet had been sent on its own; only the number of datagrams (and so
// system calls, seals and wake-ups) changes.
//
// Only packets of key-value messages (invalidations, queries and their answers) are
// packed. Membership packets (probes, acks, nacks) are not taken at all: they go out at
// once and alone, as the failure detector was built and tuned for. They already carry
// piggybacked gossip up to the budget, and packing them with other traffic changes which
// messages one lost datagram takes with it (in the simulator it made Lifeguard's false
// verdicts about a stalling node more common).
//
// Pure and deterministic: no I/O; the driver decides when a burst ends and takes the
// datagrams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "kernel/core/address.h"

namespace ckv::wire {

class DatagramBatcher {
 public:
  DatagramBatcher(size_t budget_bytes, size_t max_frames)
      : budget_bytes_(budget_bytes), max_frames_(max_frames) {}

  // Queues `packet` (one whole wire packet) for `to`, taking it, and returns true. A packet
  // it does not pack (membership messages, or not well formed) is left untouched and
  // false returned: send it now, rather than hold it until the batch is drained.
  bool add(const Address& to, std::vector<uint8_t>& packet);

  bool empty() const { return datagrams_.empty(); }
  // Datagrams queued so far.
  size_t size() const { return datagrams_.size(); }

  // Hands every queued datagram to `send`, in the order each was started, and empties the
  // batcher. `send` must not add to this batcher.
  void drain(const std::function<void(const Address& to, std::vector<uint8_t>&& datagram)>& send);

 private:
  struct Datagram {
    Address to;
    std::vector<uint8_t> bytes;
    size_t frames = 0;
  };

  size_t budget_bytes_;
  size_t max_frames_;
  std::vector<Datagram> datagrams_;
  // For each peer, the datagram still taking frames (an index into datagrams_).
  std::unordered_map<uint64_t, size_t> open_;
};

}  // namespace ckv::wire
