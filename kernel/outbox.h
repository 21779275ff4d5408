// Outbox: everything the kernel wants done in the world, as values. After each input the
// driver takes the sends (and transmits them), the member changes (and reports them), the
// client replies (and delivers them) and the change feed's events (and hands them to
// its watchers, kv/change_feed.h).
#pragma once

#include <cstdint>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/kv/change_feed.h"
#include "kernel/kv/client.h"
#include "kernel/membership/member.h"

namespace ckv {

// Datagrams are small and may be lost, duplicated or reordered (UDP). Stream messages
// arrive whole and in order between two nodes, or not at all (TCP).
enum class Channel : uint8_t { kDatagram = 0, kStream = 1 };

struct Send {
  Address to;
  Channel channel;
  std::vector<uint8_t> bytes;  // one wire packet (see wire/codec.h)
};

struct Outbox {
  std::vector<Send> sends;
  std::vector<MemberChange> changes;
  std::vector<Reply> replies;
  std::vector<ChangeEvent> events;

  bool empty() const {
    return sends.empty() && changes.empty() && replies.empty() && events.empty();
  }
  // Empties the lists. After a burst (a push-pull merging a thousand members) the memory
  // is given back rather than kept for good.
  void clear() {
    release_if_large(sends);
    release_if_large(changes);
    release_if_large(replies);
    release_if_large(events);
  }

 private:
  template <class T>
  static void release_if_large(std::vector<T>& v) {
    if (v.capacity() > 64) {
      std::vector<T>().swap(v);  // `v = {}` would keep the capacity
    } else {
      v.clear();
    }
  }
};

}  // namespace ckv
