// WatchHub: a node's watchers -- long-polls of one key and event streams of a prefix --
// fed from its kernel's change feed (kernel/kv/change_feed.h).
//
// Lives on the NodeDriver's strand: every method runs there. Cheap per watcher, with no
// thread or timer of its own: a long-poll is a hash-map entry and a deadline in one
// ordered set; a stream is a queue of formatted events and the callback its connection
// parked for the next piece. One timer (the driver's) serves every deadline and the
// streams' keep-alives.
//
// Streams number their events "<feed id>-<seq>" (seq counts every event the hub took;
// the feed id is drawn at start, so a restarted node's numbers never resume an older
// process's). The last kReplayEvents events are kept, so a client that reconnects with
// the id of the last event it saw gets what it missed, or, if that is gone (or from
// another process), a reset. A stream whose client reads too slowly for kMaxQueuedBytes
// of events gets a reset and is closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernel/kv/change_feed.h"

namespace ckv {

class WatchHub {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kReplayEvents = 4096;
  static constexpr size_t kMaxQueuedBytes = 1 << 20;
  static constexpr auto kKeepAlive = std::chrono::seconds(15);

  // A stream's state, shared by the hub and the connection's body stream. `deliver`
  // receives the next piece of text (and whether it is the last).
  struct Stream {
    std::string prefix;
    std::string queued;                                  // formatted events
    std::function<void(std::string, bool last)> parked;  // the connection waits
    Clock::time_point last_sent{};
    bool closing = false;  // a slow consumer: its reset is queued; then it ends
    bool gone = false;     // the connection let go of it
  };

  // How a stream's event is written, given its id (runtime/http/watch.h's sse_event).
  using Format = std::string (*)(const ChangeEvent& e, std::string_view id);

  // `feed_id`: drawn at process start. `watch_all`: called once, the first time anyone
  // watches (the hub then takes every change; see node.h's watch).
  WatchHub(uint32_t feed_id, Format format, std::function<void()> watch_all)
      : feed_id_(feed_id), format_(format), watch_all_(std::move(watch_all)) {}

  // The feed's events, in the order the node released them.
  void on_events(const std::vector<ChangeEvent>& events, Clock::time_point now);

  // Long-poll `id` (the caller's, unique): `done(true)` once `key` changes (or the node
  // may have missed a change of it: a reset), `done(false)` at `deadline`; exactly once,
  // unless cancelled first.
  void wait_for_change(uint64_t id, std::string key, Clock::time_point deadline,
                       std::function<void(bool changed)> done);
  void cancel_wait(uint64_t id);

  // A new stream of the events of keys starting with `prefix`, resuming after event id
  // `last_event_id` when given ("<feed>-<seq>"): what it missed if the hub still holds
  // it, else a reset first.
  std::shared_ptr<Stream> subscribe(std::string prefix, std::string_view last_event_id,
                                    Clock::time_point now);
  // The connection wants the next piece: given at once if any is queued, else when the
  // next event or keep-alive comes.
  void pull(const std::shared_ptr<Stream>& stream,
            std::function<void(std::string, bool last)> deliver, Clock::time_point now);
  void unsubscribe(const std::shared_ptr<Stream>& stream);

  // The node stops: every long-poll ends (unchanged), every stream ends.
  void close_all();
  // Ends the long-polls due and sends the keep-alives due.
  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  size_t waiting() const { return waits_.size(); }
  size_t streams() const { return streams_.size(); }
  uint64_t slow_closed() const { return slow_closed_; }

 private:
  struct Wait {
    std::string key;
    Clock::time_point deadline;
    std::function<void(bool)> done;
  };
  void start_watching();
  // Appends event `e` (numbered `seq`) to `s` if its prefix covers it.
  void enqueue(Stream& s, const ChangeEvent& e, uint64_t seq);
  void flush(Stream& s, Clock::time_point now);
  void end_wait(uint64_t id, bool changed);

  std::string id_of(uint64_t seq) const;

  uint32_t feed_id_;
  Format format_;
  std::function<void()> watch_all_;
  bool watching_ = false;
  uint64_t next_seq_ = 1;           // the next event's number
  std::deque<ChangeEvent> recent_;  // the last kReplayEvents events, numbered up to next_seq_-1
  std::unordered_map<uint64_t, Wait> waits_;
  std::unordered_multimap<std::string, uint64_t> waits_by_key_;
  std::set<std::pair<Clock::time_point, uint64_t>> wait_deadlines_;
  std::vector<std::shared_ptr<Stream>> streams_;
  Clock::time_point next_keep_alive_{};  // the next keep-alive sweep (while streams exist)
  uint64_t slow_closed_ = 0;
};

}  // namespace ckv
