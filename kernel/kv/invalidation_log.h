// InvalidationLog: one node's numbered record of its own writes, and how far each member
// has acknowledged it.
//
// Every local write appends (key, version) under the next sequence number. Members
// acknowledge cumulatively ("applied through seq"); `pending` says what each member
// should be sent now: the entries it has not been sent, or — once `resend_interval` has
// passed without an acknowledgement — everything after what it acknowledged. The log
// keeps at most `max_entries` entries and `max_bytes` of keys; a member that needs an
// entry the log no longer holds gets a reset instead (it then revalidates its copies), so
// nothing a member misses goes unnoticed, whatever the burst.
//
// A log with no entries yet still announces itself (as a reset at 0) to every member it
// is told to `track`, until that member acknowledges it, so a member learns that the
// origin restarted even if it never writes again. Once acknowledged, the member is
// forgotten: while the log is empty, a member with no follower state is one that has
// acknowledged it (or was never tracked), and is sent nothing. The first write makes
// every member without state due the entries from 1 (or a reset, if the log no longer
// holds entry 1), exactly as a member the log had just met. So a settled cluster that
// does not write keeps no follower state at all.
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
  // Appends an entry (`write`: what its write was); returns its sequence number (1, 2, ...).
  uint64_t append(std::string_view key, const Version& version, wire::EntryWrite write);
  uint64_t head() const { return first_ + entries_.size() - 1; }  // 0 while empty
  uint64_t first() const { return first_; }                       // oldest entry held
  const wire::KeyVersion& at(uint64_t seq) const { return entries_[seq - first_]; }
  const wire::EntryWrite& write(uint64_t seq) const { return writes_[seq - first_]; }

  // Announces this log to `member` (a member that joined or came back): while the log is
  // empty, it gets a reset at 0 until it acknowledges. No effect if it has state already.
  void track(std::string_view member) { followers_.try_emplace(std::string(member)); }

  // What to send `member` now.
  struct Pending {
    enum Kind : uint8_t { kNothing, kEntries, kReset } kind = kNothing;
    uint64_t from = 0;  // kEntries: first seq to send, through head()
  };
  Pending pending(std::string_view member, MonoTime now, Duration resend_interval);
  // Records that everything through head() was sent to `member` at `now` (what `pending`
  // said to send).
  void mark_sent(std::string_view member, MonoTime now);
  // A member's cumulative acknowledgement; a lower one than before is a late copy. While
  // the log is empty, it ends the announcement: the member is forgotten.
  void on_ack(std::string_view member, uint64_t applied);
  // Forgets a member that left the table.
  void forget(std::string_view member);
  // The earliest time a member that is behind (or not yet acknowledged the announcement)
  // is due a resend, or kNever.
  MonoTime next_resend(Duration resend_interval) const;
  size_t bytes() const { return bytes_; }
  // Members the log keeps state for (tracked and unacknowledged, or sent entries).
  size_t followers() const { return followers_.size(); }

 private:
  // While the log is empty, a follower is a member that has not acknowledged it yet.
  struct Follower {
    uint64_t acked = 0;
    uint64_t sent = 0;
    MonoTime last_sent{};
  };

  uint64_t log_id_;
  size_t max_entries_;
  size_t max_bytes_;
  std::deque<wire::KeyVersion> entries_;
  std::deque<wire::EntryWrite> writes_;  // beside entries_: what each entry's write was
  uint64_t first_ = 1;
  size_t bytes_ = 0;
  std::unordered_map<std::string, Follower> followers_;
};

}  // namespace ckv
