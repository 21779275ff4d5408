// EventQueue: the simulator's agenda — events ordered by (time, insertion sequence), so
// events at the same virtual time run in the order they were scheduled, every time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernel/core/time.h"

namespace ckv::sim {

template <class Event>
class EventQueue {
 public:
  void push(MonoTime at, Event event) {
    heap_.push_back(Entry{at, next_seq_++, std::move(event)});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  bool empty() const { return heap_.empty(); }
  MonoTime next_time() const { return heap_.front().at; }
  // Removes the earliest event; `at` receives its time.
  Event pop(MonoTime& at) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Entry e = std::move(heap_.back());
    heap_.pop_back();
    at = e.at;
    return std::move(e.event);
  }
  size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    MonoTime at;
    uint64_t seq;
    Event event;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  std::vector<Entry> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace ckv::sim
