#include "runtime/watch/watch_hub.h"

#include <algorithm>
#include <charconv>

namespace ckv {

namespace {

bool covers(std::string_view prefix, std::string_view key) {
  return key.substr(0, prefix.size()) == prefix;
}

constexpr char kKeepAliveText[] = ": keep-alive\n\n";

}  // namespace

std::string WatchHub::id_of(uint64_t seq) const {
  char buf[40];
  auto* end = std::to_chars(buf, buf + 8 + 1, feed_id_, 16).ptr;
  *end++ = '-';
  end = std::to_chars(end, buf + sizeof buf, seq).ptr;
  return std::string(buf, end);
}

void WatchHub::start_watching() {
  if (watching_) return;
  watching_ = true;
  watch_all_();
}

void WatchHub::on_events(const std::vector<ChangeEvent>& events, Clock::time_point now) {
  if (events.empty()) return;
  for (const ChangeEvent& e : events) {
    const uint64_t seq = next_seq_++;
    recent_.push_back(e);
    if (recent_.size() > kReplayEvents) recent_.pop_front();
    // Long-polls: a change of their key, or a reset (it may have changed unseen).
    if (e.kind == ChangeEvent::Kind::kReset) {
      std::vector<uint64_t> all;
      all.reserve(waits_.size());
      for (const auto& [id, w] : waits_)
        all.push_back(id);
      for (uint64_t id : all)
        end_wait(id, true);
    } else if (!waits_by_key_.empty()) {
      auto [from, to] = waits_by_key_.equal_range(e.key);
      std::vector<uint64_t> woken;
      for (auto it = from; it != to; ++it)
        woken.push_back(it->second);
      for (uint64_t id : woken)
        end_wait(id, true);
    }
    for (const std::shared_ptr<Stream>& s : streams_)
      enqueue(*s, e, seq);
  }
  for (const std::shared_ptr<Stream>& s : streams_)
    flush(*s, now);
}

void WatchHub::enqueue(Stream& s, const ChangeEvent& e, uint64_t seq) {
  if (s.closing || s.gone) return;
  if (e.kind != ChangeEvent::Kind::kReset && !covers(s.prefix, e.key)) return;
  if (s.queued.size() > kMaxQueuedBytes) {
    // Its client does not keep up: tell it to start over, then end the stream (a node
    // never grows for a slow reader).
    s.queued = format_(ChangeEvent{}, id_of(seq));
    s.closing = true;
    slow_closed_++;
    return;
  }
  s.queued += format_(e, id_of(seq));
}

void WatchHub::flush(Stream& s, Clock::time_point now) {
  if (!s.parked || (s.queued.empty() && !s.closing)) return;
  auto deliver = std::move(s.parked);
  s.parked = nullptr;
  s.last_sent = now;
  std::string text = std::move(s.queued);
  s.queued.clear();
  deliver(std::move(text), s.closing);
}

void WatchHub::wait_for_change(uint64_t id, std::string key, Clock::time_point deadline,
                               std::function<void(bool)> done) {
  start_watching();
  waits_by_key_.emplace(key, id);
  wait_deadlines_.emplace(deadline, id);
  waits_.emplace(id, Wait{std::move(key), deadline, std::move(done)});
}

void WatchHub::cancel_wait(uint64_t id) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  auto [from, to] = waits_by_key_.equal_range(it->second.key);
  for (auto k = from; k != to; ++k) {
    if (k->second == id) {
      waits_by_key_.erase(k);
      break;
    }
  }
  wait_deadlines_.erase({it->second.deadline, id});
  waits_.erase(it);
}

void WatchHub::end_wait(uint64_t id, bool changed) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  std::function<void(bool)> done = std::move(it->second.done);
  cancel_wait(id);
  done(changed);
}

std::shared_ptr<WatchHub::Stream> WatchHub::subscribe(std::string prefix,
                                                      std::string_view last_event_id,
                                                      Clock::time_point now) {
  start_watching();
  auto s = std::make_shared<Stream>();
  s->prefix = std::move(prefix);
  s->last_sent = now;
  if (!last_event_id.empty()) {
    // "<feed>-<seq>": replay what followed, if this process gave it and still holds it.
    const size_t dash = last_event_id.find('-');
    uint32_t feed = 0;
    uint64_t seq = 0;
    bool ours = dash != std::string_view::npos;
    if (ours) {
      auto f = std::from_chars(last_event_id.data(), last_event_id.data() + dash, feed, 16);
      auto q = std::from_chars(last_event_id.data() + dash + 1,
                               last_event_id.data() + last_event_id.size(), seq);
      ours = f.ec == std::errc() && q.ec == std::errc() &&
             q.ptr == last_event_id.data() + last_event_id.size() && feed == feed_id_;
    }
    const uint64_t oldest = next_seq_ - recent_.size();  // the first seq recent_ holds
    if (ours && seq + 1 >= oldest && seq < next_seq_) {
      for (uint64_t n = seq + 1; n < next_seq_; ++n)
        enqueue(*s, recent_[n - oldest], n);
    } else {
      s->queued = format_(ChangeEvent{}, id_of(next_seq_ - 1));  // what it missed is gone
    }
  }
  streams_.push_back(s);
  return s;
}

void WatchHub::pull(const std::shared_ptr<Stream>& stream,
                    std::function<void(std::string, bool)> deliver, Clock::time_point now) {
  if (stream->gone) return;
  stream->parked = std::move(deliver);
  flush(*stream, now);
}

void WatchHub::unsubscribe(const std::shared_ptr<Stream>& stream) {
  stream->gone = true;
  stream->parked = nullptr;
  std::erase(streams_, stream);
}

void WatchHub::close_all() {
  while (!waits_.empty())
    end_wait(waits_.begin()->first, false);
  const auto now = Clock::now();
  for (const std::shared_ptr<Stream>& s : streams_) {
    s->closing = true;
    flush(*s, now);
  }
}

void WatchHub::on_timer(Clock::time_point now) {
  while (!wait_deadlines_.empty() && wait_deadlines_.begin()->first <= now)
    end_wait(wait_deadlines_.begin()->second, false);
  if (now < next_keep_alive_) return;
  // One sweep every kKeepAlive / 3: a stream silent for kKeepAlive gets a comment, so
  // proxies keep its connection (and a client gone is noticed).
  next_keep_alive_ = now + kKeepAlive / 3;
  for (const std::shared_ptr<Stream>& s : streams_) {
    if (s->parked && now - s->last_sent >= kKeepAlive) {
      s->queued += kKeepAliveText;
      flush(*s, now);
    }
  }
}

std::optional<WatchHub::Clock::time_point> WatchHub::next_deadline() const {
  std::optional<Clock::time_point> next;
  if (!wait_deadlines_.empty()) next = wait_deadlines_.begin()->first;
  if (!streams_.empty() && (!next || next_keep_alive_ < *next)) next = next_keep_alive_;
  return next;
}

}  // namespace ckv
