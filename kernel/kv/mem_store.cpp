#include "kernel/kv/mem_store.h"

#include "kernel/core/assert.h"
#include "kernel/core/enum_names.h"

namespace ckv {

constexpr auto kRecordKindNames = name_table({"value", "tombstone", "invalidated"});
static_assert(kRecordKindNames.size() == kRecordKindCount, "one name per value");

const char* to_string(RecordKind kind) {
  return name_of(kRecordKindNames, kind);
}

Result<bool> MemStore::get(std::string_view key, Record& out) {
  auto it = live_.find(key);
  if (it == live_.end()) return false;
  out = it->second;
  return true;
}

const Record* MemStore::peek(std::string_view key) const {
  auto it = live_.find(key);
  return it == live_.end() ? nullptr : &it->second;
}

Status MemStore::put(std::string_view key, const Record& record) {
  if (fail_writes_) return Error{ErrorCode::kIoError, "writes fail (injected)"};
  auto it = live_.find(key);
  if (it == live_.end()) {
    live_.emplace(std::string(key), record);
  } else {
    it->second = record;
  }
  mark_dirty(key);
  return {};
}

Status MemStore::erase(std::string_view key) {
  if (fail_writes_) return Error{ErrorCode::kIoError, "writes fail (injected)"};
  auto it = live_.find(key);
  if (it != live_.end()) live_.erase(it);
  mark_dirty(key);
  return {};
}

Status MemStore::write_batch(std::span<const RecordWrite> writes) {
  if (fail_writes_) return Error{ErrorCode::kIoError, "writes fail (injected)"};
  for (const RecordWrite& w : writes) {
    Status s = w.record != nullptr ? put(w.key, *w.record) : erase(w.key);
    if (!s.ok()) return s;  // not reached: only fail_writes_ fails a write
  }
  return {};
}

Status MemStore::for_each_from(
    std::string_view from,
    const std::function<bool(std::string_view key, const Record& record)>& visit) {
  for (auto it = live_.lower_bound(from); it != live_.end(); ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return {};
}

Result<uint64_t> MemStore::get_meta(MetaKey key) {
  auto it = meta_.find(key);
  return it == meta_.end() ? uint64_t{0} : it->second;
}

Status MemStore::put_meta(MetaKey key, uint64_t value) {
  if (fail_meta_writes_ || fail_writes_)
    return Error{ErrorCode::kIoError, "meta writes fail (injected)"};
  meta_[key] = value;
  return {};
}

void MemStore::mark_dirty(std::string_view key) {
  if (durable_writes_) {
    CKV_ASSERT(dirty_.empty(), "a store with durable writes has no volatile ones");
    auto live = live_.find(key);
    if (live == live_.end()) {
      if (auto d = durable_.find(key); d != durable_.end()) durable_.erase(d);
    } else {
      durable_.insert_or_assign(std::string(key), live->second);
    }
    return;
  }
  if (dirty_.find(key) == dirty_.end()) dirty_.emplace(key);
}

void MemStore::flush() {
  for (const std::string& key : dirty_) {
    auto live = live_.find(key);
    if (live == live_.end()) {
      durable_.erase(key);
    } else {
      durable_.insert_or_assign(key, live->second);
    }
  }
  dirty_.clear();
}

void MemStore::crash() {
  live_ = durable_;
  dirty_.clear();
}

}  // namespace ckv
