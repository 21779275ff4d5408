// DataBound: the bytes of values a node keeps (--max-data-mb), its own writes counted
// apart from copies (values it holds only because it read them), and which copy to evict
// first when they pass the bound.
//
// What it promises:
//  - `own_bytes()` and `copy_bytes()` are the sums of the value sizes of the records it
//    was told of (`on_change`), by whether the value's version was issued by this node;
//  - `oldest_copy()` yields the least recently filled or used copy (`touch` makes a copy
//    the most recent): an exact LRU order. Never an own write: own writes may be the only
//    copy anywhere;
//  - memory: one hash-map entry per copy (the key, its size and two list links: about 100
//    bytes with a short key), nothing per own write.
// Disabled (max 0) it keeps nothing and says nothing is over. Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "kernel/kv/store.h"

namespace ckv {

class DataBound {
 public:
  DataBound(uint64_t self_node_id, uint64_t max_bytes) : self_(self_node_id), max_(max_bytes) {}
  DataBound(const DataBound&) = delete;
  DataBound& operator=(const DataBound&) = delete;
  // Forgets every copy and counts from zero.
  void clear();

  bool enabled() const { return max_ > 0; }
  uint64_t max_bytes() const { return max_; }
  uint64_t own_bytes() const { return own_; }
  uint64_t copy_bytes() const { return copy_; }
  size_t copies() const { return copies_.size(); }
  bool over() const { return enabled() && own_ + copy_ > max_; }

  // The record of `key` changed from `before` to `after` (null: none).
  void on_change(std::string_view key, const Record* before, const Record* after);
  // A copy was served or confirmed: it is evicted after the others.
  void touch(std::string_view key);
  // Stops counting a copy the store no longer holds as a value.
  void forget_copy(std::string_view key);
  // Whether an own write of `bytes` fits, replacing own value bytes `replacing`. Own
  // writes alone may fill the bound; copies are evicted to make room.
  bool own_write_fits(uint64_t replacing, uint64_t bytes) const {
    return !enabled() || own_ - replacing + bytes <= max_;
  }
  // The copy to evict next, or none (only own writes are left). It stays counted until
  // on_change tells of its eviction, and becomes the most recent (so a copy that cannot be
  // evicted now is not offered again at once).
  std::optional<std::string> oldest_copy();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Copy;
  using Entry = std::pair<const std::string, Copy>;
  // A copy's size and its place in the recency list (entries of an unordered_map keep
  // their address while they exist, so the list links point at them directly).
  struct Copy {
    uint64_t bytes = 0;
    Entry* newer = nullptr;
    Entry* older = nullptr;
  };
  bool own(const Record& r) const { return r.version.node == self_; }
  void link_newest(Entry& e);
  void unlink(Entry& e);

  uint64_t self_;
  uint64_t max_;
  uint64_t own_ = 0;
  uint64_t copy_ = 0;
  std::unordered_map<std::string, Copy, Hash, std::equal_to<>> copies_;
  Entry* newest_ = nullptr;
  Entry* oldest_ = nullptr;
};

}  // namespace ckv
