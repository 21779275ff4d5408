#include "kernel/membership/broadcast_queue.h"

#include "kernel/core/assert.h"

namespace ckv {

namespace {
// No frame is smaller than this (type, length, a few body bytes); stop looking for one
// that fits once less room is left.
constexpr size_t kSmallestFrame = 4;
}  // namespace

void BroadcastQueue::push(std::string_view subject, std::vector<uint8_t> frame) {
  auto [it, inserted] = by_subject_.try_emplace(std::string(subject));
  Item& item = it->second;
  if (!inserted) order_.erase(&item);
  item.subject = &it->first;
  item.frame = std::move(frame);
  item.transmits = 0;
  item.id = next_id_++;
  order_.insert(&item);
  CKV_ASSERT(order_.size() == by_subject_.size() && item.subject == &it->first,
             "every queued item is in the send order exactly once");
}

size_t BroadcastQueue::fill(std::vector<uint8_t>& packet, size_t budget, int limit) {
  std::vector<Item*> sent;
  std::vector<Item*> unsendable;
  for (Item* item : order_) {
    if (packet.size() + kSmallestFrame > budget) break;
    if (1 + item->frame.size() > budget) {
      unsendable.push_back(item);  // would not fit even an empty packet: never send it
      continue;
    }
    if (packet.size() + item->frame.size() > budget) continue;
    packet.insert(packet.end(), item->frame.begin(), item->frame.end());
    sent.push_back(item);
  }
  for (Item* item : unsendable) {
    order_.erase(item);
    by_subject_.erase(by_subject_.find(*item->subject));
  }
  for (Item* item : sent) {
    order_.erase(item);
    if (++item->transmits >= limit) {
      by_subject_.erase(by_subject_.find(*item->subject));
    } else {
      order_.insert(item);
    }
  }
  // After a burst (a thousand joins) the bucket array would stay; give it back.
  if (by_subject_.empty() && by_subject_.bucket_count() > 64) {
    decltype(by_subject_)().swap(by_subject_);
  }
  return sent.size();
}

}  // namespace ckv
