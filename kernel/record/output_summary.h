// Output summaries: what a recording keeps of each output (a label, a size, a hash of its
// full encoding), and the hash of a store write. The recorder summarizes what the live
// node did; a replay summarizes what its kernel did and compares.
#pragma once

#include <vector>

#include "kernel/commit_gate.h"
#include "kernel/outbox.h"
#include "kernel/record/record_format.h"

namespace ckv::record {

// Appends a summary of each output in `effects`, in order: changes, sends, replies, events.
void summarize(const Effects& effects, std::vector<OutputSummary>& out);
// The running digest of a recording: every output summary's hash and every store write's
// hash, folded in in order (kDigest records hold it).
inline uint64_t fold_digest(uint64_t digest, uint64_t hash) {
  digest ^= hash + 0x9e3779b97f4a7c15ULL + (digest << 6) + (digest >> 2);
  return digest;
}
// The hash of a store write as recorded in full (an in-memory kStoreWrite event).
uint64_t write_hash(const Event& write);
// The same hash, of a write as the kernel makes it.
uint64_t write_hash(StoreWriteKind kind, std::span<const RecordWrite> writes, MetaKey meta_key,
                    uint64_t meta);

}  // namespace ckv::record
