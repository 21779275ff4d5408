#include "kernel/kv/data_bound.h"

#include "kernel/core/assert.h"

namespace ckv {

void DataBound::clear() {
  copies_.clear();
  newest_ = oldest_ = nullptr;
  own_ = copy_ = 0;
}

void DataBound::on_change(std::string_view key, const Record* before, const Record* after) {
  if (!enabled()) return;
  if (before != nullptr && before->kind == RecordKind::kValue) {
    if (own(*before)) {
      CKV_ASSERT(own_ >= before->value.size(), "own bytes never underflow");
      own_ -= before->value.size();
    } else {
      forget_copy(key);
    }
  }
  if (after != nullptr && after->kind == RecordKind::kValue) {
    if (own(*after)) {
      own_ += after->value.size();
    } else {
      auto [it, added] = copies_.try_emplace(std::string(key));
      if (!added) {  // (a copy replaced without being told)
        copy_ -= it->second.bytes;
        unlink(*it);
      }
      it->second.bytes = after->value.size();
      copy_ += it->second.bytes;
      link_newest(*it);
    }
  }
}

void DataBound::touch(std::string_view key) {
  if (!enabled()) return;
  auto it = copies_.find(key);
  if (it == copies_.end() || newest_ == &*it) return;
  unlink(*it);
  link_newest(*it);
}

void DataBound::forget_copy(std::string_view key) {
  auto it = copies_.find(key);
  if (it == copies_.end()) return;
  CKV_ASSERT(copy_ >= it->second.bytes, "copy bytes never underflow");
  copy_ -= it->second.bytes;
  unlink(*it);
  copies_.erase(it);
}

std::optional<std::string> DataBound::oldest_copy() {
  if (oldest_ == nullptr) return std::nullopt;
  Entry& e = *oldest_;
  unlink(e);
  link_newest(e);
  return e.first;
}

void DataBound::link_newest(Entry& e) {
  e.second.older = newest_;
  e.second.newer = nullptr;
  if (newest_ != nullptr) newest_->second.newer = &e;
  newest_ = &e;
  if (oldest_ == nullptr) oldest_ = &e;
}

void DataBound::unlink(Entry& e) {
  (e.second.newer != nullptr ? e.second.newer->second.older : newest_) = e.second.older;
  (e.second.older != nullptr ? e.second.older->second.newer : oldest_) = e.second.newer;
  e.second.newer = e.second.older = nullptr;
}

}  // namespace ckv
