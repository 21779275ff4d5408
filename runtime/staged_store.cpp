#include "runtime/staged_store.h"

#include <utility>
#include <vector>

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

Status StagedStore::put(std::string_view key, const Record& record) {
  auto [at, added] = staged_.try_emplace(std::string(key));
  if (!added) bytes_ -= cost(key, at->second);
  at->second = record;
  bytes_ += cost(key, at->second);
  return {};
}

Status StagedStore::erase(std::string_view key) {
  auto [at, added] = staged_.try_emplace(std::string(key));
  if (!added) bytes_ -= cost(key, at->second);
  at->second.reset();
  bytes_ += cost(key, at->second);
  return {};
}

Status StagedStore::for_each(
    const std::function<bool(std::string_view key, const Record& record)>& visit) {
  if (Status s = commit(); !s.ok()) return s;
  return durable_.for_each(visit);
}

Status StagedStore::commit() {
  if (staged_.empty()) return {};
  std::vector<RocksStore::RecordWrite> writes;
  writes.reserve(staged_.size());
  for (const auto& [key, record] : staged_)
    writes.push_back(RocksStore::RecordWrite{key, record ? &*record : nullptr});
  Status s = durable_.write_records(writes);
  staged_.clear();
  bytes_ = 0;
  return s;
}

}  // namespace ckv
