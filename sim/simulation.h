// Simulation: a cluster of kernels on a simulated network, in virtual time.
//
// One seed decides everything — each node's PRNG, clock skew and drift, the network's
// latency, loss and duplication, the fault schedule — so a run is a pure function of its
// SimConfig and its trace hash is its fingerprint. A run has two phases:
//  - chaos (SimConfig::chaos long): the fault plan plays out while the safety properties
//    are checked on every member change;
//  - quiet: faults stop (partitions heal, crashed nodes due to restart restart, paused
//    and slow nodes recover), and the liveness properties must hold within their derived bounds.
//    The run ends once they hold (after at least `min_quiet`), or when a bound is passed.
// Nodes are named n0..n<N-1> and live at 10.0.x.y:7946. Node n0 founds the cluster; the
// others start within `start_spread` and join through n0, and through two random peers
// too unless `joins` says n0 only (as a user does with `--join` the first node; the
// others then learn of each other by gossip). The seed draws both when they are unset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "kernel/core/random.h"
#include "kernel/node.h"
#include "kernel/wire/codec.h"
#include "kernel/wire/datagram_batcher.h"
#include "sim/adopted_node.h"
#include "sim/bounds.h"
#include "sim/cas_checker.h"
#include "sim/event_queue.h"
#include "sim/fault_plan.h"
#include "sim/gap_checker.h"
#include "sim/kv_checker.h"
#include "sim/kv_workload.h"
#include "sim/membership_checker.h"
#include "sim/network.h"
#include "sim/sim_node.h"
#include "sim/timeline/timeline.h"
#include "sim/trace.h"
#include "sim/watch_checker.h"

namespace ckv::sim {

enum class FaultMode : uint8_t { kNone, kSwarm, kScripted };
inline constexpr size_t kFaultModeCount = 3;
static_assert(static_cast<size_t>(FaultMode::kScripted) + 1 == kFaultModeCount);
const char* to_string(FaultMode mode);

enum class JoinShape : uint8_t {
  kFounderAndPeers,  // n0 and two random peers (a discovery service would find several)
  kFounderOnly,      // n0 only: everyone else is learnt by gossip
};
inline constexpr size_t kJoinShapeCount = 2;
static_assert(static_cast<size_t>(JoinShape::kFounderOnly) + 1 == kJoinShapeCount);
const char* to_string(JoinShape shape);

// A rolling upgrade: from `start`, one node after another (n0 first, `every` apart) stops
// for `down` and comes back speaking wire `version` (a later revision, sim/wire_revision.h).
struct RollingUpgrade {
  MonoTime start;
  Duration every = std::chrono::seconds(10);
  Duration down = std::chrono::seconds(2);
  uint8_t version = wire::kWireVersion + 1;
  friend bool operator==(const RollingUpgrade&, const RollingUpgrade&) = default;
};

struct SimConfig {
  uint64_t seed = 1;
  // Drawn as the run goes (`--timeline`): member states, faults, client operations, a
  // sample of invalidation traffic. Not part of the trace: the run is the same without.
  Timeline* timeline = nullptr;
  uint32_t nodes = 5;
  FaultMode faults = FaultMode::kSwarm;
  Duration chaos = std::chrono::seconds(60);
  // Unset: drawn from the seed (2 s, or 100 ms in one seed of four; n0 and peers, or n0
  // only, in half the seeds each).
  std::optional<Duration> start_spread;
  std::optional<JoinShape> joins;
  Duration min_quiet = std::chrono::seconds(10);
  // Faults begin after this much of the chaos phase, once the cluster has formed.
  Duration warm_up = std::chrono::seconds(10);
  NodeConfig node;
  std::vector<FaultAction> script;  // the faults, with FaultMode::kScripted
  // With FaultMode::kScripted: the network's behaviour (default: clean, with a base
  // latency drawn from the seed).
  std::optional<NetworkProfile> scripted_network;
  Trace::Sink trace_sink;  // receives every trace record when set
  // Told of every member change any node records, as it happens (for scripted tests).
  std::function<void(MonoTime, uint32_t observer, const MemberChange&)> change_observer;
  size_t trace_ring = 60;      // records kept for violation reports
  bool check_liveness = true;  // run and check the quiet phase
  bool stop_at_first_violation = true;
  std::string repro;  // command line that reproduces this run, for reports
  // Client load during the chaos phase, and the key-value checks; see kv_workload.h.
  // With no key space set, the seed draws one: 8 keys (hot: writes conflict often) in half
  // the seeds, 64 or 256 in a quarter each (cold: most keys are written a few times, so a
  // copy that missed an invalidation is still there when the quiet phase's round reads it).
  KvWorkloadConfig workload;
  // Client operations at set times, in place of the random load (the workload's key
  // space and checks stay). An operation whose node is not up, or paused, then is skipped.
  std::vector<ScriptedOp> client_script;
  std::optional<RollingUpgrade> upgrade;
  // Invalidation logs of 16 entries (or fewer, if node.kv says so), so that partitions
  // outlast them and end in resets; unset: drawn from the seed (one run in four).
  std::optional<bool> short_logs;
  // Whether each store write is durable at once (like --sync); unset: drawn from the
  // seed (three runs in four). Otherwise stores are flushed every second, and a crash
  // loses what was written since.
  std::optional<bool> durable_writes;
  // Set: the cluster is not started but adopted, as this builds it (a fork of a recording,
  // sim/replay/fork.h): `nodes` must be its count; the adopted nodes are up at time 0 and
  // the others down for good. The workload's keys get the adoption's prefix.
  AdoptionSource adopt;
  // A tiny bound on each node's values (KvConfig::max_data_bytes, 4-32 KiB), so copies are
  // evicted and large own writes refused; unset: drawn from the seed (one run in three).
  // A bound set in node.kv is kept.
  std::optional<bool> bounded_data;
  // A tombstone horizon of 20-40 virtual seconds (KvConfig::tombstone_horizon), so that
  // tombstones, markers and expired values are collected during the run and nodes are
  // away longer than half of it; failed and left members are reaped after half to one
  // and a half horizons, and wall-clock steps are at most 1/32 of it (the guarantee
  // assumes clocks within a quarter of it). Unset: drawn from the seed for swarm runs (one
  // in two), off for scripted and fault-free ones.
  // A horizon or reap timeouts set in node are kept.
  std::optional<bool> short_horizon;
  // How long a store commit takes (writes staged by a burst of inputs, written in one
  // batch: kernel/commit_gate.h); unset: drawn from the seed, 0.2-5 ms with durable
  // writes (an fsync) and 20-200 us without. kSlowDisk faults lengthen it for a while.
  std::optional<Duration> commit_latency;
  // Base latency of one switch (50-500 us) instead of one drawn from the seed; loss and
  // other faults are unchanged. The key-value latency targets are stated for it.
  bool lan_latency = false;
};

struct Percentiles {
  double p50_ms = 0;
  double p99_ms = 0;
  size_t count = 0;
};

struct KvResult {
  bool enabled = false;
  bool durable_writes = true;
  uint64_t gets = 0, puts = 0, deletes = 0, lists = 0;
  uint64_t ok = 0, not_found = 0, timeouts = 0, errors = 0, not_current = 0;
  uint64_t lists_not_current = 0;  // listings a write raced on every round (or a silence)
  uint64_t lost_with_process = 0;  // operations whose node crashed before answering
  Percentiles get_local, get_remote, get_404, put, staleness;
  uint64_t stale_unresolved = 0;  // writes some node still served older copies of at the end
  bool converged = false;         // the quiet-phase round ran and passed
  CasCounts cas;                  // conditional writes (see cas_checker.h)
  LatencySamples samples;         // every measurement behind the percentiles
};

Percentiles percentiles(std::vector<Duration> samples);

struct SimResult {
  uint64_t seed = 0;
  uint32_t nodes = 0;
  std::string profile;  // the faults, the workload and how the cluster forms, in one line
  uint64_t trace_hash = 0;
  uint64_t trace_records = 0;
  Duration virtual_time{};
  double wall_seconds = 0;
  std::vector<Violation> violations;
  std::string report;  // seed, property, trace around it, how to reproduce
  LivenessBounds bounds;
  uint64_t delivered = 0;
  uint64_t dropped = 0;
  uint64_t member_changes = 0;
  uint64_t false_failures = 0;
  uint64_t false_failures_of_paused = 0;
  std::optional<Duration> converged_after;  // since the quiet phase began
  std::optional<Duration> departed_settled_after;
  KvResult kv;
  std::array<uint64_t, kFaultKinds> faults{};  // how many of each kind were injected
};

class Simulation {
 public:
  explicit Simulation(SimConfig config);
  // The checker refers into the node list: a Simulation stays where it was built.
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  SimResult run();

  // Stepping, for tests and benchmarks: runs every event before `t`, then sets the time
  // to `t`.
  void run_until(MonoTime t);
  MonoTime now() const { return now_; }
  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }
  const SimNode& node(uint32_t i) const { return nodes_[i]; }
  const MembershipChecker& checker() const { return checker_; }
  const KvChecker& kv_checker() const { return kv_checker_; }
  const Trace& trace() const { return trace_; }
  const FaultPlan& plan() const { return plan_; }

 private:
  enum class EventKind : uint8_t {
    kDeliver,
    kTimer,
    kInbox,
    kStart,
    kFault,
    kDeferredFault,
    kRestart,
    kPartitionEnd,
    kLeaveDeadline,
    kQuiet,
    kCheck,
    kClientOp,
    kFlush,
    kRmwStep,
    kDiskRecover,
    kScriptedOp,
    kUpgrade,
    kCommit,      // node's burst is over: commit its staged writes
    kCommitDone,  // node's commit is written
    kDiscovery,   // quiet phase, short reaping: nodes find running nodes they lost (mDNS)
    kRetag,       // chaos phase: node gives itself new tags (index picks them)
    kForceLeave,  // quiet phase: an operator at `node` forces crashed `from` out
  };
  struct Event {
    EventKind kind;
    uint32_t node = 0;
    uint32_t from = 0;
    Channel channel = Channel::kDatagram;
    uint32_t generation = 0;  // kDeliver (streams), kTimer, kInbox: the target process
    uint64_t index = 0;       // kFault: plan action; kDeferredFault: deferred_; kPartitionEnd: id
    std::vector<uint8_t> bytes;
  };

  void dispatch(MonoTime at, Event&& e);
  void deliver(Event&& e);
  void fire_timer(const Event& e);
  void process_inbox(const Event& e);
  void schedule_inbox(uint32_t i);
  void handle_input(uint32_t i, uint32_t from, Channel channel, std::span<const uint8_t> bytes);
  void start_node(uint32_t i, bool restart);
  // Adoption (SimConfig::adopt; simulation_adopt.cpp). `nodes` with the adopted names,
  // addresses and clocks; the adopted processes scheduled to be taken over at time 0 and
  // the other members down for good; node i's process taken over.
  bool adopting() const { return !adopted_.nodes.empty(); }
  static std::vector<SimNode> with_adopted_identities(std::vector<SimNode> nodes,
                                                      const Adoption& adopted);
  void adopt_cluster();
  void adopt_node(uint32_t i);
  // Once every node runs and sees every node alive: the cluster has formed (KvChecker).
  void check_formed();
  // The key the workload's key `key` is in the kernels (with the adoption's prefix), and
  // back; strip_prefix leaves other keys as they are (the checkers flag them).
  std::string kernel_key(uint32_t key) const;
  std::string strip_prefix(std::string_view kernel_key) const;
  void crash(uint32_t i, Duration down_for);
  // Stops node i for the upgrade's downtime; it comes back speaking the later version.
  void upgrade(uint32_t i);
  void begin_leave(uint32_t i);
  void finish_leave(uint32_t i);
  // Sets node i's store failing or working as its disk faults say at this time.
  void update_disk(uint32_t i);
  bool disk_failing(uint32_t i) const;
  void apply(const FaultAction& a);
  void begin_quiet();
  // What mDNS does for a real node (runtime/node_driver.cpp, discovered): every running
  // node joins the running nodes it does not hold alive. Only in runs that reap failed
  // members within the run (short_horizon): two sides of a long partition may each have
  // forgotten the other, and nothing in the protocol alone brings them back together.
  void discover();
  void check();
  // After every input of node i: its outbox through its gate, then what the gate released.
  void drain(uint32_t i);
  // Member changes to the checkers, sends to the network, replies to the clients.
  void perform(uint32_t i, Effects& effects);
  void note_changes(uint32_t i, const std::vector<MemberChange>& changes);
  void schedule_commit(uint32_t i);
  void start_commit(uint32_t i);
  void finish_commit(uint32_t i);
  Duration commit_latency(uint32_t i) const;
  // The writes a crash caught between their commit and their acknowledgement: stored,
  // never acknowledged (KvChecker::on_unacknowledged_write).
  void note_unacknowledged_writes(uint32_t i);
  void transmit(uint32_t from, Send&& send);
  void schedule_timer(uint32_t i);
  // Schedules an event for node i's current process: it is stale (ignored) once the
  // process is gone (its generation moved on).
  void push_for_process(MonoTime at, EventKind kind, uint32_t i, uint64_t index = 0);
  Now now_for(uint32_t i) const;
  // Node i gives itself the tags `choice` picks (kRetag), as an operator would.
  void retag(uint32_t i, uint64_t choice);
  // An operator forces a node crashed for good out, through a running node, retrying
  // every 2 s while that node does not yet hold it dead: half the time soon after the
  // crash (in the chaos), for the other half at the quiet phase's start.
  void schedule_force_leave(uint32_t subject, bool at_quiet);
  void force_leave(uint32_t at, uint32_t subject, uint64_t tries_left);
  uint32_t force_leaves_pending_ = 0;
  std::optional<Prng> force_rng_;     // swarm runs only
  std::vector<bool> force_at_quiet_;  // by node: to be forced out at the quiet phase
  std::optional<uint32_t> index_of(const Address& a) const;
  // The index in "n<index>", for trace records.
  uint32_t subject_index(const std::string& name) const;
  // The node whose id stamped `v` (UINT32_MAX: none of ours).
  uint32_t writer_index(const Version& v) const;
  std::vector<Address> live_seeds(uint32_t exclude, size_t count);
  void record_lifecycle(uint32_t i, Lifecycle step);
  // Ends the timeline's shading of the partition in force (healed, or replaced).
  void end_partition_shades();
  // Draws a delivered packet that carries invalidations on the timeline.
  void note_traffic(uint32_t from, uint32_t to, std::span<const uint8_t> packet);
  bool stopped() const;
  std::string report() const;
  const Violation* first_violation() const;

  // Key-value workload and checks.
  struct PendingOp {
    uint32_t node;
    uint32_t key;
    ClientOp op;
    MonoTime started;
    uint64_t op_id;
    size_t bytes;
    bool convergence;           // part of the quiet-phase round
    bool loop = false;          // a read-modify-write client's
    uint64_t acked_before = 0;  // writes acknowledged when it started (KvChecker::acked)
    // A get's answer is judged as of when the kernel gave it, which may be a commit
    // earlier than when the client gets it (note_answers).
    bool joined = false;
    std::vector<bool> heard;                     // a current cluster read: see must_hear
    std::optional<std::string> stale_local_hit;  // GapChecker's verdict on a local hit
    std::optional<Duration> ttl;                 // a put's
    bool refused_by_bound = false;  // a put refused (507) when own writes filled the bound
    // A get: the latest wall time its node had seen since it started, when it answered.
    uint64_t node_clock_us = 0;
    std::optional<WriteCondition> condition;  // a conditional write's (CasChecker)
    // A listing: keys written (or being written) while it ran; KvChecker::on_list does
    // not judge them.
    std::set<uint32_t> touched;
  };
  // What a node's client last saw of a compare-and-set key: its current value's version
  // (zero: no value), if it saw anything.
  struct CasView {
    bool seen = false;
    Version value;
  };
  // Conditional writes (simulation_kv.cpp): what a client saw of a compare-and-set key;
  // a conditional write refused or left undecided; and a read's version that no write
  // was acknowledged with, matched to a conditional write that may have been made.
  void note_cas_view(uint32_t i, const PendingOp& op, const Reply& r);
  void on_cas_refusal(uint32_t i, const PendingOp& op, const Reply& r);
  void register_maybe_written(uint32_t key, const Reply& r);
  // Records of compare-and-set keys that node i stamped itself and is about to commit,
  // which no write reported yet: conditional writes it decided as owner, whose askers
  // hear of them later (or never). note_decided makes each known to the checker as an
  // unacknowledged write of the conditional operation that carried its value.
  std::vector<std::pair<uint32_t, Record>> decided_writes(uint32_t i) const;
  void note_decided(uint32_t i, uint32_t key, const Record& r);
  // A listing's answer: judged by KvChecker::on_list when current.
  void on_list_reply(uint32_t i, const PendingOp& op, const Reply& r);
  // At the end of a run: CasChecker's verdict (a violation in fault-free runs).
  void finish_cas();

  // One read-modify-write client per node (see kv_workload.h).
  struct LoopClient {
    uint32_t loops = 0;
    bool busy = false;                  // an operation of it is pending
    MonoTime next_step = kNever;        // its one scheduled kRmwStep
    std::optional<uint32_t> write_key;  // the write that follows the read it got back
  };
  static constexpr uint32_t kStartLoops = UINT32_MAX;  // a kRmwStep that starts every client
  struct StaleWatch {
    uint32_t key;
    Version version;
    MonoTime acked;
    std::vector<uint32_t> nodes;  // still serving an older copy
  };
  void client_op();
  void scripted_op(const ScriptedOp& op, uint64_t index);
  // Issues `op` on node `i` (which must be up) and records it as pending.
  void issue(uint32_t i, const KvOp& op, bool loop);
  // Hands pending request `request` to node i's process: now, or after the commit it is
  // waiting for (in its inbox, behind the messages that came first).
  void submit(uint32_t i, uint64_t request);
  void call_kernel(uint32_t i, uint64_t request);
  // Read-modify-write profile: n0 writes every key once it sees everyone; the clients start.
  void maybe_start_loops();
  void start_loops();
  void schedule_step(uint32_t i, Duration after);
  void loop_step(uint32_t i, MonoTime at);
  void on_loop_reply(uint32_t i, const PendingOp& op);
  // Which nodes a current cluster read on `i` had to hear from (see KvChecker::on_get).
  std::vector<bool> must_hear(uint32_t i) const;
  // Notes, for each get node i's kernel has just answered, what the checkers judge it by.
  void note_answers(uint32_t i);
  void on_reply(uint32_t i, Reply&& r);
  void start_convergence_round();
  void finish_convergence_round();
  bool serves_older(uint32_t i, uint32_t key, const Version& v) const;
  // After a member went or came back in node i's view: notes, for the gap checker, the
  // keys whose copy on i some member i counts as active holds newer.
  void note_gap(uint32_t i);
  void watch_staleness(uint32_t i, uint32_t key, const Version& v);
  void update_stale_watches(uint32_t i);
  Duration max_clock_gap() const;
  // Tells the KvChecker how far the nodes' expiry clocks may be (see set_expiry_clocks):
  // at least `lowest_us`, at most the latest wall time any process had plus a lease.
  void note_expiry_clocks(uint64_t lowest_us);
  // Bytes of the values node i's store holds of its own writes (staged ones included),
  // but that of `except`; O(keys), for the rare refused write.
  uint64_t own_value_bytes(uint32_t i, std::string_view except);
  // After a commit of node i: its values are within the bound, and no own write of it was
  // evicted (turned into a marker).
  void check_data_bound(uint32_t i);
  // Whether `v` is older than the tombstone horizon by node i's expiry clock.
  bool older_than_horizon(uint32_t i, const Version& v) const;
  // The earliest wall clock of a running process now.
  uint64_t lowest_running_clock_us() const;
  Duration clock_gap_at(MonoTime t) const;  // between the nodes' wall clocks, with steps
  KvResult kv_result() const;

  static constexpr int64_t kWallEpochMs = 1767225600000;  // 2026-01-01: wall clocks start here
  SimConfig config_;
  Adoption adopted_;  // empty unless config_.adopt; its kernels move into nodes_ at the start
  Prng fault_rng_;
  Prng node_seeds_;
  Prng choice_rng_;
  FaultPlan plan_;
  LivenessBounds bounds_;
  std::vector<SimNode> nodes_;
  Network network_;
  Trace trace_;
  // A step's key-value datagrams to one peer travel as one, as the runtime sends them,
  // so kernels receive packed datagrams here too.
  wire::DatagramBatcher batcher_;
  MembershipChecker checker_;
  EventQueue<Event> queue_;
  MonoTime now_{};
  MonoTime quiet_start_ = kNever;
  MonoTime chaos_drained_ = kNever;  // when the last message the chaos phase delayed lands
  bool done_ = false;
  uint64_t partition_id_ = 0;
  std::array<uint64_t, kFaultKinds> faults_injected_{};
  Duration widest_gap_{};              // the widest clock gap at the start and around any step
  std::vector<FaultAction> deferred_;  // faults postponed until a paused node resumes
  uint64_t delivered_ = 0;
  uint64_t dropped_ = 0;
  uint64_t member_changes_ = 0;

  bool durable_writes_ = true;
  Duration commit_latency_{};
  Effects effects_;  // what drain() performs (kept for its capacity)
  Duration start_spread_{};
  JoinShape joins_ = JoinShape::kFounderAndPeers;
  KvProfile kv_profile_ = KvProfile::kRandom;
  MonoTime last_flush_{};      // when lossy stores last made their writes durable
  MonoTime last_write_ack_{};  // when a client last heard a write acknowledged
  MonoTime formed_ = kNever;   // when every node first saw every node alive
  bool loops_started_ = false;
  bool loops_scheduled_ = false;
  std::vector<LoopClient> loop_clients_;
  KvWorkload workload_;
  KvChecker kv_checker_;
  GapChecker gap_checker_;
  CasChecker cas_checker_;
  WatchChecker watch_checker_{static_cast<uint32_t>(config_.nodes)};
  std::map<std::pair<uint32_t, uint32_t>, CasView> cas_views_;  // by (node, key)
  // Conditional writes answered "unavailable" (they may have been made), by key: a read
  // that finds a version no write was acknowledged with may be one of them.
  std::map<uint32_t, std::vector<PendingOp>> cas_maybe_;
  std::map<uint64_t, PendingOp> pending_ops_;  // by request id
  uint64_t max_wall_ever_us_ = 0;              // the latest wall time any process has been given
  uint64_t round_lowest_clock_us_ = 0;         // lowest_running_clock_us() as the round started
  uint64_t next_request_ = 1;
  std::vector<StaleWatch> stale_watches_;
  enum class Round : uint8_t { kNotStarted, kRunning, kDone } round_ = Round::kNotStarted;
  std::map<uint32_t, std::vector<std::pair<uint32_t, Reply>>> round_answers_;  // by key
  size_t round_outstanding_ = 0;
  KvResult kv_counts_;
};

// The rolling upgrade `cluster-kv-sim --rolling-upgrade` runs: from the end of the warm-up,
// spread over the chaos phase so every node is upgraded in it, each down for 2 s.
RollingUpgrade standard_upgrade(const SimConfig& config);

// Runs one seed to completion.
SimResult simulate(const SimConfig& config);

// The cluster-kv-sim command line that reproduces a swarm or fault-free run.
std::string repro_command(const SimConfig& config);

}  // namespace ckv::sim
