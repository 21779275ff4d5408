#include "sim/simulation.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "kernel/core/assert.h"
#include "kernel/core/enum_names.h"
#include "sim/wire_revision.h"

namespace ckv::sim {

namespace {

constexpr uint32_t kBaseIp = (10u << 24) | 1u;  // n0 is 10.0.0.1
constexpr uint16_t kGossipPort = 7946;
constexpr Duration kLeaveTimeout = std::chrono::seconds(10);

// An independent stream of the run's randomness, by purpose.
uint64_t derive(uint64_t seed, uint64_t stream) {
  uint64_t s = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  return splitmix64(s);
}

FaultPlan make_plan(const SimConfig& c, Prng& rng) {
  switch (c.faults) {
    case FaultMode::kNone:
      return quiet_plan(rng);
    case FaultMode::kScripted: {
      FaultPlan plan = quiet_plan(rng);
      if (c.scripted_network) plan.network = *c.scripted_network;
      plan.actions = c.script;
      std::stable_sort(plan.actions.begin(), plan.actions.end(),
                       [](const FaultAction& a, const FaultAction& b) { return a.at < b.at; });
      plan.profile_summary += " | scripted faults: " + std::to_string(plan.actions.size());
      return plan;
    }
    case FaultMode::kSwarm:
      break;
  }
  const Duration active = std::max(Duration(0), c.chaos - c.warm_up);
  FaultPlan plan = swarm_plan(rng, c.nodes, active);
  const Duration max_step =
      c.short_horizon.value_or(false) ? c.node.kv.tombstone_horizon / 32 : Duration::max();
  for (FaultAction& a : plan.actions) {
    a.at += c.warm_up;
    if (a.kind == FaultKind::kClockStep)
      a.clock_step = std::clamp(a.clock_step, -max_step, max_step);
  }
  return plan;
}

FaultPlan with_lan(FaultPlan plan, bool lan) {
  if (!lan) return plan;
  plan.network.latency_min = Duration(50);
  plan.network.latency_max = Duration(500);
  plan.profile_summary = "LAN latency 0.05-0.50ms; " + plan.profile_summary;
  return plan;
}

std::vector<SimNode> make_nodes(uint32_t n, Prng& rng) {
  std::vector<SimNode> nodes(n);
  for (uint32_t i = 0; i < n; ++i) {
    nodes[i].name = "n" + std::to_string(i);
    nodes[i].addr = Address{kBaseIp + i, kGossipPort};
    nodes[i].clock_skew_ms = rng.between(-500, 500);
    nodes[i].clock_drift_ppm = rng.between(-200, 200);
  }
  return nodes;
}

constexpr size_t kShortLog = 16;

// Checks the settings, and fixes what the seed draws among them (after the command line
// that reproduces the run is known: it names only what was chosen).
SimConfig prepared(SimConfig c) {
  if (c.nodes < 1 || c.nodes > 60000) throw std::invalid_argument("nodes must be 1..60000");
  if (Status s = Node::validate(c.node); !s.ok()) throw std::invalid_argument(s.error().detail);
  if (c.repro.empty()) c.repro = repro_command(c);
  if (c.workload.keys == 0) {
    const uint64_t draw = derive(c.seed, 10) % 4;
    c.workload.keys = draw < 2 ? 8 : draw == 2 ? 64 : 256;
  }
  if (!c.workload.cas_keys) c.workload.cas_keys = 2;
  if (c.node.kv.max_data_bytes == 0 && c.bounded_data.value_or(derive(c.seed, 12) % 3 == 0)) {
    c.bounded_data = true;
    c.node.kv.max_data_bytes = 4096 + derive(c.seed, 13) % (28 * 1024);
  }
  if (c.node.kv.tombstone_horizon == KvConfig{}.tombstone_horizon &&
      c.short_horizon.value_or(c.faults == FaultMode::kSwarm && derive(c.seed, 14) % 2 == 0)) {
    c.short_horizon = true;
    const auto horizon =
        std::chrono::milliseconds(20000 + static_cast<int64_t>(derive(c.seed, 15) % 20000));
    c.node.kv.tombstone_horizon = horizon;
    c.node.kv.max_query_timeout =
        std::min<Duration>(c.node.kv.max_query_timeout, horizon / 2 - std::chrono::milliseconds(1));
    const Duration reap =
        horizon / 2 + std::chrono::milliseconds(static_cast<int64_t>(derive(c.seed, 16) % 16000));
    // (Reap timeouts a test chose are its own.)
    const MembershipConfig defaults;
    if (c.node.membership.reconnect_timeout == defaults.reconnect_timeout)
      c.node.membership.reconnect_timeout = reap;
    if (c.node.membership.tombstone_timeout == defaults.tombstone_timeout)
      c.node.membership.tombstone_timeout = reap;
  }
  if (c.short_logs.value_or(derive(c.seed, 11) % 4 == 0)) {
    c.short_logs = true;
    c.node.kv.log_entries = std::min(c.node.kv.log_entries, kShortLog);
  }
  return c;
}

}  // namespace

constexpr auto kFaultModeNames = name_table({"none", "swarm", "scripted"});
static_assert(kFaultModeNames.size() == kFaultModeCount, "one name per value");

const char* to_string(FaultMode mode) {
  return name_of(kFaultModeNames, mode);
}

constexpr auto kJoinShapeNames = name_table({"n0 and two peers", "n0 only"});
static_assert(kJoinShapeNames.size() == kJoinShapeCount, "one name per value");

const char* to_string(JoinShape shape) {
  return name_of(kJoinShapeNames, shape);
}

std::string repro_command(const SimConfig& c) {
  if (c.faults == FaultMode::kScripted) return "(a scripted scenario: rerun its test)";
  // Only what the CLI can express may differ from the defaults.
  const SimConfig d;
  MembershipConfig m = c.node.membership;
  m.lifeguard = d.node.membership.lifeguard;
  m.probe_interval = d.node.membership.probe_interval;
  m.probe_timeout = d.node.membership.probe_timeout;
  const bool whole_seconds = c.chaos % std::chrono::seconds(1) == Duration(0);
  const bool millis =
      c.node.membership.probe_interval % std::chrono::milliseconds(1) == Duration(0) &&
      c.node.membership.probe_timeout % std::chrono::milliseconds(1) == Duration(0);
  KvWorkloadConfig w = c.workload;
  w.enabled = d.workload.enabled;
  w.ops_per_second = d.workload.ops_per_second;
  w.keys = d.workload.keys;
  w.profile = d.workload.profile;
  if (!(m == d.node.membership) || !(c.node.kv == d.node.kv) || !whole_seconds || !millis ||
      (c.start_spread && *c.start_spread % std::chrono::milliseconds(1) != Duration(0)) ||
      c.min_quiet != d.min_quiet || c.warm_up != d.warm_up ||
      c.check_liveness != d.check_liveness || c.durable_writes != d.durable_writes ||
      c.short_logs != d.short_logs || !(w == d.workload) || !c.client_script.empty() ||
      (c.upgrade && !(*c.upgrade == standard_upgrade(c)))) {
    return "(settings beyond the CLI's flags: rerun the program or test that made this run)";
  }
  std::string cmd =
      "cluster-kv-sim --nodes " + std::to_string(c.nodes) + " --seed " + std::to_string(c.seed) +
      " --faults " + (c.faults == FaultMode::kSwarm ? "swarm" : "none") + " --virtual-seconds " +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.chaos).count());
  if (!c.node.membership.lifeguard) cmd += " --no-lifeguard";
  if (!c.workload.enabled) {
    cmd += " --workload none";
  } else if (c.workload.profile) {
    cmd += *c.workload.profile == KvProfile::kRandom ? " --workload random" : " --workload rmw";
  }
  if (c.workload.enabled && c.workload.ops_per_second != d.workload.ops_per_second) {
    cmd += " --ops-per-second " + std::to_string(static_cast<uint64_t>(c.workload.ops_per_second));
  }
  if (c.workload.enabled && c.workload.keys != d.workload.keys) {
    cmd += " --keys " + std::to_string(c.workload.keys);
  }
  if (c.workload.cas_keys && *c.workload.cas_keys != 2)
    cmd += " --cas-keys " + std::to_string(*c.workload.cas_keys);
  if (c.lan_latency) cmd += " --lan";
  if (c.short_horizon) cmd += *c.short_horizon ? " --horizon short" : " --horizon long";
  if (c.upgrade) cmd += " --rolling-upgrade";
  auto ms = [](Duration t) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count());
  };
  if (c.joins) cmd += *c.joins == JoinShape::kFounderOnly ? " --joins n0" : " --joins peers";
  if (c.start_spread) cmd += " --start-spread-ms " + ms(*c.start_spread);
  if (c.node.membership.probe_interval != d.node.membership.probe_interval) {
    cmd += " --probe-interval-ms " + ms(c.node.membership.probe_interval);
  }
  if (c.node.membership.probe_timeout != d.node.membership.probe_timeout) {
    cmd += " --probe-timeout-ms " + ms(c.node.membership.probe_timeout);
  }
  return cmd + " --trace";
}

[[noreturn]] static void throw_assertion(const AssertionFailure& failure) {
  throw failure;
}

Simulation::Simulation(SimConfig config)
    : config_(prepared(std::move(config))),
      adopted_(config_.adopt ? config_.adopt() : Adoption{}),
      fault_rng_(derive(config_.seed, 1)),
      node_seeds_(derive(config_.seed, 2)),
      choice_rng_(derive(config_.seed, 3)),
      plan_(with_lan(make_plan(config_, fault_rng_), config_.lan_latency)),
      bounds_(liveness_bounds(config_.node.membership, config_.nodes)),
      nodes_(with_adopted_identities(make_nodes(config_.nodes, choice_rng_), adopted_)),
      network_(config_.nodes, plan_.network, derive(config_.seed, 4)),
      trace_(config_.trace_ring, config_.trace_sink),
      batcher_(config_.node.membership.datagram_budget,
               config_.node.membership.max_datagram_frames),
      checker_(nodes_, plan_.perfect_network()),
      workload_(config_.workload, derive(config_.seed, 5)),
      kv_checker_(config_.nodes, config_.workload.keys),
      gap_checker_(config_.nodes) {
  // Once per process (runs on several threads share it): kernel assertions throw, and
  // run() reports them.
  static const bool assertions_throw = (set_assert_handler(&throw_assertion), true);
  (void)assertions_throw;
  durable_writes_ = config_.durable_writes.value_or(derive(config_.seed, 6) % 4 != 0);
  {
    Prng commit_rng(derive(config_.seed, 10));
    commit_latency_ = config_.commit_latency.value_or(
        durable_writes_ ? commit_rng.between(Duration(200), Duration(std::chrono::milliseconds(5)))
                        : commit_rng.between(Duration(20), Duration(200)));
  }
  start_spread_ = config_.start_spread.value_or(derive(config_.seed, 7) % 4 == 0
                                                    ? Duration(std::chrono::milliseconds(100))
                                                    : Duration(std::chrono::seconds(2)));
  joins_ = config_.joins.value_or(derive(config_.seed, 8) % 2 == 0 ? JoinShape::kFounderAndPeers
                                                                   : JoinShape::kFounderOnly);
  kv_profile_ = config_.workload.profile.value_or(
      derive(config_.seed, 9) % 3 == 0 ? KvProfile::kReadModifyWrite : KvProfile::kRandom);
  if (!config_.client_script.empty()) kv_profile_ = KvProfile::kRandom;  // no loop clients
  loop_clients_.resize(config_.nodes);
  widest_gap_ = clock_gap_at(MonoTime{});  // before any step
  if (adopting()) {
    plan_.profile_summary += "; adopted at time 0";
  } else {
    plan_.profile_summary +=
        "; cluster starts within " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(start_spread_).count()) +
        " ms, joining " + to_string(joins_);
  }
  if (config_.workload.enabled) {
    plan_.profile_summary += "; " + std::string(to_string(kv_profile_)) + " workload on " +
                             std::to_string(config_.workload.keys) + " keys";
  }
  plan_.profile_summary += "; commits take " + std::to_string(commit_latency_.count()) + " us";
  if (config_.node.kv.max_data_bytes != 0) {
    plan_.profile_summary +=
        "; values bounded to " + std::to_string(config_.node.kv.max_data_bytes) + " bytes";
  }
  if (config_.short_horizon.value_or(false)) {
    plan_.profile_summary +=
        "; tombstone horizon " + std::to_string(config_.node.kv.tombstone_horizon.count() / 1000) +
        " ms, reap after " +
        std::to_string(config_.node.membership.reconnect_timeout.count() / 1000) + " ms";
  }
  if (config_.short_logs.value_or(false)) {
    plan_.profile_summary +=
        "; invalidation logs of " + std::to_string(config_.node.kv.log_entries) + " entries";
  }
  kv_checker_.set_horizon(config_.node.kv.tombstone_horizon);
  if (config_.faults == FaultMode::kNone) {
    // Fault-free: each round of a cluster read is one round trip (a write racing the read
    // adds a round); allow two per round, and the invalidation batching delay, and six
    // commits: the question and the answer each leave with a commit of their sender,
    // which may first wait for one in progress, and the reader stores the answer.
    kv_checker_.set_prompt_bound(4 * plan_.network.latency_max + config_.node.kv.batch_delay +
                                 6 * commit_latency_ + Duration(100));
  }
  if (config_.workload.enabled) {
    if (config_.client_script.empty())
      queue_.push(MonoTime{} + config_.warm_up, Event{EventKind::kClientOp});
    for (size_t k = 0; k < config_.client_script.size(); ++k) {
      Event e{EventKind::kScriptedOp};
      e.index = k;
      queue_.push(config_.client_script[k].at, std::move(e));
    }
    if (!durable_writes_)
      queue_.push(MonoTime{} + std::chrono::seconds(1), Event{EventKind::kFlush});
  }
  if (config_.upgrade) {
    const RollingUpgrade& u = *config_.upgrade;
    plan_.profile_summary += "; rolling upgrade to wire version " + std::to_string(u.version) +
                             " from " + std::to_string((u.start - MonoTime{}).count() / 1000000) +
                             " s";
    for (uint32_t i = 0; i < config_.nodes; ++i)
      queue_.push(u.start + i * u.every, Event{EventKind::kUpgrade, i});
  }
  trace_.add(TraceRecord{now_, TraceKind::kPhase, 0});
  if (adopting()) {
    adopt_cluster();
  } else {
    queue_.push(MonoTime{}, Event{EventKind::kStart, 0});
    for (uint32_t i = 1; i < config_.nodes; ++i) {
      queue_.push(MonoTime{} + choice_rng_.between(Duration(0), start_spread_),
                  Event{EventKind::kStart, i});
    }
  }
  for (size_t k = 0; k < plan_.actions.size(); ++k) {
    Event e{EventKind::kFault};
    e.index = k;
    queue_.push(plan_.actions[k].at, std::move(e));
  }
  if (config_.faults != FaultMode::kScripted) {
    // Tag changes through the chaos phase, from a stream of their own (every other draw
    // of a seed stays as it was): members must all end up with each node's latest tags.
    // (Not in scripted runs, whose tests count incarnations and verdicts exactly.)
    Prng tag_rng(derive(config_.seed, 17));
    const MonoTime end = MonoTime{} + config_.chaos;
    for (MonoTime t = MonoTime{} + tag_rng.between(Duration(std::chrono::seconds(3)),
                                                   Duration(std::chrono::seconds(30)));
         t < end; t += tag_rng.between(Duration(std::chrono::seconds(3)),
                                       Duration(std::chrono::seconds(30)))) {
      Event e{EventKind::kRetag, static_cast<uint32_t>(tag_rng.below(config_.nodes))};
      e.index = tag_rng.next();
      queue_.push(t, std::move(e));
    }
  }
  queue_.push(MonoTime{} + config_.chaos, Event{EventKind::kQuiet});
}

void Simulation::schedule_force_leave(uint32_t subject, bool at_quiet) {
  if (config_.faults != FaultMode::kSwarm) return;
  if (!force_rng_) force_rng_.emplace(derive(config_.seed, 18));
  Prng& rng = *force_rng_;
  // Each crash for good is forced out once: half soon after it, half at the quiet phase.
  if (force_at_quiet_.size() < nodes_.size()) force_at_quiet_.resize(nodes_.size(), false);
  if (at_quiet) {
    if (!force_at_quiet_[subject]) return;
    force_at_quiet_[subject] = false;
  } else if (rng.below(2) == 0) {
    force_at_quiet_[subject] = true;
    return;
  }
  std::vector<uint32_t> up;
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].status == NodeStatus::kUp) up.push_back(i);
  if (up.empty()) return;
  Event e{EventKind::kForceLeave, up[rng.below(up.size())], subject};
  e.index = 40;  // tries, 2 s apart
  queue_.push(now_ + rng.between(Duration(std::chrono::milliseconds(100)),
                                 Duration(std::chrono::seconds(5))),
              std::move(e));
  force_leaves_pending_++;
}

void Simulation::force_leave(uint32_t at, uint32_t subject, uint64_t tries_left) {
  SimNode& n = nodes_[at];
  if (n.status != NodeStatus::kUp || nodes_[subject].status != NodeStatus::kDown) {
    force_leaves_pending_--;  // the operator's node went away (or the subject came back)
    return;
  }
  if (n.paused_until > now_ || n.committing) {  // a stalled process takes no command yet
    Event e{EventKind::kForceLeave, at, subject};
    e.index = tries_left;
    queue_.push(std::max(n.paused_until, now_ + std::chrono::milliseconds(100)), std::move(e));
    return;
  }
  const Member* m = n.kernel->members().find(nodes_[subject].name);
  const std::optional<MemberState> before = m ? std::optional(m->state) : std::nullopt;
  const Status s = n.kernel->force_leave(now_for(at), nodes_[subject].name);
  m = n.kernel->members().find(nodes_[subject].name);
  checker_.on_force_leave(now_, at, subject, before, s, m ? std::optional(m->state) : std::nullopt);
  drain(at);
  if (s.ok()) {
    trace_.note(now_, n.name + " forced " + nodes_[subject].name + " out");
    force_leaves_pending_--;
  } else if (tries_left > 1) {
    Event e{EventKind::kForceLeave, at, subject};
    e.index = tries_left - 1;
    queue_.push(now_ + std::chrono::seconds(2), std::move(e));
  } else {
    force_leaves_pending_--;
  }
}

void Simulation::retag(uint32_t i, uint64_t choice) {
  SimNode& n = nodes_[i];
  // A process that is down, paused or waiting for its disk takes no command.
  if (n.status != NodeStatus::kUp || n.paused_until > now_ || n.committing) return;
  wire::Tags tags;
  if (choice % 5 != 0) {
    if ((choice >> 3) % 2 == 0) tags.push_back({"az", "z" + std::to_string((choice >> 4) % 3)});
    tags.push_back({"role", "r" + std::to_string((choice >> 8) % 4)});
  }
  Status s = n.kernel->set_tags(now_for(i), tags);
  CKV_ASSERT(s.ok(), "the simulator's tags are within bounds");
  trace_.note(now_, n.name + " retagged: " + std::to_string(tags.size()) + " tags");
  drain(i);
}

bool Simulation::stopped() const {
  return done_ || (config_.stop_at_first_violation && first_violation() != nullptr);
}

void Simulation::run_until(MonoTime t) {
  while (!queue_.empty() && !stopped() && queue_.next_time() < t) {
    MonoTime at;
    Event e = queue_.pop(at);
    now_ = at;
    dispatch(at, std::move(e));
  }
  // Time passes even when nothing happens (or the run has stopped at a violation).
  if (t != kNever && now_ < t) now_ = t;
}

SimResult Simulation::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  try {
    run_until(kNever);
  } catch (const AssertionFailure& f) {
    // The kernel broke an invariant of its own (kernel/core/assert.h): a violation like
    // any other, reported with the seed and the trace that led to it. The run stops: the
    // kernel that failed is no longer in a state worth simulating.
    kv_checker_.report(now_, "kernel invariant",
                       std::string(f.why) + ": CKV_ASSERT(" + f.condition + ") failed at " +
                           f.file + ":" + std::to_string(f.line));
    done_ = true;
  }
  finish_cas();
  const auto wall_end = std::chrono::steady_clock::now();
  trace_.add(TraceRecord{now_, TraceKind::kPhase, 2});

  SimResult r;
  r.seed = config_.seed;
  r.nodes = config_.nodes;
  r.profile = plan_.profile_summary;
  r.trace_hash = trace_.hash();
  r.trace_records = trace_.records();
  r.virtual_time = now_.time_since_epoch();
  r.wall_seconds = std::chrono::duration<double>(wall_end - wall_start).count();
  r.violations = checker_.violations();
  r.violations.insert(r.violations.end(), kv_checker_.violations().begin(),
                      kv_checker_.violations().end());
  if (!r.violations.empty()) r.report = report();
  r.bounds = bounds_;
  r.delivered = delivered_;
  r.dropped = dropped_;
  r.member_changes = member_changes_;
  r.false_failures = checker_.false_failures();
  r.false_failures_of_paused = checker_.false_failures_of_paused();
  if (quiet_start_ != kNever) {
    if (auto t = checker_.live_converged_since()) r.converged_after = *t - quiet_start_;
    if (auto t = checker_.departed_converged_since()) r.departed_settled_after = *t - quiet_start_;
  }
  r.kv = kv_result();
  r.kv.cas = cas_checker_.counts();
  r.faults = faults_injected_;
  return r;
}

void Simulation::finish_cas() {
  cas_checker_.finish(kv_checker_.all_writes());
  const CasCounts& c = cas_checker_.counts();
  // Without faults membership is stable once formed: conditional writes never lie then.
  if (config_.faults == FaultMode::kNone && c.double_successes + c.stale_preconditions > 0) {
    kv_checker_.report(now_, "conditional writes never lie", c.first_violation);
  }
}

SimResult simulate(const SimConfig& config) {
  return Simulation(config).run();
}

// ---------------------------------------------------------------------------------------

void Simulation::dispatch(MonoTime at, Event&& e) {
  switch (e.kind) {
    case EventKind::kDeliver:
      deliver(std::move(e));
      break;
    case EventKind::kTimer:
      fire_timer(e);
      break;
    case EventKind::kInbox:
      process_inbox(e);
      break;
    case EventKind::kStart:
      start_node(e.node, /*restart=*/false);
      break;
    case EventKind::kFault:
      apply(plan_.actions[e.index]);
      break;
    case EventKind::kDeferredFault:
      apply(deferred_[e.index]);
      break;
    case EventKind::kRestart:
      if (nodes_[e.node].status == NodeStatus::kDown && nodes_[e.node].restart_at == at) {
        start_node(e.node, /*restart=*/true);
      }
      break;
    case EventKind::kPartitionEnd:
      if (e.index == partition_id_ && network_.partitioned()) {
        network_.heal_partition();
        trace_.note(now_, "partition healed");
        end_partition_shades();
      }
      break;
    case EventKind::kLeaveDeadline:
      if (nodes_[e.node].status == NodeStatus::kLeaving &&
          nodes_[e.node].generation == e.generation) {
        finish_leave(e.node);
      }
      break;
    case EventKind::kQuiet:
      begin_quiet();
      break;
    case EventKind::kDiscovery:
      discover();
      break;
    case EventKind::kRetag:
      retag(e.node, e.index);
      break;
    case EventKind::kForceLeave:
      force_leave(e.node, e.from, e.index);
      break;
    case EventKind::kCheck:
      check();
      break;
    case EventKind::kClientOp:
      client_op();
      break;
    case EventKind::kUpgrade:
      upgrade(e.node);
      break;
    case EventKind::kScriptedOp:
      scripted_op(config_.client_script[e.index], e.index);
      break;
    case EventKind::kRmwStep:
      loop_step(e.node, at);
      break;
    case EventKind::kDiskRecover:
      update_disk(e.node);
      break;
    case EventKind::kCommit:
      if (nodes_[e.node].generation == e.generation) start_commit(e.node);
      break;
    case EventKind::kCommitDone:
      if (nodes_[e.node].generation == e.generation && nodes_[e.node].commits == e.index)
        finish_commit(e.node);
      break;
    case EventKind::kFlush:
      for (SimNode& n : nodes_) {
        if (n.store) n.store->flush();
      }
      last_flush_ = now_;
      queue_.push(now_ + std::chrono::seconds(1), Event{EventKind::kFlush});
      break;
  }
}

void Simulation::start_node(uint32_t i, bool restart) {
  if (!restart && adopting()) {
    adopt_node(i);
    return;
  }
  SimNode& n = nodes_[i];
  const NodeConfig& config = adopting() ? adopted_.nodes[i].config : config_.node;
  if (!n.store) n.store = std::make_unique<MemStore>(durable_writes_);
  n.gate = std::make_unique<CommitGate>(*n.store, config.membership.datagram_budget,
                                        config.membership.max_datagram_frames);
  auto kernel =
      Node::create(config, n.name, n.addr, node_seeds_.next(), now_for(i), n.gate->store());
  if (!kernel.ok()) throw std::logic_error("node creation failed: " + kernel.error().detail);
  n.kernel = std::move(kernel.value());
  if (config_.workload.enabled && config_.workload.watch) {
    n.kernel->watch(adopted_.key_prefix + WatchChecker::prefix_of(i));
    watch_checker_.on_start(i, now_);
  }
  n.status = NodeStatus::kUp;
  n.up_since = now_;
  n.max_wall_us = 0;
  n.absence_drops_seen = 0;
  n.timer_at = kNever;
  n.restart_at = kNever;

  std::vector<Address> seeds;
  if (restart) {
    seeds = live_seeds(i, 3);  // like a discovery service finding whoever is up
  } else if (i != 0) {
    seeds.push_back(nodes_[0].addr);
    for (int k = 0; k < 2 && config_.nodes > 2 && joins_ == JoinShape::kFounderAndPeers; ++k) {
      uint32_t peer = static_cast<uint32_t>(choice_rng_.below(config_.nodes));
      if (peer != i) seeds.push_back(nodes_[peer].addr);
    }
  }
  n.kernel->join(now_for(i), seeds);
  record_lifecycle(i, restart ? Lifecycle::kRestart : Lifecycle::kStart);
  drain(i);
  if (restart && loops_started_) schedule_step(i, Duration(0));
}

std::vector<Address> Simulation::live_seeds(uint32_t exclude, size_t count) {
  std::vector<uint32_t> up;
  for (uint32_t j = 0; j < nodes_.size(); ++j) {
    if (j != exclude && nodes_[j].status == NodeStatus::kUp) up.push_back(j);
  }
  choice_rng_.shuffle(up);
  std::vector<Address> seeds;
  for (size_t k = 0; k < up.size() && k < count; ++k)
    seeds.push_back(nodes_[up[k]].addr);
  return seeds;
}

void Simulation::crash(uint32_t i, Duration down_for) {
  SimNode& n = nodes_[i];
  if (n.committing) note_unacknowledged_writes(i);
  watch_checker_.on_stop(i);  // its watcher dies with it
  n.kernel.reset();
  n.gate.reset();  // staged writes and held output die with the process
  n.passthrough.reset();
  n.commit_scheduled = n.committing = false;
  n.commit_started = n.commit_done_at = kNever;
  n.committed.clear();
  gap_checker_.on_crash(i);
  if (n.store->volatile_writes() > 0) {
    kv_checker_.on_lossy_crash(now_, i, last_flush_);
    n.lossy_crash_at = now_;
  } else if (disk_failing(i) || n.disk_failed_last >= n.up_since) {
    // Its disk refused writes while it ran: what it answered then (markers it could keep
    // only in memory) is forgotten, as a lossy store forgets. Its acknowledged writes
    // are all stored (the gate acknowledges nothing before its commit): none is lost.
    kv_checker_.on_lossy_crash(now_, i, kNever);
  }
  loop_clients_[i].busy = false;  // its pending operation dies with the process
  n.store->crash();
  for (auto it = pending_ops_.begin(); it != pending_ops_.end();) {
    if (it->second.node == i && !it->second.convergence) {
      kv_counts_.lost_with_process++;
      // A conditional write its owner may have made all the same.
      if (it->second.condition) cas_maybe_[it->second.key].push_back(it->second);
      it = pending_ops_.erase(it);
    } else {
      ++it;
    }
  }
  for (StaleWatch& w : stale_watches_)
    std::erase(w.nodes, i);  // a crashed node serves nothing
  n.status = NodeStatus::kDown;
  n.generation++;
  n.timer_at = kNever;
  n.paused_until = MonoTime{};
  n.slow_until = MonoTime{};
  n.inbox.clear();  // what the process had received but not handled dies with it
  n.inbox_at = kNever;
  n.ever_crashed = true;
  record_lifecycle(i, Lifecycle::kCrash);
  if (down_for > Duration(0)) {
    n.restart_at = now_ + down_for;
    queue_.push(n.restart_at, Event{EventKind::kRestart, i});
  } else {
    schedule_force_leave(i, /*at_quiet=*/false);  // gone for good: an operator steps in
  }
}

RollingUpgrade standard_upgrade(const SimConfig& config) {
  const Duration span = config.chaos > config.warm_up ? config.chaos - config.warm_up : Duration(0);
  const Duration every = std::max<Duration>(std::chrono::seconds(1), span / (config.nodes + 1));
  return RollingUpgrade{MonoTime{} + config.warm_up, every, std::chrono::seconds(2)};
}

void Simulation::upgrade(uint32_t i) {
  SimNode& n = nodes_[i];
  const bool gone =
      n.status == NodeStatus::kLeft || (n.status == NodeStatus::kDown && n.restart_at == kNever);
  if (gone || quiet_start_ != kNever) return;  // nothing to upgrade; or the faults are over
  if (n.status != NodeStatus::kUp || n.paused_until > now_ || n.committing) {
    // Down, leaving, paused or writing: the operator upgrades it a little later.
    queue_.push(now_ + std::chrono::seconds(1), Event{EventKind::kUpgrade, i});
    return;
  }
  n.wire_version = config_.upgrade->version;
  trace_.note(now_, "n" + std::to_string(i) + " stops to be upgraded to wire version " +
                        std::to_string(*n.wire_version));
  crash(i, config_.upgrade->down);
}

void Simulation::begin_leave(uint32_t i) {
  SimNode& n = nodes_[i];
  n.kernel->leave(now_for(i));
  n.status = NodeStatus::kLeaving;
  record_lifecycle(i, Lifecycle::kLeaveStart);
  push_for_process(now_ + kLeaveTimeout, EventKind::kLeaveDeadline, i);
  drain(i);
}

bool Simulation::disk_failing(uint32_t i) const {
  const SimNode& n = nodes_[i];
  return n.store && (n.store->failing_writes() || n.store->failing_meta_writes());
}

void Simulation::update_disk(uint32_t i) {
  SimNode& n = nodes_[i];
  if (!n.store) n.store = std::make_unique<MemStore>(durable_writes_);
  const bool full = n.disk_full_until > now_;
  const bool meta = full || n.meta_fail_until > now_;
  if (full != n.store->failing_writes() || meta != n.store->failing_meta_writes()) {
    if (disk_failing(i)) n.disk_failed_last = now_;
    n.store->fail_writes(full);
    n.store->fail_meta_writes(meta);
    trace_.note(now_, "n" + std::to_string(i) + "'s disk: " +
                          (full   ? "refuses writes"
                           : meta ? "refuses meta writes"
                                  : "works"));
  }
}

void Simulation::finish_leave(uint32_t i) {
  SimNode& n = nodes_[i];
  // As the runtime does before it closes its sockets: what the last inputs wrote is
  // committed, then their output and the leave's last words go.
  if (n.committing) {
    n.committing = false;
    perform(i, n.committed);
  }
  Effects last;
  if (n.gate->commit(last).ok()) perform(i, last);
  watch_checker_.on_stop(i);
  n.kernel.reset();
  n.gate.reset();
  n.passthrough.reset();
  n.commit_scheduled = false;
  n.status = NodeStatus::kLeft;
  n.generation++;
  n.timer_at = kNever;
  n.inbox.clear();
  n.inbox_at = kNever;
  record_lifecycle(i, Lifecycle::kLeft);
}

void Simulation::apply(const FaultAction& a) {
  SimNode& n = nodes_[a.node];
  faults_injected_[static_cast<size_t>(a.kind)]++;
  trace_.add(
      TraceRecord{now_, TraceKind::kFault, static_cast<uint8_t>(a.kind), a.node, 0,
                  static_cast<uint64_t>(a.kind == FaultKind::kClockStep ? a.clock_step.count()
                                                                        : a.duration.count()),
                  static_cast<uint64_t>(a.lag.count())});
  switch (a.kind) {
    case FaultKind::kPartition: {
      network_.start_partition(a.shape, a.choice_seed, a.node);
      if (Timeline* tl = config_.timeline) {
        end_partition_shades();  // a new partition replaces the one before
        for (uint32_t j = 0; j < nodes_.size(); ++j)
          tl->begin_shade(micros(now_), j, "partition, side " + std::to_string(network_.side(j)));
      }
      Event end{EventKind::kPartitionEnd};
      end.index = ++partition_id_;
      queue_.push(now_ + a.duration, std::move(end));
      break;
    }
    case FaultKind::kCrash:
      if (n.running()) crash(a.node, a.duration);
      break;
    case FaultKind::kPause:
      if (n.running()) {
        n.paused_until = std::max(n.paused_until, now_ + a.duration);
        n.ever_paused = true;
        if (config_.timeline)
          config_.timeline->shade(micros(now_), micros(n.paused_until), a.node, "pause");
      }
      break;
    case FaultKind::kClog:
      network_.clog(a.node, now_ + a.duration);
      if (config_.timeline) {
        config_.timeline->shade(micros(now_), micros(now_ + a.duration), a.node,
                                "clog: its sends held back");
      }
      break;
    case FaultKind::kSlow:
      if (n.running()) {
        if (config_.timeline)
          config_.timeline->shade(micros(now_), micros(now_ + a.duration), a.node, "slow");
        n.slow_until = std::max(n.slow_until, now_ + a.duration);
        n.input_lag = a.lag;
        n.ever_paused = true;
      }
      break;
    case FaultKind::kDiskFull:
    case FaultKind::kMetaFail: {
      MonoTime& until = a.kind == FaultKind::kDiskFull ? n.disk_full_until : n.meta_fail_until;
      until = std::max(until, now_ + a.duration);
      update_disk(a.node);
      queue_.push(until, Event{EventKind::kDiskRecover, a.node});
      break;
    }
    case FaultKind::kSlowDisk:
      n.slow_disk_until = std::max(n.slow_disk_until, now_ + a.duration);
      n.slow_disk_lag = a.lag;
      n.ever_paused = true;  // a process waiting for its disk answers nobody
      break;
    case FaultKind::kClockStep:
      widest_gap_ = std::max(widest_gap_, clock_gap_at(now_));
      n.clock_steps += a.clock_step;
      widest_gap_ = std::max(widest_gap_, clock_gap_at(now_));
      break;
    case FaultKind::kLeave:
      if (n.status != NodeStatus::kUp) break;
      if (n.paused_until > now_ || n.committing) {
        // A paused process does nothing, leaving included: it leaves once it resumes (or
        // once the commit it waits for is written).
        FaultAction later = a;
        later.at = std::max(n.paused_until, n.committing ? n.commit_done_at : now_);
        deferred_.push_back(later);
        Event e{EventKind::kDeferredFault};
        e.index = deferred_.size() - 1;
        queue_.push(later.at, std::move(e));
        break;
      }
      begin_leave(a.node);
      break;
  }
}

void Simulation::discover() {
  if (done_) return;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    SimNode& n = nodes_[i];
    if (n.status != NodeStatus::kUp) continue;
    std::vector<Address> lost;
    for (uint32_t j = 0; j < nodes_.size(); ++j) {
      if (j == i || nodes_[j].status != NodeStatus::kUp) continue;
      const Member* m = n.kernel->members().find(nodes_[j].name);
      if (m == nullptr || !m->alive()) lost.push_back(nodes_[j].addr);
    }
    if (lost.empty()) continue;
    n.kernel->join(now_for(i), lost);
    drain(i);
  }
  queue_.push(now_ + std::chrono::seconds(5), Event{EventKind::kDiscovery});
}

void Simulation::begin_quiet() {
  quiet_start_ = now_;
  trace_.add(TraceRecord{now_, TraceKind::kPhase, 1});
  if (!config_.check_liveness) {
    done_ = true;
    return;
  }
  network_.calm();
  end_partition_shades();
  chaos_drained_ = network_.last_arrival();
  size_t departed = 0;
  for (const SimNode& n : nodes_) {
    const bool due_back = n.status == NodeStatus::kDown && n.restart_at != kNever;
    departed += n.departed() && !due_back ? 1 : 0;
  }
  bounds_ = liveness_bounds(config_.node.membership, config_.nodes, departed);
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    SimNode& n = nodes_[i];
    if (n.running() && (n.paused_until > now_ || n.slow_until > now_ || !n.inbox.empty())) {
      // Faults stop for everyone at once: the node catches up on its timers and on the
      // input it was holding, right now.
      n.paused_until = now_;
      n.slow_until = now_;
      for (HeldInput& in : n.inbox)
        in.ready = now_;
      n.inbox_at = kNever;
      n.timer_at = kNever;
      if (n.committing && n.commit_done_at > now_) {
        // Its commit was written or is being written: it ends when the write does.
        n.commit_done_at = std::max(now_, n.commit_started + commit_latency(i));
        push_for_process(n.commit_done_at, EventKind::kCommitDone, i, n.commits);
      }
      schedule_timer(i);
      schedule_inbox(i);
      record_lifecycle(i, Lifecycle::kResume);
    }
    n.slow_disk_until = std::min(n.slow_disk_until, now_);
    if (n.disk_full_until > now_ || n.meta_fail_until > now_) {
      n.disk_full_until = n.meta_fail_until = now_;  // disks are freed, or mended
      update_disk(i);
    }
    if (n.status == NodeStatus::kDown && n.restart_at != kNever) start_node(i, true);
  }
  for (uint32_t b = 0; b < nodes_.size(); ++b) {
    if (nodes_[b].status == NodeStatus::kDown && nodes_[b].restart_at == kNever) {
      schedule_force_leave(b, /*at_quiet=*/true);
    }
  }
  queue_.push(now_, Event{EventKind::kCheck});
  if (config_.short_horizon.value_or(false)) {
    queue_.push(now_ + std::chrono::seconds(1), Event{EventKind::kDiscovery});
  }
}

void Simulation::check() {
  const bool settled = checker_.check_views(now_);
  const Duration elapsed = now_ - quiet_start_;
  checker_.enforce_bounds(now_, elapsed, bounds_);
  // Done once both properties have held for a whole suspicion timeout (so a stale
  // accusation still in flight would have shown), or when the phase's time is up.
  const auto since = [](const std::optional<MonoTime>& t) { return t.value_or(kNever); };
  const MonoTime stable_since =
      std::max(since(checker_.live_converged_since()), since(checker_.departed_converged_since()));
  const bool stable =
      settled && now_ - stable_since >= bounds_.suspicion_max && force_leaves_pending_ == 0;
  const bool kv = config_.workload.enabled;
  // The reads of the round go out once membership agrees, the invalidations have had two
  // resend intervals (since then, and since the last write was acknowledged), nothing the
  // chaos phase delayed is still in flight, and no client write is still waiting for its
  // answer (a node that restarted late in the chaos phase
  // holds writes until its clock passes the lease it had taken).
  const bool writes_pending =
      std::any_of(pending_ops_.begin(), pending_ops_.end(), [&](const auto& p) {
        return (p.second.op == ClientOp::kPut || p.second.op == ClientOp::kDelete) &&
               nodes_[p.second.node].status == NodeStatus::kUp;
      });
  // The invalidations of the last acknowledged write get as long to arrive.
  const MonoTime quiet_since = std::max(stable_since, last_write_ack_);
  // Nor while a node is away (KeyValue::absent): it is about to drop its old records.
  bool dropping = false;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const auto wall_us = static_cast<uint64_t>(now_for(i).wall.time_since_epoch().count());
    dropping =
        dropping || (nodes_[i].status == NodeStatus::kUp && nodes_[i].kernel->kv().away(wall_us));
  }
  if (kv && round_ == Round::kNotStarted && settled && !writes_pending && !dropping &&
      now_ - quiet_since >= 2 * config_.node.kv.resend_interval && now_ >= chaos_drained_) {
    start_convergence_round();
  }
  const bool kv_done = !kv || round_ == Round::kDone;
  if ((stable && kv_done && elapsed >= config_.min_quiet) || elapsed > bounds_.quiet_phase()) {
    if (kv && round_ != Round::kDone && first_violation() == nullptr) {
      kv_checker_.report(now_, "convergence",
                         "the quiet-phase read round did not finish within the phase (" +
                             std::to_string(round_outstanding_) + " reads outstanding)");
    }
    done_ = true;
    return;
  }
  // Checking is O(n^2); look less often in large clusters.
  const Duration every = std::chrono::milliseconds(std::max<int64_t>(1000, 10 * config_.nodes));
  queue_.push(now_ + every, Event{EventKind::kCheck});
}

// ---------------------------------------------------------------------------------------

void Simulation::deliver(Event&& e) {
  SimNode& n = nodes_[e.node];
  DropReason why = DropReason::kNone;
  if (!n.running() || (e.channel == Channel::kStream && e.generation != n.generation)) {
    why = DropReason::kDown;
  } else if (network_.blocked(e.from, e.node)) {
    why = DropReason::kPartition;
  }
  if (why != DropReason::kNone) {
    dropped_++;
    trace_.add(TraceRecord{now_, TraceKind::kDrop, static_cast<uint8_t>(why), e.from, e.node},
               e.bytes);
    return;
  }
  if (n.paused_until > now_ || n.slow_until > now_ || n.committing || !n.inbox.empty()) {
    // The process has the message but will get to it late: after the pause (and after the
    // timers that came due meanwhile, the worst case for a waking process, and the one
    // Lifeguard targets), `input_lag` later when slow, and never before what came first.
    MonoTime ready = now_ + (n.slow_until > now_ ? n.input_lag : Duration(0));
    if (!n.inbox.empty()) ready = std::max(ready, n.inbox.back().ready);
    n.inbox.push_back(HeldInput{ready, e.from, e.channel, std::move(e.bytes)});
    schedule_inbox(e.node);
    return;
  }
  handle_input(e.node, e.from, e.channel, e.bytes);
}

void Simulation::handle_input(uint32_t i, uint32_t from, Channel channel,
                              std::span<const uint8_t> bytes) {
  delivered_++;
  trace_.add(TraceRecord{now_, TraceKind::kDeliver, static_cast<uint8_t>(channel), from, i}, bytes);
  if (config_.timeline) note_traffic(from, i, bytes);
  nodes_[i].kernel->on_message(now_for(i), nodes_[from].addr, channel, bytes);
  drain(i);
}

void Simulation::process_inbox(const Event& e) {
  SimNode& n = nodes_[e.node];
  if (!n.running() || e.generation != n.generation || n.inbox_at != now_) return;  // stale
  n.inbox_at = kNever;
  while (n.running() && !n.inbox.empty() && n.paused_until <= now_ && !n.committing &&
         n.inbox.front().ready <= now_) {
    HeldInput in = std::move(n.inbox.front());
    n.inbox.pop_front();
    if (in.request != 0) {
      if (pending_ops_.count(in.request) != 0) call_kernel(e.node, in.request);
    } else {
      handle_input(e.node, in.from, in.channel, in.bytes);
    }
  }
  if (n.running()) schedule_inbox(e.node);
}

void Simulation::schedule_inbox(uint32_t i) {
  SimNode& n = nodes_[i];
  if (n.inbox.empty() || n.committing) return;  // finish_commit schedules it
  MonoTime at = std::max(n.inbox.front().ready, now_);
  if (n.paused_until > now_) at = std::max(at, n.paused_until + Duration(1));
  if (at >= n.inbox_at) return;
  n.inbox_at = at;
  push_for_process(at, EventKind::kInbox, i);
}

void Simulation::fire_timer(const Event& e) {
  SimNode& n = nodes_[e.node];
  if (!n.running() || e.generation != n.generation || n.timer_at != now_) return;  // stale
  n.timer_at = kNever;
  if (n.committing) return;  // finish_commit schedules it again
  if (n.paused_until > now_) {
    n.timer_at = n.paused_until;
    push_for_process(n.timer_at, EventKind::kTimer, e.node);
    return;
  }
  n.kernel->on_timer(now_for(e.node));
  drain(e.node);
}

void Simulation::drain(uint32_t i) {
  SimNode& n = nodes_[i];
  // The latest wall time the process has been given (its kernel's expiry clock is at least
  // this), and the latest any process has.
  const auto wall_us = static_cast<uint64_t>(now_for(i).wall.time_since_epoch().count());
  n.max_wall_us = std::max(n.max_wall_us, wall_us);
  max_wall_ever_us_ = std::max(max_wall_ever_us_, wall_us);
  if (config_.workload.enabled) note_answers(i);
  if (const uint64_t drops = n.kernel->kv().absence_drops(); drops > n.absence_drops_seen) {
    n.absence_drops_seen = drops;
    const uint64_t cutoff = n.kernel->kv().last_absence_cutoff_us();
    trace_.note(now_, n.name + " was away over half the horizon: dropped its records older than " +
                          std::to_string(cutoff) + " us");
    kv_checker_.on_absence_drop(now_, i, cutoff);
    gap_checker_.on_absence_drop(i);
  }
  n.gate->take(n.kernel->outbox(), effects_);
  perform(i, effects_);
  if (!stale_watches_.empty()) update_stale_watches(i);
  if (n.status == NodeStatus::kLeaving && n.kernel->leave_complete()) {
    finish_leave(i);
    return;
  }
  schedule_commit(i);
  schedule_timer(i);
}

void Simulation::perform(uint32_t i, Effects& effects) {
  note_changes(i, effects.changes);
  for (Send& s : effects.sends)
    transmit(i, std::move(s));
  for (Reply& r : effects.replies)
    on_reply(i, std::move(r));
  for (ChangeEvent& e : effects.events) {
    if (!adopted_.key_prefix.empty()) e.key = strip_prefix(e.key);
    watch_checker_.on_event(i, now_, e, kv_checker_);
  }
  effects.clear();
}

void Simulation::note_changes(uint32_t i, const std::vector<MemberChange>& changes) {
  if (changes.empty()) return;
  SimNode& n = nodes_[i];
  for (const MemberChange& c : changes) {
    member_changes_++;
    trace_.add(TraceRecord{now_, TraceKind::kChange, static_cast<uint8_t>(c.to_state), i,
                           subject_index(c.name), static_cast<uint64_t>(c.from_state),
                           c.to_incarnation});
    checker_.on_change(now_, i, c);
    if (config_.change_observer) config_.change_observer(now_, i, c);
    if (config_.timeline) {
      config_.timeline->member(micros(now_), i, c.name,
                               static_cast<Timeline::State>(static_cast<uint8_t>(c.to_state)));
    }
  }
  bool gap = false;
  for (const MemberChange& c : changes) {
    if (c.name == n.name) continue;
    const uint32_t subject = subject_index(c.name);
    if (subject < nodes_.size()) gap_checker_.on_view_change(i, subject);
    gap = gap || opens_gap(c);
  }
  if (gap && config_.workload.enabled) note_gap(i);
  if (formed_ == kNever || !loops_started_) {
    check_formed();
    if (i == 0) maybe_start_loops();  // (an event: not while this drain runs)
  }
}

void Simulation::check_formed() {
  if (formed_ == kNever && std::all_of(nodes_.begin(), nodes_.end(), [&](const SimNode& node) {
        return node.running() && node.kernel->members().count(MemberState::kAlive) == nodes_.size();
      })) {
    formed_ = now_;
    kv_checker_.set_formed(now_);
  }
}

// (Group commit: simulation_commit.cpp. The key-value client side: simulation_kv.cpp.)

void Simulation::transmit(uint32_t from, Send&& send) {
  if (const auto version = nodes_[from].wire_version) {
    const size_t limit = send.channel == Channel::kDatagram
                             ? config_.node.membership.max_datagram_bytes
                             : config_.node.membership.max_stream_bytes;
    if (auto later = as_later_revision(send.bytes, *version, limit)) send.bytes = std::move(*later);
  }
  const auto to = index_of(send.to);
  if (!to) {
    dropped_++;
    trace_.add(TraceRecord{now_, TraceKind::kDrop,
                           static_cast<uint8_t>(DropReason::kUnknownAddress), from, UINT32_MAX},
               send.bytes);
    return;
  }
  const Network::Route route = network_.route(now_, from, *to, send.channel);
  if (route.dropped != DropReason::kNone) {
    dropped_++;
    trace_.add(TraceRecord{now_, TraceKind::kDrop, static_cast<uint8_t>(route.dropped), from, *to},
               send.bytes);
    return;
  }
  for (int c = 0; c < route.copies; ++c) {
    Event e{EventKind::kDeliver, *to, from, send.channel, nodes_[*to].generation};
    e.bytes = c + 1 == route.copies ? std::move(send.bytes) : send.bytes;
    queue_.push(route.at[c], std::move(e));
  }
}

void Simulation::push_for_process(MonoTime at, EventKind kind, uint32_t i, uint64_t index) {
  Event e{kind, i};
  e.generation = nodes_[i].generation;
  e.index = index;
  queue_.push(at, std::move(e));
}

void Simulation::schedule_timer(uint32_t i) {
  SimNode& n = nodes_[i];
  const MonoTime deadline = n.kernel->next_deadline();
  if (deadline == kNever) return;
  const MonoTime at = std::max(deadline - n.mono_shift, now_);  // (in the node's clock)
  if (at >= n.timer_at) return;  // an earlier wake-up is already scheduled
  n.timer_at = at;
  push_for_process(at, EventKind::kTimer, i);
}

Now Simulation::now_for(uint32_t i) const {
  const SimNode& n = nodes_[i];
  const int64_t us = micros(now_);
  const int64_t drifted_us = us + us / 1000000 * n.clock_drift_ppm;
  return Now{now_ + n.mono_shift, WallTime(Duration((kWallEpochMs + n.clock_skew_ms) * 1000 +
                                                    n.wall_shift_us + drifted_us) +
                                           n.clock_steps)};
}

Duration Simulation::clock_gap_at(MonoTime t) const {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const SimNode& n : nodes_) {
    const int64_t off = n.clock_skew_ms * 1000 + n.wall_shift_us +
                        micros(t) / 1000000 * n.clock_drift_ppm + n.clock_steps.count();
    lo = std::min(lo, off);
    hi = std::max(hi, off);
  }
  return Duration(hi - lo);
}

uint64_t Simulation::lowest_running_clock_us() const {
  uint64_t lowest = UINT64_MAX;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].running())
      lowest = std::min(lowest, static_cast<uint64_t>(now_for(i).wall.time_since_epoch().count()));
  }
  return lowest == UINT64_MAX ? 0 : lowest;
}

void Simulation::note_expiry_clocks(uint64_t lowest_us) {
  // A kernel's expiry clock starts at its persisted clock ceiling, up to a lease (200 ms)
  // ahead of the wall time of its last write.
  kv_checker_.set_expiry_clocks(lowest_us, max_wall_ever_us_ + 200'000);
}

Duration Simulation::max_clock_gap() const {
  // Between steps, clock offsets change linearly with drift: the widest gap so far is at
  // the start, now, or on either side of a step (widest_gap_ keeps those).
  return std::max(clock_gap_at(now_), widest_gap_) + Duration(1);
}

const Violation* Simulation::first_violation() const {
  const Violation* a = checker_.violations().empty() ? nullptr : &checker_.violations().front();
  const Violation* b =
      kv_checker_.violations().empty() ? nullptr : &kv_checker_.violations().front();
  if (a == nullptr) return b;
  if (b == nullptr) return a;
  return b->at < a->at ? b : a;
}

uint32_t Simulation::subject_index(const std::string& name) const {
  if (adopting()) {  // (names of any form; a fork has a few nodes)
    for (uint32_t j = 0; j < nodes_.size(); ++j)
      if (nodes_[j].name == name) return j;
    return UINT32_MAX;
  }
  uint32_t i = 0;
  if (name.size() < 2 || name[0] != 'n') return UINT32_MAX;
  for (size_t k = 1; k < name.size(); ++k) {
    if (name[k] < '0' || name[k] > '9') return UINT32_MAX;
    i = i * 10 + static_cast<uint32_t>(name[k] - '0');
  }
  return i;
}

std::optional<uint32_t> Simulation::index_of(const Address& a) const {
  if (adopting()) {
    for (uint32_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].addr == a) return i;
    return std::nullopt;
  }
  if (a.port != kGossipPort || a.ip < kBaseIp || a.ip - kBaseIp >= nodes_.size()) {
    return std::nullopt;
  }
  return a.ip - kBaseIp;
}

void Simulation::end_partition_shades() {
  if (config_.timeline == nullptr) return;
  for (uint32_t j = 0; j < nodes_.size(); ++j)
    config_.timeline->end_shade(micros(now_), j, "partition");
}

void Simulation::note_traffic(uint32_t from, uint32_t to, std::span<const uint8_t> packet) {
  bool invalidation = false;
  (void)wire::for_each_frame(packet, [&](uint8_t type, size_t) {
    const auto t = static_cast<wire::MessageType>(type);
    invalidation = invalidation || t == wire::MessageType::kInvalidate ||
                   t == wire::MessageType::kInvalidateReset;
  });
  if (invalidation) {
    config_.timeline->traffic(micros(now_), to, "invalidation from " + nodes_[from].name);
  }
}

void Simulation::record_lifecycle(uint32_t i, Lifecycle step) {
  trace_.add(TraceRecord{now_, TraceKind::kLifecycle, static_cast<uint8_t>(step), i});
  if (Timeline* tl = config_.timeline) {
    if (step == Lifecycle::kCrash) tl->begin_shade(micros(now_), i, "crash");
    if (step == Lifecycle::kLeft) tl->begin_shade(micros(now_), i, "down: left");
    if (step == Lifecycle::kRestart || step == Lifecycle::kStart)
      tl->end_shade(micros(now_), i, "crash");
  }
}

std::string Simulation::report() const {
  const Violation& v = *first_violation();
  const bool quiet = quiet_start_ != kNever && v.at >= quiet_start_;
  std::string out;
  out += "VIOLATION of \"" + v.property + "\"\n";
  out += "  seed " + std::to_string(config_.seed) + ", " + std::to_string(config_.nodes) +
         " nodes, at " + std::to_string(static_cast<double>(micros(v.at)) / 1e6) + " s (" +
         (quiet ? "quiet" : "chaos") + " phase)\n";
  out += "  " + v.detail + "\n";
  out += "  faults: " + plan_.profile_summary + "\n";
  out += "  last " + std::to_string(config_.trace_ring) + " trace records:\n";
  for (const std::string& line : trace_.recent())
    out += "    " + line + "\n";
  out += "  reproduce: " + config_.repro + "\n";
  return out;
}

}  // namespace ckv::sim
