// BroadcastQueue: the news a node still has to gossip, with memberlist's
// transmit-limited semantics.
//
// Each item is an encoded frame about one subject (a member name). Newer news about a
// subject replaces older news. Each `fill` packs items into a packet's spare bytes, fewest
// transmissions first and newest first among equals, and an item is dropped once it has
// been sent `limit` times (the caller passes mult * ceil(log10(n + 1))).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ckv {

class BroadcastQueue {
 public:
  void push(std::string_view subject, std::vector<uint8_t> frame);

  // Appends queued frames to `packet` while its size stays within `budget`; returns how
  // many were appended. A frame longer than `budget` - 1 (a packet's version byte) could
  // never be sent and is dropped.
  size_t fill(std::vector<uint8_t>& packet, size_t budget, int limit);

  bool empty() const { return by_subject_.empty(); }
  size_t size() const { return by_subject_.size(); }
  bool pending(std::string_view subject) const {
    return by_subject_.find(std::string(subject)) != by_subject_.end();
  }

 private:
  struct Item {
    const std::string* subject = nullptr;  // the key of this item in by_subject_
    std::vector<uint8_t> frame;
    int transmits = 0;
    uint64_t id = 0;  // insertion order: larger is newer
  };
  struct SendOrder {
    bool operator()(const Item* a, const Item* b) const {
      if (a->transmits != b->transmits) return a->transmits < b->transmits;
      return a->id > b->id;
    }
  };

  std::unordered_map<std::string, Item> by_subject_;
  std::set<Item*, SendOrder> order_;
  uint64_t next_id_ = 0;
};

}  // namespace ckv
