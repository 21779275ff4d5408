// RecordingStore: a Store that passes every call to the store beneath and records what it
// answered (reads) and what it was asked to write (writes, with their outcome), in call
// order, so that a replay can answer its kernel's reads the same way and check its writes.
//
// A scan is recorded as it goes: its start, each record visited, its end. Calls the kernel
// makes while visiting (none today) would land between the items, where the replay's
// store will look for them.
#pragma once

#include "kernel/kv/store.h"
#include "kernel/record/record_format.h"

namespace ckv::record {

class RecordingStore final : public Store {
 public:
  RecordingStore(Store& inner, Writer& out) : inner_(inner), out_(out) {}

  Result<bool> get(std::string_view key, Record& out) override;
  Status put(std::string_view key, const Record& record) override;
  Status erase(std::string_view key) override;
  Status write_batch(std::span<const RecordWrite> writes) override;
  Status for_each_from(
      std::string_view from,
      const std::function<bool(std::string_view key, const Record& record)>& visit) override;
  Result<uint64_t> get_meta(MetaKey key) override;
  Status put_meta(MetaKey key, uint64_t value) override;

 private:
  Store& inner_;
  Writer& out_;
};

}  // namespace ckv::record
