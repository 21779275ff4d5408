#include "kernel/record/recording_store.h"

namespace ckv::record {

Result<bool> RecordingStore::get(std::string_view key, Record& out) {
  Result<bool> found = inner_.get(key, out);
  out_.store_get(key, found, out);
  return found;
}

Status RecordingStore::put(std::string_view key, const Record& record) {
  Status s = inner_.put(key, record);
  const RecordWrite w{key, &record};
  out_.store_write(StoreWriteKind::kPut, std::span(&w, 1), MetaKey{}, 0, s);
  return s;
}

Status RecordingStore::erase(std::string_view key) {
  Status s = inner_.erase(key);
  const RecordWrite w{key, nullptr};
  out_.store_write(StoreWriteKind::kErase, std::span(&w, 1), MetaKey{}, 0, s);
  return s;
}

Status RecordingStore::write_batch(std::span<const RecordWrite> writes) {
  Status s = inner_.write_batch(writes);
  out_.store_write(StoreWriteKind::kBatch, writes, MetaKey{}, 0, s);
  return s;
}

Status RecordingStore::for_each_from(
    std::string_view from,
    const std::function<bool(std::string_view key, const Record& record)>& visit) {
  out_.scan_begin(from);
  Status s = inner_.for_each_from(from, [&](std::string_view key, const Record& record) {
    out_.scan_item(key, record);
    out_.maybe_spill();
    return visit(key, record);
  });
  out_.scan_end(s);
  return s;
}

Result<uint64_t> RecordingStore::get_meta(MetaKey key) {
  Result<uint64_t> v = inner_.get_meta(key);
  out_.store_meta(key, v);
  return v;
}

Status RecordingStore::put_meta(MetaKey key, uint64_t value) {
  Status s = inner_.put_meta(key, value);
  out_.store_write(StoreWriteKind::kMeta, {}, key, value, s);
  return s;
}

}  // namespace ckv::record
