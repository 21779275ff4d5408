// NodeDriver: runs one kernel Node for real. It owns the node, its sockets (Transport) and
// its timer, all on one Asio strand, and feeds the node real time: a steady clock for
// timers, the system clock (microseconds) for write versions.
//
// Client operations may be called from any thread; each posts to the strand and later
// calls its handler exactly once, on the strand, with the kernel's Reply — keep handlers
// short (post the answer to your own executor). Every kernel input is cheap and no socket
// operation blocks, so a read never waits behind gossip work or a slow peer; what can
// block the strand is the store (RocksDB), and with --sync an fsync per burst.
//
// Group commit: the node's output passes through a CommitGate (kernel/commit_gate.h),
// the policy the simulator runs too. Once the strand has run the inputs already queued,
// the driver commits the staged writes to RocksDB in one batch and then lets out what the
// gate held for them, so nothing anyone hears of can be lost by a crash. A batch the
// store refuses (a full disk) does not stop the process: its requests are answered with
// the store's error, its messages are dropped, the node forgets what it did on the
// batch's strength (Node::on_commit_failed), and writes go straight to the store, each
// answered with its error, until the store takes one again. Reads go on throughout.
//
// A node that starts with peers to join holds client reads until it has joined (the
// kernel does: KvConfig::join_wait).
//
// The driver also keeps the member snapshot: the gossip addresses of the peers last seen
// alive, saved in the store, so a restarted node rejoins them without --join.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernel/commit_gate.h"
#include "kernel/node.h"
#include "kernel/record/node_host.h"
#include "runtime/gossip/transport.h"
#include "runtime/record/flight_recorder.h"
#include "runtime/store/rocks_store.h"
#include "runtime/watch/watch_hub.h"

namespace ckv {

// The tag a node publishes its gossip keys' fingerprints in (`cluster-kv keyring`); tags
// starting with "ckv." are the node's own, never given with --tag.
inline constexpr std::string_view kKeysTag = "ckv.keys";
inline constexpr std::string_view kReservedTagPrefix = "ckv.";

struct DriverConfig {
  NodeConfig node;
  std::string name;
  Address bind;       // gossip sockets listen here
  Address advertise;  // and peers reach us here
  uint64_t cluster_tag = 0;
  std::vector<Address> seeds;  // --join targets, resolved
  TransportLimits limits;
  std::shared_ptr<const Keyring> keyring;  // null: gossip in plaintext
  std::optional<RecorderOptions> record;   // --record: the kernel's inputs go to disk
};

struct MemberInfo {
  std::string name;
  Address address;
  MemberState state;
  uint64_t incarnation;
  bool self;
  wire::Tags tags;
};

// A consistent picture of the node, taken on the strand.
struct NodeView {
  std::vector<MemberInfo> members;
  NodeStats stats;
  uint64_t epoch = 0;
  bool joined = false;
  size_t outgoing_connections = 0;
  size_t inbound_connections = 0;
  uint64_t fast_hits = 0;   // gets answered by try_local_get
  std::string store_error;  // why the store refuses writes now; empty when it takes them
};

class NodeDriver {
 public:
  using ReplyHandler = std::function<void(Reply)>;

  // Opens the sockets, creates the node and joins the seeds plus the peers of the saved
  // member snapshot (none: founds a cluster). Errors name what failed: "--gossip: ..."
  // for the sockets, "the store in <dir>: ..." for the node's own records.
  static Result<std::unique_ptr<NodeDriver>> start(boost::asio::io_context& io, DriverConfig config,
                                                   RocksStore& store);
  ~NodeDriver();

  // Answers a get on the calling thread when the local copy may be served without asking
  // the cluster (Node::answer_locally against the epoch the kernel last published):
  // a local hit then never waits for the kernel's strand. False: use get().
  bool try_local_get(std::string_view key, Reply& out);
  void get(std::string key, std::optional<Duration> timeout, ReplyHandler done);
  // `ttl`: the value expires that long after the node takes it (none: --default-ttl);
  // `content`: what the value is (kernel/kv/content_type.h).
  void put(std::string key, std::string value, std::optional<Duration> ttl, ContentType content,
           ReplyHandler done);
  void erase(std::string key, ReplyHandler done);
  // Lists the cluster's keys, with their values if `values` (see Node::list).
  void list(std::string prefix, std::string after, size_t limit, std::optional<Duration> timeout,
            bool values, ReplyHandler done);
  // A conditional put (`erase` false) or delete (see Node::write_if).
  void write_if(std::string key, bool erase, std::string value, std::optional<Duration> ttl,
                ContentType content, WriteCondition condition, ReplyHandler done);
  // Long-poll (thread-safe): `done(true)` once `key` changes (or may have: a reset),
  // `done(false)` after `wait`; on the strand, exactly once (false at once when stopping).
  // Returns the wait's id, for cancel_wait (thread-safe): a long-poll answered otherwise.
  uint64_t wait_for_change(std::string key, Duration wait, std::function<void(bool)> done);
  void cancel_wait(uint64_t id);
  // A watch stream's state: its prefix and resume point, and its place in the hub once
  // watch_start subscribed it (on the strand).
  struct WatchTicket {
    std::string prefix;
    std::string last_event_id;
    std::shared_ptr<WatchHub::Stream> stream;
  };
  // Subscribes the stream, then calls `started` (on the strand): a response sent from it
  // misses no change made after the client saw its head (thread-safe).
  void watch_start(std::shared_ptr<WatchTicket> ticket, std::function<void()> started);
  // The stream's next piece of text, to `deliver` (on the strand), when there is one
  // (thread-safe). Stopping: the last piece, empty.
  void watch_pull(std::shared_ptr<WatchTicket> ticket,
                  std::function<void(std::string, bool last)> deliver);
  // The connection let go of the stream (thread-safe).
  void watch_end(std::shared_ptr<WatchTicket> ticket);
  // Expires with the driver: what outlives it (a connection's last handlers, destroyed
  // with the io_context after the driver) checks it before calling in.
  std::weak_ptr<const void> lifetime() const { return lifetime_; }
  // A peer found by mDNS: joined unless a member of that name is already alive.
  void discovered(std::string name, Address peer);
  // Key rotation: seals and opens gossip with `keyring` from now on (thread-safe), and
  // publishes its fingerprints as the tag "ckv.keys" (`cluster-kv keyring`). A node started
  // in plaintext stays so: `done(false)`.
  void set_keyring(std::shared_ptr<const Keyring> keyring, std::function<void(bool)> done);
  void view(std::function<void(NodeView)> done);
  // An operator's force-leave of a failed member (Node::force_leave); `done` on the strand.
  void force_leave(std::string member, std::function<void(Status)> done);
  // Leaves gracefully (waits up to `max_wait` for the news to spread), closes the sockets,
  // flushes the store, then calls `done` on the strand.
  void shutdown(Duration max_wait, std::function<void()> done);

  const TransportStats& transport_stats() const { return transport_->stats(); }
  // Set once shutdown() is called; from then on client operations fail at once.
  bool stopping() const { return stopping_.load(); }
  const Address& advertise() const { return config_.advertise; }

 private:
  NodeDriver(boost::asio::io_context& io, DriverConfig config, RocksStore& store);
  Now now() const;
  // After every kernel input: hands the outbox to the gate, performs what it releases,
  // schedules the commit, and re-arms the timer.
  void after_input();
  void arm_timer();
  // Arms watch_timer_ for the hub's next deadline (on the strand).
  void arm_watch_timer();
  // Commits the staged writes, then performs what the gate held for them and the
  // datagrams it batched since the last commit.
  void flush();
  // Sends, logs member changes and answers clients: what the gate released.
  void perform(Effects& effects);
  // Logs when the store starts or stops refusing writes (once per change, not per
  // request) and keeps its error for view().
  void note_store_health();
  // Logs when the node, back from a long absence, dropped its old records (see
  // kernel/kv/collection.cpp), and when a pass of collection removed records.
  void note_collection();
  void save_peers();
  void note_membership_change();
  std::vector<Address> alive_peers() const;
  // One in kLocalHitSample local hits is told to the kernel (for eviction's recency),
  // in batches of kSampledHitBatch keys; at most kMaxSampledHits wait.
  static constexpr uint64_t kLocalHitSample = 16;
  static constexpr size_t kSampledHitBatch = 64;
  static constexpr size_t kMaxSampledHits = 4096;
  void note_local_hit(std::string_view key);
  // Fails `done` at once when the node is shutting down; true if it did.
  bool refuse_if_stopping(const ReplyHandler& done);
  void wait_for_leave(MonoTime give_up, std::function<void()> done);
  uint64_t next_request() { return ++last_request_; }

  DriverConfig config_;
  RocksStore& store_;
  Strand strand_;
  boost::asio::steady_timer timer_;
  MonoTime timer_at_ = kNever;
  std::unique_ptr<Transport> transport_;
  // The flight recorder (--record), before the host that writes to it.
  std::unique_ptr<FlightRecorder> recorder_;
  // The node and its CommitGate, the policy for its output. Key-value datagrams wait in
  // the gate until the strand has run the inputs already queued, so a burst of client
  // requests costs a datagram per peer, not one per request.
  std::unique_ptr<NodeHost> host_;
  const Node& node() const { return host_->node(); }
  Effects effects_;  // what the gate released, being performed (kept for its capacity)
  bool flush_posted_ = false;
  std::map<uint64_t, ReplyHandler> pending_;
  uint64_t last_request_ = 0;
  std::vector<Address> seeds_;
  std::vector<Address> saved_peers_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> published_epoch_{0};      // node_->serving_epoch() after the last input
  std::atomic<uint64_t> published_expiry_us_{0};  // node_->expiry_clock_us(), likewise
  std::atomic<uint64_t> fast_hits_{0};
  std::mutex sampled_hits_mutex_;
  std::vector<std::string> sampled_hits_;  // guarded by sampled_hits_mutex_
  bool store_failing_ = false;
  uint64_t absence_drops_seen_ = 0;
  uint64_t collected_logged_ = 0;  // records_collected when the last collection was logged
  // Records removed (collected, or dropped after an absence): so far, when that number last
  // changed, and when a compaction was last asked for.
  uint64_t removed_seen_ = 0;
  std::chrono::steady_clock::time_point removed_changed_at_{};
  uint64_t removed_compacted_ = 0;
  std::string store_error_;  // why the store refuses writes; read on the strand
  bool peers_save_pending_ = false;
  boost::asio::steady_timer peers_timer_;
  WatchHub hub_;  // on the strand
  std::atomic<uint64_t> next_wait_{1};
  std::shared_ptr<const void> lifetime_ = std::make_shared<int>(0);
  boost::asio::steady_timer watch_timer_;
  std::optional<WatchHub::Clock::time_point> watch_timer_at_;
};

}  // namespace ckv
