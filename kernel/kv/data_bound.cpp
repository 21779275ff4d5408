#include "kernel/kv/data_bound.h"

#include <algorithm>
#include <vector>

#include "kernel/core/assert.h"

namespace ckv {

void DataBound::on_change(std::string_view key, const Record* before, const Record* after) {
  if (!enabled()) return;
  if (before != nullptr && before->kind == RecordKind::kValue) {
    if (own(*before)) {
      CKV_ASSERT(own_ >= before->value.size(), "own bytes never underflow");
      own_ -= before->value.size();
    } else if (auto it = copies_.find(key); it != copies_.end()) {
      CKV_ASSERT(copy_ >= it->second.bytes, "copy bytes never underflow");
      copy_ -= it->second.bytes;
      copies_.erase(it);
    }
  }
  if (after != nullptr && after->kind == RecordKind::kValue) {
    if (own(*after)) {
      own_ += after->value.size();
    } else {
      auto [it, added] = copies_.try_emplace(std::string(key), Copy{after->value.size(), 0});
      if (!added) copy_ -= it->second.bytes;  // (a copy replaced without being told)
      it->second.bytes = after->value.size();
      copy_ += it->second.bytes;
      enqueue(it->first, it->second);
    }
  }
}

void DataBound::touch(std::string_view key) {
  if (!enabled()) return;
  if (auto it = copies_.find(key); it != copies_.end()) enqueue(it->first, it->second);
}

void DataBound::enqueue(const std::string& key, Copy& copy) {
  copy.stamp = ++next_stamp_;
  order_.emplace_back(copy.stamp, key);
  if (order_.size() <= 2 * copies_.size() + 1024) return;
  // Mostly stale entries: rebuild the queue from the copies, in stamp order.
  std::vector<std::pair<uint64_t, std::string>> live;
  live.reserve(copies_.size());
  for (const auto& [k, c] : copies_)
    live.emplace_back(c.stamp, k);
  std::sort(live.begin(), live.end());
  order_.assign(std::make_move_iterator(live.begin()), std::make_move_iterator(live.end()));
}

void DataBound::forget_copy(std::string_view key) {
  if (auto it = copies_.find(key); it != copies_.end()) {
    copy_ -= it->second.bytes;
    copies_.erase(it);
  }
}

std::optional<std::string> DataBound::oldest_copy() {
  while (!order_.empty()) {
    auto [stamp, key] = std::move(order_.front());
    order_.pop_front();
    auto it = copies_.find(key);
    if (it != copies_.end() && it->second.stamp == stamp) return key;
  }
  return std::nullopt;
}

}  // namespace ckv
