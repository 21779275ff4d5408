#include "kernel/kv/invalidation_log.h"

#include <algorithm>

namespace ckv {

namespace {
constexpr size_t kEntryOverhead = 32;  // version and bookkeeping, beside the key
}

uint64_t InvalidationLog::append(std::string_view key, const Version& version) {
  entries_.push_back(wire::KeyVersion{std::string(key), version});
  bytes_ += key.size() + kEntryOverhead;
  while (entries_.size() > 1 && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    bytes_ -= entries_.front().key.size() + kEntryOverhead;
    entries_.pop_front();
    first_++;
  }
  return head();
}

InvalidationLog::Pending InvalidationLog::pending(std::string_view member, MonoTime now,
                                                  Duration resend_interval) {
  Follower& f = followers_[std::string(member)];
  const uint64_t h = head();
  if (!f.known && h == 0) {
    if (f.last_sent != MonoTime{} && now < f.last_sent + resend_interval) return {};
    return Pending{Pending::kReset, 0};  // announce the (empty) log
  }
  if (f.acked >= h) return {};
  uint64_t from;
  if (f.sent < h && (f.sent == f.acked || now < f.last_sent + resend_interval)) {
    from = f.sent + 1;  // new entries; what is in flight gets its time to be acknowledged
  } else if (now >= f.last_sent + resend_interval) {
    from = f.acked + 1;  // no acknowledgement in time: send again
  } else {
    return {};
  }
  if (from < first_) return Pending{Pending::kReset, 0};
  return Pending{Pending::kEntries, from};
}

void InvalidationLog::mark_sent(std::string_view member, MonoTime now) {
  Follower& f = followers_[std::string(member)];
  f.sent = head();
  f.last_sent = now;
}

void InvalidationLog::on_ack(std::string_view member, uint64_t applied) {
  auto it = followers_.find(std::string(member));
  if (it == followers_.end()) {
    it = followers_.emplace(std::string(member), Follower{}).first;
  }
  Follower& f = it->second;
  f.known = true;
  // Acks are cumulative; a lower one is a late copy (a restarted member starts a new
  // epoch and needs nothing older from this log).
  f.acked = std::max(f.acked, std::min(applied, head()));
  f.sent = std::max(f.sent, f.acked);
}

MonoTime InvalidationLog::next_resend(Duration resend_interval) const {
  MonoTime next = kNever;
  const uint64_t h = head();
  for (const auto& [name, f] : followers_) {
    if (!f.known || f.acked < h) next = std::min(next, f.last_sent + resend_interval);
  }
  return next;
}

}  // namespace ckv
