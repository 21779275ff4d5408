// A synthetic later wire revision, for rolling-upgrade runs of the simulator.
//
// No second wire format exists yet; this stands in for one, using only what a later
// revision of our generation may do (kernel/wire/codec.h): every frame gains a field at
// the end of its body (two bytes nobody reads; a QueryReply's value runs to the end of its
// frame, so it gains none), and each packet ends with a frame of a type this build does
// not know. A node "upgraded" in the simulation sends its packets rewritten so; nodes of
// either revision must keep every property. When a real next revision exists, its encoder
// replaces this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace ckv::sim {

// `packet` (one whole packet of this build's revision) rewritten under `version`, with the
// additions above; nullopt when it is not a well-formed packet or the result would exceed
// `max_bytes` (the sender then sends the packet as it is, as a later revision may).
std::optional<std::vector<uint8_t>> as_later_revision(std::span<const uint8_t> packet,
                                                      uint8_t version, size_t max_bytes);

}  // namespace ckv::sim
