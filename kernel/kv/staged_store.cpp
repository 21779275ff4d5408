#include "kernel/kv/staged_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "kernel/core/assert.h"

namespace ckv {

Result<bool> StagedStore::get(std::string_view key, Record& out) {
  if (!staged_.empty()) {
    if (auto at = staged_.find(key); at != staged_.end()) {
      if (!at->second) return false;
      out = *at->second;
      return true;
    }
  }
  return durable_.get(key, out);
}

bool StagedStore::staged(std::string_view key, const Record** out) const {
  auto at = staged_.find(key);
  if (at == staged_.end()) return false;
  *out = at->second ? &*at->second : nullptr;
  return true;
}

Status StagedStore::put(std::string_view key, const Record& record) {
  if (failing_) return write_through(RecordWrite{key, &record});
  auto [at, added] = staged_.try_emplace(std::string(key));
  CKV_ASSERT(added || bytes_ >= cost(key, at->second), "staged bytes never underflow");
  if (!added) bytes_ -= cost(key, at->second);
  at->second = record;
  bytes_ += cost(key, at->second);
  return {};
}

Status StagedStore::erase(std::string_view key) {
  if (failing_) return write_through(RecordWrite{key, nullptr});
  auto [at, added] = staged_.try_emplace(std::string(key));
  CKV_ASSERT(added || bytes_ >= cost(key, at->second), "staged bytes never underflow");
  if (!added) bytes_ -= cost(key, at->second);
  at->second.reset();
  bytes_ += cost(key, at->second);
  return {};
}

Status StagedStore::write_batch(std::span<const RecordWrite> writes) {
  if (failing_) {
    Status s = durable_.write_batch(writes);
    if (s.ok()) failing_.reset();
    return s;
  }
  for (const RecordWrite& w : writes) {
    Status s = w.record != nullptr ? put(w.key, *w.record) : erase(w.key);
    if (!s.ok()) return s;
  }
  return {};
}

Status StagedStore::for_each_from(
    std::string_view from,
    const std::function<bool(std::string_view key, const Record& record)>& visit) {
  // The staged writes from `from` on, in key order, merged into the durable records'
  // walk: a staged write replaces (or, erased, hides) the durable record of its key.
  std::vector<std::pair<std::string_view, const std::optional<Record>*>> staged;
  for (const auto& [key, record] : staged_) {
    if (std::string_view(key) >= from) staged.emplace_back(key, &record);
  }
  std::sort(staged.begin(), staged.end());
  size_t next = 0;
  bool stopped = false;
  // Visits the staged writes before `key` (all of them when `key` is null).
  auto staged_before = [&](const std::string_view* key) {
    for (; next < staged.size() && (key == nullptr || staged[next].first < *key); ++next) {
      const std::optional<Record>& record = *staged[next].second;
      if (record && !visit(staged[next].first, *record)) return false;
    }
    return true;
  };
  Status s = durable_.for_each_from(from, [&](std::string_view key, const Record& record) {
    if (!staged_before(&key)) {
      stopped = true;
      return false;
    }
    if (next < staged.size() && staged[next].first == key) return true;  // visited next
    stopped = !visit(key, record);
    return !stopped;
  });
  if (!s.ok() || stopped) return s;
  staged_before(nullptr);
  return {};
}

Status StagedStore::commit() {
  CKV_ASSERT(!staged_.empty() || bytes_ == 0, "an empty stage accounts no bytes");
  if (staged_.empty()) return {};
  std::vector<RecordWrite> writes;
  writes.reserve(staged_.size());
  for (const auto& [key, record] : staged_)
    writes.push_back(RecordWrite{key, record ? &*record : nullptr});
  Status s = durable_.write_batch(writes);
  staged_.clear();
  bytes_ = 0;
  if (!s.ok()) failing_ = s.error();
  return s;
}

Status StagedStore::write_through(const RecordWrite& write) {
  CKV_ASSERT(staged_.empty(), "nothing is staged while the store beneath is failing");
  return write_batch(std::span<const RecordWrite>(&write, 1));
}

}  // namespace ckv
