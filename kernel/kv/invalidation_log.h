// InvalidationLog: one node's numbered record of its own writes, and how far each member
// has acknowledged it.
//
// Every local write appends (key, version) under the next sequence number. Members
// acknowledge cumulatively ("applied through seq"); `pending` says what each member
// should be sent now: the entries it has not been sent, or — once `resend_interval` has
// passed without an acknowledgement — everything after what it acknowledged. The log
// keeps at most `max_entries` entries and `max_bytes` of keys; a member that needs an
// entry the log no longer holds gets a reset instead (it then revalidates its copies), so
// nothing a member misses goes unnoticed, whatever the burst. A log with no entries yet
// still announces itself to each member (as a reset at 0), so a member learns that the
// origin restarted even if it never writes again.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernel/core/time.h"
#include "kernel/wire/messages.h"

namespace ckv {

class InvalidationLog {
 public:
  InvalidationLog(uint64_t log_id, size_t max_entries, size_t max_bytes)
      : log_id_(log_id), max_entries_(max_entries), max_bytes_(max_bytes) {}

  uint64_t id() const { return log_id_; }
  // Appends an entry; returns its sequence number (1, 2, ...).
  uint64_t append(std::string_view key, const Version& version);
  uint64_t head() const { return first_ + entries_.size() - 1; }  // 0 while empty
  uint64_t first() const { return first_; }                       // oldest entry held
  const wire::KeyVersion& at(uint64_t seq) const { return entries_[seq - first_]; }

  // What to send `member` now.
  struct Pending {
    enum Kind : uint8_t { kNothing, kEntries, kReset } kind = kNothing;
    uint64_t from = 0;  // kEntries: first seq to send, through head()
  };
  Pending pending(std::string_view member, MonoTime now, Duration resend_interval);
  // Records that everything through head() was sent to `member` at `now`.
  void mark_sent(std::string_view member, MonoTime now);
  // A member's cumulative acknowledgement; a lower one than before is a late copy.
  void on_ack(std::string_view member, uint64_t applied);
  // Forgets a member that left the table.
  void forget(std::string_view member) { followers_.erase(std::string(member)); }
  // The earliest time a member that is behind is due a resend, or kNever.
  MonoTime next_resend(Duration resend_interval) const;
  size_t bytes() const { return bytes_; }

 private:
  struct Follower {
    bool known = false;  // the member has acknowledged something of this log
    uint64_t acked = 0;
    uint64_t sent = 0;
    MonoTime last_sent{};
  };

  uint64_t log_id_;
  size_t max_entries_;
  size_t max_bytes_;
  std::deque<wire::KeyVersion> entries_;
  uint64_t first_ = 1;
  size_t bytes_ = 0;
  std::unordered_map<std::string, Follower> followers_;
};

}  // namespace ckv
