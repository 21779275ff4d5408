#include "kernel/kv/invalidation_log.h"

#include <algorithm>

#include "kernel/core/assert.h"

namespace ckv {

namespace {
constexpr size_t kEntryOverhead = 32;  // version and bookkeeping, beside the key
}

uint64_t InvalidationLog::append(std::string_view key, const Version& version,
                                 wire::EntryWrite write) {
  entries_.push_back(wire::KeyVersion{std::string(key), version});
  writes_.push_back(write);
  bytes_ += key.size() + kEntryOverhead;
  while (entries_.size() > 1 && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    CKV_ASSERT(bytes_ >= entries_.front().key.size() + kEntryOverhead,
               "log byte accounting never underflows");
    bytes_ -= entries_.front().key.size() + kEntryOverhead;
    entries_.pop_front();
    writes_.pop_front();
    first_++;
  }
  CKV_ASSERT(head() >= first_ && at(head()).key == key && at(head()).version == version,
             "head() numbers the entry just appended");
  return head();
}

InvalidationLog::Pending InvalidationLog::pending(std::string_view member, MonoTime now,
                                                  Duration resend_interval) {
  const uint64_t h = head();
  auto it = followers_.find(std::string(member));
  if (h == 0) {
    // An empty log: only a tracked member that has not acknowledged it is due (again).
    if (it == followers_.end()) return {};
    const Follower& f = it->second;
    if (f.last_sent != MonoTime{} && now < f.last_sent + resend_interval) return {};
    return Pending{Pending::kReset, 0};  // announce the (empty) log
  }
  // A member without state has been sent nothing since the log had entries: it is due
  // them all, like a member just met.
  const Follower f = it == followers_.end() ? Follower{} : it->second;
  CKV_ASSERT(f.acked <= f.sent && f.sent <= h, "a follower is never acked or sent past the head");
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
  CKV_ASSERT(from >= first_ && from <= h, "entries pending lie inside the log");
  return Pending{Pending::kEntries, from};
}

void InvalidationLog::mark_sent(std::string_view member, MonoTime now) {
  const uint64_t h = head();
  if (h == 0) {
    // Only a tracked member is announced to; one without state has acknowledged.
    auto it = followers_.find(std::string(member));
    if (it != followers_.end()) it->second.last_sent = now;
    return;
  }
  Follower& f = followers_[std::string(member)];
  f.sent = h;
  f.last_sent = now;
}

void InvalidationLog::on_ack(std::string_view member, uint64_t applied) {
  if (head() == 0) {
    // The member knows this log now; while it stays empty there is nothing to tell it.
    forget(member);
    return;
  }
  Follower& f = followers_[std::string(member)];
  // Acks are cumulative; a lower one is a late copy (a restarted member starts a new
  // epoch and needs nothing older from this log).
  f.acked = std::max(f.acked, std::min(applied, head()));
  f.sent = std::max(f.sent, f.acked);
  CKV_ASSERT(f.acked <= f.sent && f.sent <= head(),
             "cumulative acks stay within what was sent and the head");
}

void InvalidationLog::forget(std::string_view member) {
  followers_.erase(std::string(member));
  // An emptied map keeps its buckets: give them back (a cluster's formation fills it).
  if (followers_.empty()) std::unordered_map<std::string, Follower>().swap(followers_);
}

MonoTime InvalidationLog::next_resend(Duration resend_interval) const {
  MonoTime next = kNever;
  const uint64_t h = head();
  for (const auto& [name, f] : followers_) {
    // While the log is empty, every follower still owes its acknowledgement.
    if (h == 0 || f.acked < h) next = std::min(next, f.last_sent + resend_interval);
  }
  return next;
}

}  // namespace ckv
