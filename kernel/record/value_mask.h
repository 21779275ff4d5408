// ValueMask: keeps values out of a recording. Each value is replaced by bytes of the same
// length drawn from a keyed hash of it: equal values get equal masks, sizes are kept (the
// kernel's byte budgets decide the same), and without the key — random per recording and
// never written down — a mask says nothing about its value, even a short one.
//
// The kernel treats values as opaque bytes: it copies them and measures them, never looks
// inside. So a kernel replaying masked inputs produces masked outputs, and a recorder that
// masks the live node's outputs the same way can check a replay bit for bit. Keys, names
// and versions are kept as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/kv/store.h"
#include "kernel/outbox.h"
#include "kernel/record/record_format.h"

namespace ckv::record {

class ValueMask {
 public:
  explicit ValueMask(uint64_t key) : key_(key) {}

  void mask(std::string& value) const;
  void mask(Record& record) const;
  // The values a wire packet carries (query replies, conditional writes, listings with
  // values), re-encoded in place (in this build's revision: a packet of an earlier or later
  // one decodes to the same messages). A packet of another generation, or one that does
  // not decode, is left as it is: the kernel drops it whole, reading no value in it.
  void mask_packet(std::vector<uint8_t>& packet) const;
  void mask(Effects& effects) const;
  // Whatever `e` carries as values: an input's, a store answer's, released outputs', a
  // store write's.
  void mask(Event& e) const;

 private:
  uint64_t key_;
};

}  // namespace ckv::record
