#include "runtime/node_driver.h"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <random>

#include "kernel/membership/tags.h"
#include "runtime/build_info.h"
#include "runtime/http/watch.h"
#include "runtime/log.h"

namespace ckv {
namespace asio = boost::asio;

namespace {

std::chrono::steady_clock::time_point to_steady(MonoTime t) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch()));
}

uint64_t random_seed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

// `tags` with the tag "ckv.keys" saying `ring`'s fingerprints (none: plaintext gossip, no
// such tag). Tags that would then be out of bounds stay without it.
wire::Tags tags_with_keys(wire::Tags tags, const Keyring* ring) {
  std::erase_if(tags, [](const wire::Tag& t) { return t.key == kKeysTag; });
  if (ring == nullptr) return tags;
  wire::Tags with = tags;
  with.push_back(wire::Tag{std::string(kKeysTag), ring->fingerprint_list()});
  auto normalized = normalize_tags(std::move(with));
  if (!normalized) {
    log_warn("the key fingerprints are not published (tag " + std::string(kKeysTag) +
             "): " + normalized.error().detail);
    return tags;
  }
  return std::move(*normalized);
}

}  // namespace

NodeDriver::NodeDriver(asio::io_context& io, DriverConfig config, RocksStore& store)
    : config_(std::move(config)),
      store_(store),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      peers_timer_(strand_),
      hub_(static_cast<uint32_t>(std::random_device{}()), sse_event, [this] { host_->watch(""); }),
      watch_timer_(strand_) {}

NodeDriver::~NodeDriver() = default;

Now NodeDriver::now() const {
  using namespace std::chrono;
  return Now{MonoTime(duration_cast<Duration>(steady_clock::now().time_since_epoch())),
             WallTime(duration_cast<microseconds>(system_clock::now().time_since_epoch()))};
}

Result<std::unique_ptr<NodeDriver>> NodeDriver::start(asio::io_context& io, DriverConfig config,
                                                      RocksStore& store) {
  std::unique_ptr<NodeDriver> d(new NodeDriver(io, std::move(config), store));
  NodeDriver* self = d.get();
  auto transport = Transport::open(
      d->strand_, d->config_.bind, d->config_.advertise, d->config_.cluster_tag, d->config_.limits,
      d->config_.keyring, [self](const Address& from, Channel channel, std::vector<uint8_t> bytes) {
        if (self->host_ == nullptr) return;
        self->host_->on_message(self->now(), from, channel, bytes);
        self->after_input();
      });
  if (!transport) return Error{transport.error().code, "--gossip: " + transport.error().detail};
  d->transport_ = std::move(*transport);

  // A store that refuses writes from the start (opened on a full disk) is written through,
  // so that no first batch fails with the answers of reads riding on it.
  std::optional<Error> refuses;
  if (Status room = store.room_to_write(); !room.ok()) refuses = room.error();
  d->config_.node.membership.tags =
      tags_with_keys(d->config_.node.membership.tags, d->config_.keyring.get());
  if (d->config_.record) {
    auto recorder = FlightRecorder::open(*d->config_.record);
    if (!recorder) return recorder.error();
    d->recorder_ = std::move(*recorder);
    log_info("recording the kernel's inputs in " + d->recorder_->run_dir() +
             (d->config_.record->whole_values ? " (values included)" : " (values masked)"));
  }
  d->host_ = std::make_unique<NodeHost>(store, d->config_.node.membership,
                                        d->recorder_ ? &d->recorder_->writer() : nullptr);
  record::StartInfo info;
  info.build = std::string(build_describe());
  info.values = d->recorder_ ? d->recorder_->value_mode() : record::ValueMode::kWhole;
  info.name = d->config_.name;
  info.address = d->config_.advertise;
  info.seed = random_seed();
  info.start = d->now();
  info.config = d->config_.node;
  if (Status created = d->host_->create(info, std::move(refuses)); !created.ok()) {
    return Error{created.error().code,
                 "the store in " + store.dir() + ": " + created.error().detail};
  }
  if (d->recorder_) d->recorder_->hand_off();

  auto saved = store.get_peers();
  if (saved) {
    d->saved_peers_ = *saved;
    std::sort(d->saved_peers_.begin(), d->saved_peers_.end());
  }
  d->seeds_ = d->config_.seeds;
  for (const Address& peer : d->saved_peers_) {
    if (std::find(d->seeds_.begin(), d->seeds_.end(), peer) == d->seeds_.end()) {
      d->seeds_.push_back(peer);
    }
  }
  if (!d->saved_peers_.empty()) {
    log_info("rejoining " + std::to_string(d->saved_peers_.size()) +
             " peers from the saved member snapshot");
  }
  asio::post(d->strand_, [self] {
    self->host_->join(self->now(), self->seeds_);
    self->after_input();
  });
  return d;
}

void NodeDriver::after_input() {
  host_->take(effects_);
  note_store_health();
  note_collection();
  const bool membership_changed = !effects_.changes.empty();
  perform(effects_);
  if (host_->gate().commit_urgent()) {
    flush();
  } else if (host_->gate().commit_due() && !flush_posted_) {
    // Behind everything already queued on the strand: requests that arrived together
    // are committed together and their messages leave together.
    flush_posted_ = true;
    asio::post(strand_, [this] {
      flush_posted_ = false;
      flush();
    });
  }
  if (recorder_) recorder_->hand_off();
  published_expiry_us_.store(node().expiry_clock_us(), std::memory_order_release);
  published_epoch_.store(node().serving_epoch(), std::memory_order_release);
  if (membership_changed) note_membership_change();
  arm_timer();
}

void NodeDriver::perform(Effects& effects) {
  for (const MemberChange& c : effects.changes) {
    if (c.name == config_.name) continue;
    if (c.is_new || c.from_state != c.to_state) {
      log_info(std::string("member ") + c.name + " (" + c.addr.to_string() + ") " +
               (c.is_new ? "new" : to_string(c.from_state)) + " -> " + to_string(c.to_state) +
               (c.reaped ? " (forgotten)" : ""));
    }
  }
  for (Send& s : effects.sends)
    transport_->send(std::move(s));
  for (Reply& r : effects.replies) {
    auto it = pending_.find(r.request);
    if (it == pending_.end()) continue;
    ReplyHandler handler = std::move(it->second);
    pending_.erase(it);
    handler(std::move(r));
  }
  if (!effects.events.empty()) {
    hub_.on_events(effects.events, WatchHub::Clock::now());
    arm_watch_timer();
  }
  effects.clear();
}

void NodeDriver::flush() {
  const size_t writes = host_->gate().staged_writes();
  if (Status s = host_->commit(effects_); !s.ok()) {
    // Nobody hears of the batch: its replies are errors now, its messages dropped, and
    // the node forgets what it did on its strength.
    log_error("the store failed a batch of " + std::to_string(writes) + " writes (" +
              s.error().detail + "): their requests are answered with errors");
    host_->on_commit_failed(now());
    perform(effects_);
    after_input();
    return;
  }
  perform(effects_);
  note_store_health();
  if (recorder_) recorder_->hand_off();
}

void NodeDriver::note_collection() {
  const NodeStats& stats = node().stats();
  if (node().kv().absence_drops() != absence_drops_seen_) {
    absence_drops_seen_ = node().kv().absence_drops();
    log_warn(
        "no member probed this node for more than half of --tombstone-ttl (it was down "
        "or cut off): it dropped its records older than three quarters of it (" +
        std::to_string(stats.records_dropped_absent) +
        " so far), own writes included, since others may have collected deletes of them "
        "without it");
  }
  // Collection runs in small batches: say so once per 10,000 records, not per batch.
  const uint64_t removed = stats.records_collected + stats.records_dropped_absent;
  if (stats.records_collected >= collected_logged_ + 10000) {
    collected_logged_ = stats.records_collected;
    log_info("collected " + std::to_string(stats.records_collected) +
             " tombstones, markers and expired values so far (older than --tombstone-ttl)");
  }
  // RocksDB gives the space of removed records back when it compacts them away: ask for a
  // compaction every 100,000 removed, and once removal has paused for 10 s.
  const auto now = std::chrono::steady_clock::now();
  if (removed != removed_seen_) {
    removed_seen_ = removed;
    removed_changed_at_ = now;
  }
  const uint64_t pending = removed - removed_compacted_;
  if (pending >= 100000 || (pending > 0 && now - removed_changed_at_ >= std::chrono::seconds(10))) {
    if (store_.compact_in_background()) removed_compacted_ = removed;
  }
}

void NodeDriver::note_store_health() {
  const std::optional<Error>& failing = host_->gate().store_failing();
  if (failing.has_value() == store_failing_) return;
  store_failing_ = failing.has_value();
  const std::string why = failing ? failing->detail : std::string();
  store_error_ = why;
  if (failing) {
    log_error("the store refuses writes (" + why + "): writes are answered " +
              (failing->code == ErrorCode::kNoSpace ? "507" : "500") +
              " and reads go on until it takes them again");
  } else {
    log_info("the store takes writes again");
  }
}

uint64_t NodeDriver::wait_for_change(std::string key, Duration wait,
                                     std::function<void(bool)> done) {
  const uint64_t id = next_wait_++;
  asio::post(strand_, [this, id, key = std::move(key), wait, done = std::move(done)]() mutable {
    if (stopping_) return done(false);
    hub_.wait_for_change(id, std::move(key), WatchHub::Clock::now() + wait, std::move(done));
    arm_watch_timer();
  });
  return id;
}

void NodeDriver::cancel_wait(uint64_t id) {
  asio::post(strand_, [this, id] {
    hub_.cancel_wait(id);
    arm_watch_timer();
  });
}

void NodeDriver::watch_start(std::shared_ptr<WatchTicket> ticket, std::function<void()> started) {
  asio::post(strand_, [this, ticket = std::move(ticket), started = std::move(started)] {
    if (!stopping_) {
      ticket->stream =
          hub_.subscribe(ticket->prefix, ticket->last_event_id, WatchHub::Clock::now());
      arm_watch_timer();
    }
    started();
  });
}

void NodeDriver::watch_pull(std::shared_ptr<WatchTicket> ticket,
                            std::function<void(std::string, bool)> deliver) {
  asio::post(strand_, [this, ticket = std::move(ticket), deliver = std::move(deliver)]() mutable {
    if (stopping_ || !ticket->stream) return deliver({}, true);
    hub_.pull(ticket->stream, std::move(deliver), WatchHub::Clock::now());
    arm_watch_timer();
  });
}

void NodeDriver::watch_end(std::shared_ptr<WatchTicket> ticket) {
  asio::post(strand_, [this, ticket = std::move(ticket)] {
    if (ticket->stream) hub_.unsubscribe(ticket->stream);
  });
}

void NodeDriver::arm_watch_timer() {
  const std::optional<WatchHub::Clock::time_point> next = hub_.next_deadline();
  if (next == watch_timer_at_) return;
  watch_timer_at_ = next;
  if (!next) {
    watch_timer_.cancel();
    return;
  }
  watch_timer_.expires_at(*next);
  watch_timer_.async_wait(
      asio::bind_executor(strand_, [this, next](const boost::system::error_code& ec) {
        if (ec || next != watch_timer_at_) return;  // cancelled or re-armed meanwhile
        watch_timer_at_.reset();
        hub_.on_timer(WatchHub::Clock::now());
        arm_watch_timer();
      }));
}

void NodeDriver::arm_timer() {
  MonoTime next = node().next_deadline();
  if (next == timer_at_) return;
  timer_at_ = next;
  if (next == kNever) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(to_steady(next));
  timer_.async_wait(asio::bind_executor(strand_, [this, next](const boost::system::error_code& ec) {
    if (ec || next != timer_at_) return;  // cancelled or re-armed meanwhile
    timer_at_ = kNever;
    host_->on_timer(now());
    after_input();
  }));
}

std::vector<Address> NodeDriver::alive_peers() const {
  std::vector<Address> alive;
  for (const Member& m : node().members()) {
    if (m.alive() && m.name.view() != config_.name) alive.push_back(m.addr);
  }
  std::sort(alive.begin(), alive.end());
  return alive;
}

// The snapshot is a hint for the next start. A peer it lacks is saved at once (a node
// killed a moment after joining must still find its cluster again); peers that went away
// are dropped from it at most once a second, so flapping members cost no fsyncs.
void NodeDriver::note_membership_change() {
  std::vector<Address> alive = alive_peers();
  bool grew = std::any_of(alive.begin(), alive.end(), [&](const Address& a) {
    return !std::binary_search(saved_peers_.begin(), saved_peers_.end(), a);
  });
  if (grew) {
    save_peers();
    return;
  }
  if (peers_save_pending_ || alive == saved_peers_) return;
  peers_save_pending_ = true;
  peers_timer_.expires_after(std::chrono::seconds(1));
  peers_timer_.async_wait(asio::bind_executor(strand_, [this](const boost::system::error_code& ec) {
    peers_save_pending_ = false;
    if (!ec) save_peers();
  }));
}

void NodeDriver::save_peers() {
  std::vector<Address> alive = alive_peers();
  if (alive.empty() || alive == saved_peers_) return;  // keep the last non-empty picture
  Status s = store_.put_peers(alive);
  if (!s.ok()) {
    log_warn("could not save the member snapshot: " + s.error().detail);
    return;
  }
  saved_peers_ = std::move(alive);
}

bool NodeDriver::try_local_get(std::string_view key, Reply& out) {
  if (stopping_.load(std::memory_order_relaxed)) return false;
  // The epoch first: a copy confirmed in a newer epoch than the one read is passed to the
  // kernel (a miss here, never a wrong answer).
  uint64_t epoch = published_epoch_.load(std::memory_order_acquire);
  if (epoch == 0) return false;  // the kernel has not run yet
  Record local;
  Result<bool> found = store_.get(key, local);
  if (!found.ok() || !found.value()) return false;
  // Expiry by the later of the clock and the kernel's expiry clock: a value the kernel has
  // seen expire stays expired here too, whatever the wall clock does.
  const auto wall = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const uint64_t wall_us = std::max(static_cast<uint64_t>(std::max<int64_t>(0, wall.count())),
                                    published_expiry_us_.load(std::memory_order_acquire));
  if (!Node::answer_locally(local, epoch, wall_us, out)) return false;
  out.op = ClientOp::kGet;
  const uint64_t hits = fast_hits_.fetch_add(1, std::memory_order_relaxed);
  if (config_.node.kv.max_data_bytes != 0 && hits % kLocalHitSample == 0) note_local_hit(key);
  return true;
}

void NodeDriver::note_local_hit(std::string_view key) {
  std::lock_guard lock(sampled_hits_mutex_);
  if (sampled_hits_.size() >= kMaxSampledHits) return;  // the strand is behind: drop
  sampled_hits_.emplace_back(key);
  if (sampled_hits_.size() != kSampledHitBatch) return;
  asio::post(strand_, [this] {
    std::vector<std::string> keys;
    {
      std::lock_guard taking(sampled_hits_mutex_);
      keys.swap(sampled_hits_);
    }
    host_->note_local_hits(keys);
    if (recorder_) recorder_->hand_off();
  });
}

bool NodeDriver::refuse_if_stopping(const ReplyHandler& done) {
  if (!stopping_) return false;
  Reply r;
  r.status = ReplyStatus::kError;
  r.error = "node is shutting down";
  done(std::move(r));
  return true;
}

void NodeDriver::get(std::string key, std::optional<Duration> timeout, ReplyHandler done) {
  asio::post(strand_, [this, key = std::move(key), timeout, done = std::move(done)]() mutable {
    if (refuse_if_stopping(done)) return;
    uint64_t id = next_request();
    pending_.emplace(id, std::move(done));
    host_->get(now(), id, key, timeout);
    after_input();
  });
}

void NodeDriver::put(std::string key, std::string value, std::optional<Duration> ttl,
                     ContentType content, ReplyHandler done) {
  asio::post(strand_, [this, key = std::move(key), value = std::move(value), ttl,
                       content = std::move(content), done = std::move(done)]() mutable {
    if (refuse_if_stopping(done)) return;
    uint64_t id = next_request();
    pending_.emplace(id, std::move(done));
    host_->put(now(), id, key, std::move(value), ttl, std::move(content));
    after_input();
  });
}

void NodeDriver::erase(std::string key, ReplyHandler done) {
  asio::post(strand_, [this, key = std::move(key), done = std::move(done)]() mutable {
    if (refuse_if_stopping(done)) return;
    uint64_t id = next_request();
    pending_.emplace(id, std::move(done));
    host_->erase(now(), id, key);
    after_input();
  });
}

void NodeDriver::list(std::string prefix, std::string after, size_t limit,
                      std::optional<Duration> timeout, bool values, ReplyHandler done) {
  asio::post(strand_, [this, prefix = std::move(prefix), after = std::move(after), limit, timeout,
                       values, done = std::move(done)]() mutable {
    if (refuse_if_stopping(done)) return;
    uint64_t id = next_request();
    pending_.emplace(id, std::move(done));
    host_->list(now(), id, prefix, after, limit, timeout, values);
    after_input();
  });
}

void NodeDriver::write_if(std::string key, bool erase, std::string value,
                          std::optional<Duration> ttl, ContentType content,
                          WriteCondition condition, ReplyHandler done) {
  asio::post(strand_, [this, key = std::move(key), erase, value = std::move(value), ttl,
                       content = std::move(content), condition = std::move(condition),
                       done = std::move(done)]() mutable {
    if (refuse_if_stopping(done)) return;
    uint64_t id = next_request();
    pending_.emplace(id, std::move(done));
    host_->write_if(now(), id, key, erase, std::move(value), ttl, std::move(condition),
                    std::move(content));
    after_input();
  });
}

void NodeDriver::set_keyring(std::shared_ptr<const Keyring> keyring,
                             std::function<void(bool)> done) {
  asio::post(strand_, [this, keyring = std::move(keyring), done = std::move(done)]() mutable {
    const Keyring* ring = keyring.get();
    const bool changed = transport_->set_keyring(std::move(keyring));
    if (changed && !stopping_) {
      Status s = host_->set_tags(now(), tags_with_keys(node().membership().tags(), ring));
      if (!s.ok()) log_warn("the new key fingerprints are not published: " + s.error().detail);
      after_input();
    }
    done(changed);
  });
}

void NodeDriver::discovered(std::string name, Address peer) {
  asio::post(strand_, [this, name = std::move(name), peer] {
    if (stopping_ || name == config_.name) return;
    // By name, not address: a peer publishes on every interface and may resolve to an
    // address other than the one it advertises.
    for (const Member& m : node().members()) {
      if (m.name.view() == name && m.alive()) return;
    }
    log_info("mDNS found " + name + " at " + peer.to_string() + "; joining it");
    constexpr size_t kMaxSeeds = 64;
    if (std::find(seeds_.begin(), seeds_.end(), peer) == seeds_.end()) {
      if (seeds_.size() >= kMaxSeeds) seeds_.erase(seeds_.begin());
      seeds_.push_back(peer);
    }
    std::vector<Address> targets;
    for (const Address& seed : seeds_) {
      bool alive = false;
      for (const Member& m : node().members())
        alive = alive || (m.addr == seed && m.alive());
      if (!alive) targets.push_back(seed);
    }
    host_->join(now(), targets);
    after_input();
  });
}

void NodeDriver::view(std::function<void(NodeView)> done) {
  asio::post(strand_, [this, done = std::move(done)] {
    NodeView v;
    for (const Member& m : node().members()) {
      v.members.push_back(MemberInfo{std::string(m.name.view()), m.addr, m.state, m.incarnation,
                                     m.name.view() == config_.name, m.tags.get()});
    }
    v.stats = node().stats();
    v.epoch = node().epoch();
    v.joined = node().joined();
    v.outgoing_connections = transport_->outgoing_connections();
    v.inbound_connections = transport_->inbound_connections();
    v.fast_hits = fast_hits_.load(std::memory_order_relaxed);
    v.store_error = store_error_;
    done(std::move(v));
  });
}

void NodeDriver::shutdown(Duration max_wait, std::function<void()> done) {
  asio::post(strand_, [this, max_wait, done = std::move(done)]() mutable {
    if (stopping_) return;
    stopping_ = true;
    Now t = now();
    host_->leave(t);
    after_input();
    wait_for_leave(t.mono + max_wait, std::move(done));
  });
}

void NodeDriver::force_leave(std::string member, std::function<void(Status)> done) {
  asio::post(strand_, [this, member = std::move(member), done = std::move(done)] {
    if (stopping_) {
      done(Error{ErrorCode::kUnavailable, "the node is shutting down"});
      return;
    }
    Status s = host_->force_leave(now(), member);
    after_input();
    done(std::move(s));
  });
}

void NodeDriver::wait_for_leave(MonoTime give_up, std::function<void()> done) {
  if (node().leave_complete() || now().mono >= give_up) {
    log_info(node().leave_complete() ? "left the cluster" : "leave timed out; stopping anyway");
    // Reads still waiting on the cluster (or for the join) end now.
    for (auto& [id, handler] : pending_) {
      Reply r;
      r.request = id;
      r.status = ReplyStatus::kError;
      r.error = "node is shutting down";
      handler(std::move(r));
    }
    pending_.clear();
    flush();  // what the last inputs wrote, and the leave's last words
    transport_->close();
    timer_.cancel();
    peers_timer_.cancel();
    hub_.close_all();  // long-polls answer now, streams end
    watch_timer_.cancel();
    save_peers();
    Status s = store_.flush();
    if (!s.ok()) log_error("flushing the store failed: " + s.error().detail);
    done();
    return;
  }
  auto poll = std::make_shared<asio::steady_timer>(strand_, std::chrono::milliseconds(20));
  poll->async_wait(asio::bind_executor(strand_, [this, poll, give_up, done = std::move(done)](
                                                    const boost::system::error_code&) mutable {
    wait_for_leave(give_up, std::move(done));
  }));
}

}  // namespace ckv
