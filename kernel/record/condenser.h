// Condenser: turns the records a NodeHost wrote in memory (outputs and store writes in
// full, values as they are) into the records a recording keeps: each output as a summary,
// each store write as its hash, values masked unless the recording keeps them
// (value_mask.h), and before every kDigestEvery-th input a digest of all outputs so far.
// The flight recorder runs it on its own thread; a replay checks against what it kept.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernel/record/record_format.h"
#include "kernel/record/value_mask.h"

namespace ckv::record {

class Condenser {
 public:
  static constexpr uint64_t kDigestEvery = 1000;

  // `mask_key`: the key of the value masks (ValueMode::kMasked); keep it secret.
  Condenser(ValueMode mode, uint64_t mask_key)
      : masked_(mode == ValueMode::kMasked), mask_(mask_key) {}

  // Condenses the whole records in `in` onto `out`. A record that does not decode (a bug)
  // becomes a gap record, and the error is returned so it can be logged.
  Status condense(std::span<const uint8_t> in, Writer& out);

 private:
  // A release in full becomes its summaries (output_summary.h), hashed without decoding
  // where masking changes nothing.
  void condense_release(std::span<const uint8_t> raw, Writer& out);
  // Copies an input or a store answer whose value is its last field with that value
  // masked, without decoding the record; false when the record is of no such type.
  bool mask_in_place(Type type, std::span<const uint8_t> raw, Writer& out);

  bool masked_;
  ValueMask mask_;
  uint64_t inputs_ = 0;
  uint64_t digest_ = 0;
  std::vector<OutputSummary> summaries_;
  std::vector<uint8_t> scratch_;
};

}  // namespace ckv::record
