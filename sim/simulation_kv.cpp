// Simulation, the key-value client side: operations issued (random load, scripted,
// read-modify-write loops), replies judged (KvChecker, GapChecker), staleness measured,
// and the quiet phase's read of every key on every node.
#include <algorithm>

#include "sim/simulation.h"

namespace ckv::sim {

namespace {

// Half the listings (by op id) ask for the values too, which the checker then verifies.
bool lists_values(uint64_t op_id) {
  return op_id % 2 == 1;
}

}  // namespace

void Simulation::client_op() {
  if (quiet_start_ != kNever) return;  // the load stops with the faults
  if (kv_profile_ == KvProfile::kReadModifyWrite) {
    // The loops start when n0 sees every node (maybe_start_loops); this is the fallback
    // for a cluster that has not formed by the end of the warm-up.
    if (!loops_started_) start_loops();
    return;
  }
  queue_.push(now_ + workload_.next_gap(), Event{EventKind::kClientOp});
  const KvOp op = workload_.next_op();
  const uint32_t i = workload_.pick_node(config_.nodes);
  SimNode& n = nodes_[i];
  if (n.status != NodeStatus::kUp || n.paused_until > now_) return;  // nobody to ask
  issue(i, op, false);
}

void Simulation::scripted_op(const ScriptedOp& op, uint64_t index) {
  if (op.node >= nodes_.size() || op.key >= config_.workload.keys) return;
  const SimNode& n = nodes_[op.node];
  if (n.status != NodeStatus::kUp || n.paused_until > now_) return;
  // Ids above the random load's, so every put still writes a value of its own.
  const uint64_t id = (uint64_t{1} << 62) + index;
  issue(op.node, KvOp{id, op.op, op.key, op.op == ClientOp::kPut ? size_t{64} : size_t{0}}, false);
}

void Simulation::issue(uint32_t i, const KvOp& op, bool loop) {
  const uint64_t request = next_request_++;
  PendingOp pending{i, op.key, op.op, now_, op.id, op.value_bytes, false};
  pending.loop = loop;
  pending.ttl = op.ttl;
  pending.acked_before = kv_checker_.acked();
  const bool scripted = op.id >= (uint64_t{1} << 62);
  const bool write = op.op == ClientOp::kPut || op.op == ClientOp::kDelete;
  if (write && !loop && !scripted && kv_profile_ == KvProfile::kRandom &&
      op.key >= first_cas_key(config_.workload)) {
    // A compare-and-set key: conditional on what this node's client last saw.
    const CasView& seen = cas_views_[{i, op.key}];
    WriteCondition c;
    if (seen.seen && !seen.value.is_zero()) {
      c.kind = WriteCondition::Kind::kMatch;
      c.versions.push_back(seen.value);
    } else {
      c.kind =
          op.op == ClientOp::kPut ? WriteCondition::Kind::kAbsent : WriteCondition::Kind::kExists;
    }
    pending.condition = std::move(c);
    pending.ttl.reset();
    cas_checker_.counts().attempts++;
  }
  if (op.op == ClientOp::kList) {
    for (const auto& [r, p] : pending_ops_) {
      if (p.op == ClientOp::kPut || p.op == ClientOp::kDelete) pending.touched.insert(p.key);
    }
  } else if (write) {
    for (auto& [r, p] : pending_ops_) {
      if (p.op == ClientOp::kList) p.touched.insert(op.key);
    }
  }
  pending_ops_[request] = pending;
  switch (op.op) {
    case ClientOp::kGet:
      kv_counts_.gets++;
      break;
    case ClientOp::kList:
      kv_counts_.lists++;
      break;
    case ClientOp::kPut:
      kv_counts_.puts++;
      break;
    case ClientOp::kDelete:
      kv_counts_.deletes++;
      break;
  }
  submit(i, request);
}

void Simulation::submit(uint32_t i, uint64_t request) {
  SimNode& n = nodes_[i];
  if (!n.committing) {
    call_kernel(i, request);
    return;
  }
  // The process reads it once its commit is written, after what came before it.
  MonoTime ready = now_;
  if (!n.inbox.empty()) ready = std::max(ready, n.inbox.back().ready);
  n.inbox.push_back(HeldInput{ready, i, Channel::kDatagram, {}, request});
}

void Simulation::call_kernel(uint32_t i, uint64_t request) {
  SimNode& n = nodes_[i];
  const PendingOp& op = pending_ops_.at(request);
  const std::string key = kernel_key(op.key);
  if (op.condition) {
    const bool erase = op.op == ClientOp::kDelete;
    n.kernel->write_if(now_for(i), request, key, erase,
                       erase ? std::string() : value_for(op.op_id, op.bytes), std::nullopt,
                       *op.condition, erase ? ContentType{} : content_for(op.op_id));
    drain(i);
    return;
  }
  switch (op.op) {
    case ClientOp::kGet:
      n.kernel->get(now_for(i), request, key);
      break;
    case ClientOp::kList:
      n.kernel->list(now_for(i), request, adopted_.key_prefix, "", KeyValue::kMaxListLimit,
                     std::nullopt, lists_values(op.op_id));
      break;
    case ClientOp::kPut:
      n.kernel->put(now_for(i), request, key, value_for(op.op_id, op.bytes), op.ttl,
                    content_for(op.op_id));
      break;
    case ClientOp::kDelete:
      n.kernel->erase(now_for(i), request, key);
      break;
  }
  drain(i);
}

void Simulation::maybe_start_loops() {
  if (kv_profile_ != KvProfile::kReadModifyWrite || !config_.workload.enabled || loops_started_ ||
      loops_scheduled_ || !nodes_[0].running() ||
      nodes_[0].kernel->members().count(MemberState::kAlive) != nodes_.size()) {
    return;
  }
  loops_scheduled_ = true;
  queue_.push(now_, Event{EventKind::kRmwStep, kStartLoops});
}

void Simulation::start_loops() {
  if (loops_started_ || quiet_start_ != kNever) return;
  loops_started_ = true;
  trace_.note(now_, "read-modify-write clients start");
  // What a new user does first: write on the node they started first...
  if (nodes_[0].status == NodeStatus::kUp) {
    for (uint32_t k = 0; k < config_.workload.keys; ++k) {
      KvOp seed = workload_.rmw_write(k);
      issue(0, seed, false);
    }
  }
  // ... then read and write back from every node at once.
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    schedule_step(i, workload_.rmw_pause(0, config_.nodes));
}

void Simulation::schedule_step(uint32_t i, Duration after) {
  LoopClient& c = loop_clients_[i];
  const MonoTime at = now_ + after;
  if (c.busy || c.next_step <= at) return;  // its next step is already due sooner
  c.next_step = at;
  queue_.push(at, Event{EventKind::kRmwStep, i});
}

void Simulation::loop_step(uint32_t i, MonoTime at) {
  if (i == kStartLoops) {
    start_loops();
    return;
  }
  LoopClient& c = loop_clients_[i];
  if (c.next_step != at) return;  // superseded
  c.next_step = kNever;
  if (quiet_start_ != kNever || c.busy) return;  // the load stops with the faults
  const SimNode& n = nodes_[i];
  if (n.status != NodeStatus::kUp || n.paused_until > now_) {
    // A client of a node that is stalled or not yet started waits for it; one whose node
    // crashed waits for its restart (which reschedules it); one whose node left stops.
    if (n.status == NodeStatus::kUp || n.status == NodeStatus::kNotStarted) {
      schedule_step(i, std::chrono::milliseconds(100));
    }
    return;
  }
  c.busy = true;
  if (c.write_key) {
    const uint32_t key = *c.write_key;
    c.write_key.reset();
    issue(i, workload_.rmw_write(key), true);
  } else {
    issue(i, workload_.rmw_read(), true);
  }
}

void Simulation::on_loop_reply(uint32_t i, const PendingOp& op) {
  LoopClient& c = loop_clients_[i];
  c.busy = false;
  if (quiet_start_ != kNever) return;
  if (op.op == ClientOp::kGet) {
    c.write_key = op.key;  // write back what was read, at once
    schedule_step(i, Duration(0));
    return;
  }
  c.loops++;
  schedule_step(i, workload_.rmw_pause(c.loops, config_.nodes));
}

namespace {

bool deletes_in(const std::vector<Reply>& replies) {
  return std::any_of(replies.begin(), replies.end(), [](const Reply& r) {
    return r.op == ClientOp::kDelete && r.status == ReplyStatus::kOk;
  });
}

}  // namespace

void Simulation::note_answers(uint32_t i) {
  const SimNode& n = nodes_[i];
  for (const Reply& r : n.kernel->outbox().replies) {
    auto it = pending_ops_.find(r.request);
    if (it == pending_ops_.end() || it->second.node != i) continue;
    PendingOp& op = it->second;
    if (op.op == ClientOp::kPut && r.status == ReplyStatus::kError &&
        r.code == ErrorCode::kNoSpace && config_.node.kv.max_data_bytes != 0) {
      // Refused by the bound: fair when its own writes and this one would pass it.
      // (Measured after the input: a delete the same input ran later may have freed own
      // bytes since the decision, as when held writes are released together.)
      op.refused_by_bound =
          own_value_bytes(i, kernel_key(op.key)) + op.bytes > config_.node.kv.max_data_bytes ||
          deletes_in(n.kernel->outbox().replies);
    }
    if (op.op != ClientOp::kGet && op.op != ClientOp::kList) continue;
    const bool answered = r.status == ReplyStatus::kOk || r.status == ReplyStatus::kNotFound;
    op.joined = n.kernel->joined();
    op.node_clock_us = n.max_wall_us;
    if (answered && r.current && !r.remote)
      op.stale_local_hit = gap_checker_.check_local_hit(i, op.key, r.version);
    if (answered && r.current && r.remote) op.heard = must_hear(i);
  }
}

std::vector<bool> Simulation::must_hear(uint32_t i) const {
  std::vector<bool> heard(nodes_.size(), false);
  heard[i] = true;
  for (const Member& m : nodes_[i].kernel->members()) {
    const uint32_t j = subject_index(m.name.str());
    if (m.active() && j < heard.size()) heard[j] = true;
  }
  return heard;
}

void Simulation::on_reply(uint32_t i, Reply&& r) {
  if (adopting() && r.request < adopted_.first_request) return;  // the recording's
  auto it = pending_ops_.find(r.request);
  if (it == pending_ops_.end()) {
    kv_checker_.report(
        now_, "one reply per request",
        "n" + std::to_string(i) + " answered unknown request " + std::to_string(r.request));
    return;
  }
  const PendingOp op = std::move(it->second);
  pending_ops_.erase(it);
  if (op.node != i) {
    kv_checker_.report(now_, "one reply per request", "a reply came from the wrong node");
    return;
  }
  trace_.add(TraceRecord{now_, TraceKind::kReply, static_cast<uint8_t>(r.status), i, op.key,
                         static_cast<uint64_t>(op.op), r.version.wall_us});
  if (config_.timeline) {
    static constexpr Timeline::Outcome kOutcome[] = {
        Timeline::Outcome::kOk, Timeline::Outcome::kNotFound, Timeline::Outcome::kTimeout,
        Timeline::Outcome::kError, Timeline::Outcome::kPreconditionFailed};
    static constexpr const char* kOp[] = {"get", "put", "delete", "list"};
    config_.timeline->op(micros(now_), i, kOutcome[static_cast<size_t>(r.status)],
                         std::string(kOp[static_cast<size_t>(op.op)]) + " key" +
                             std::to_string(op.key) + ": " + to_string(r.status));
  }
  if (op.op == ClientOp::kList) {
    if (!adopted_.key_prefix.empty()) {
      for (ListedKey& k : r.keys)
        k.key = strip_prefix(k.key);
    }
    on_list_reply(i, op, r);
    return;
  }
  if (op.key >= first_cas_key(config_.workload)) note_cas_view(i, op, r);
  if (op.condition && r.status != ReplyStatus::kOk) {
    on_cas_refusal(i, op, r);
    return;
  }
  switch (r.status) {
    case ReplyStatus::kOk:
      kv_counts_.ok++;
      break;
    case ReplyStatus::kNotFound:
      kv_counts_.not_found++;
      break;
    case ReplyStatus::kTimeout:
      kv_counts_.timeouts++;
      break;
    case ReplyStatus::kPreconditionFailed:
      kv_checker_.report(now_, "one reply per request",
                         "an unconditional operation answered precondition-failed");
      break;
    case ReplyStatus::kError:
      kv_counts_.errors++;
      if (op.refused_by_bound) break;
      kv_checker_.on_error(now_, i,
                           op.op == ClientOp::kGet
                               ? nodes_[i].commit_failed_last >= op.started
                               : disk_failing(i) || nodes_[i].disk_failed_last >= op.started,
                           r.error);
      break;
  }
  if (!r.current) kv_counts_.not_current++;
  if (op.op != ClientOp::kGet) {
    if (op.loop) on_loop_reply(i, op);
    if (r.status != ReplyStatus::kOk) return;
    kv_checker_.latency().put.push_back(now_ - op.started);
    last_write_ack_ = now_;
    // A conditional write was made by the key's owner, not always the node asked.
    const uint32_t owner = op.condition ? writer_index(r.version) : i;
    const uint32_t writer = owner < nodes_.size() ? owner : i;
    WriteRecord w{op.key, r.version, op.op == ClientOp::kDelete, op.op_id, op.bytes, writer, now_};
    w.started = op.started;
    if (op.condition) {
      w.asker = i;
      // Made before the answer came: a lossy crash of its owner since may have lost it.
      if (nodes_[writer].lossy_crash_at != kNever && nodes_[writer].lossy_crash_at >= op.started)
        w.lost_at = nodes_[writer].lossy_crash_at;
      cas_checker_.counts().succeeded++;
      cas_checker_.on_success(CasSuccess{op.key, r.version, *op.condition, op.started, i});
    }
    w.expires_us = r.expires_us;
    kv_checker_.on_write(now_, w, max_clock_gap());
    watch_staleness(i, op.key, r.version);
    return;
  }
  if (op.stale_local_hit)
    kv_checker_.report(now_, "copies revalidated after a member change", *op.stale_local_hit);
  if (r.status == ReplyStatus::kOk || r.status == ReplyStatus::kNotFound)
    register_maybe_written(op.key, r);
  note_expiry_clocks(lowest_running_clock_us());
  kv_checker_.on_get(now_, i, op.key, op.started, op.acked_before, r, op.heard, op.joined,
                     op.node_clock_us);
  if (op.loop) on_loop_reply(i, op);
  if (op.convergence) {
    round_answers_[op.key].emplace_back(i, std::move(r));
    if (--round_outstanding_ == 0) finish_convergence_round();
  }
}

bool Simulation::serves_older(uint32_t i, uint32_t key, const Version& v) const {
  const SimNode& n = nodes_[i];
  if (!n.running()) return false;
  const Record* r = n.peek(kernel_key(key));
  return r != nullptr && r->kind != RecordKind::kInvalidated && r->version < v &&
         r->validated_epoch == n.kernel->serving_epoch();
}

void Simulation::note_gap(uint32_t i) {
  const SimNode& n = nodes_[i];
  std::vector<uint32_t> witnesses;
  for (uint32_t j = 0; j < nodes_.size(); ++j) {
    if (j == i || !nodes_[j].running()) continue;
    const Member* m = n.kernel->members().find(nodes_[j].name);
    if (m != nullptr && m->active()) witnesses.push_back(j);
  }
  for (uint32_t key = 0; key < config_.workload.keys; ++key) {
    const std::string name = kernel_key(key);
    const Record* held = n.peek(name);
    if (held == nullptr || held->kind == RecordKind::kInvalidated) continue;
    for (uint32_t j : witnesses) {
      const Record* other = nodes_[j].peek(name);
      if (other != nullptr && other->version > held->version)
        gap_checker_.on_gap(i, key, held->version, j, other->version);
    }
  }
}

void Simulation::watch_staleness(uint32_t writer, uint32_t key, const Version& v) {
  StaleWatch w{key, v, now_, {}};
  for (uint32_t j = 0; j < nodes_.size(); ++j) {
    if (j != writer && serves_older(j, key, v)) w.nodes.push_back(j);
  }
  if (w.nodes.empty()) {
    kv_checker_.latency().staleness.push_back(Duration(0));
  } else {
    stale_watches_.push_back(std::move(w));
  }
}

void Simulation::update_stale_watches(uint32_t i) {
  for (auto it = stale_watches_.begin(); it != stale_watches_.end();) {
    std::erase_if(it->nodes,
                  [&](uint32_t j) { return j == i && !serves_older(j, it->key, it->version); });
    if (it->nodes.empty()) {
      kv_checker_.latency().staleness.push_back(now_ - it->acked);
      it = stale_watches_.erase(it);
    } else {
      ++it;
    }
  }
}

void Simulation::start_convergence_round() {
  round_ = Round::kRunning;
  round_lowest_clock_us_ = lowest_running_clock_us();
  trace_.note(now_, "key-value convergence round");
  for (uint32_t k = 0; k < config_.workload.keys; ++k) {
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      SimNode& n = nodes_[i];
      if (n.status != NodeStatus::kUp) continue;
      const uint64_t request = next_request_++;
      pending_ops_[request] = PendingOp{i, k, ClientOp::kGet, now_, 0, 0, true};
      round_outstanding_++;
      submit(i, request);
    }
  }
  if (round_outstanding_ == 0) finish_convergence_round();
}

void Simulation::finish_convergence_round() {
  round_ = Round::kDone;
  for (uint32_t k = 0; k < config_.workload.keys; ++k) {
    const WriteRecord* top = kv_checker_.highest(k);
    bool held = false;
    for (uint32_t i = 0; top != nullptr && i < nodes_.size(); ++i) {
      if (nodes_[i].status != NodeStatus::kUp) continue;
      const Record* r = nodes_[i].peek(kernel_key(k));
      held = held ||
             (r != nullptr && r->kind != RecordKind::kInvalidated && r->version == top->version);
    }
    note_expiry_clocks(round_lowest_clock_us_);
    kv_checker_.check_convergence(now_, k, round_answers_[k], held);
    if (top != nullptr)
      kv_checker_.check_survival(now_, k, held, nodes_[top->node].status == NodeStatus::kUp);
  }
  std::vector<bool> up(nodes_.size());
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    up[i] = nodes_[i].status == NodeStatus::kUp;
  watch_checker_.check(now_, kv_checker_, up, round_lowest_clock_us_);
  kv_counts_.converged = kv_checker_.violations().empty();
}

Percentiles percentiles(std::vector<Duration> v) {
  Percentiles p;
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const size_t idx =
        std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    return static_cast<double>(v[idx].count()) / 1000.0;
  };
  p.p50_ms = at(0.50);
  p.p99_ms = at(0.99);
  return p;
}

KvResult Simulation::kv_result() const {
  KvResult r = kv_counts_;
  r.enabled = config_.workload.enabled;
  r.durable_writes = durable_writes_;
  const LatencySamples& l = kv_checker_.latency();
  r.get_local = percentiles(l.get_local);
  r.get_remote = percentiles(l.get_remote);
  r.get_404 = percentiles(l.get_404);
  r.put = percentiles(l.put);
  r.staleness = percentiles(l.staleness);
  r.stale_unresolved = stale_watches_.size();
  r.samples = l;
  return r;
}

uint32_t Simulation::writer_index(const Version& v) const {
  for (uint32_t j = 0; j < nodes_.size(); ++j) {
    if (node_id(nodes_[j].name) == v.node) return j;
  }
  return UINT32_MAX;
}

void Simulation::note_cas_view(uint32_t i, const PendingOp& op, const Reply& r) {
  CasView& v = cas_views_[{i, op.key}];
  switch (r.status) {
    case ReplyStatus::kOk:
      v.seen = true;
      v.value = op.op == ClientOp::kDelete ? Version{} : r.version;
      break;
    case ReplyStatus::kNotFound:
      v.seen = true;
      v.value = Version{};
      break;
    case ReplyStatus::kPreconditionFailed:
      v.seen = true;
      v.value = r.version;  // the current value's, or zero
      break;
    default:
      break;
  }
}

void Simulation::on_cas_refusal(uint32_t i, const PendingOp& op, const Reply& r) {
  CasCounts& counts = cas_checker_.counts();
  if (op.loop) on_loop_reply(i, op);
  if (r.status == ReplyStatus::kPreconditionFailed) {
    counts.precondition_failed++;
    return;
  }
  kv_counts_.errors++;
  // Whatever the error, the owner may have made the write (its answer was lost, or the
  // asker's own commit failed after the owner's).
  cas_maybe_[op.key].push_back(op);
  if (r.status == ReplyStatus::kError && r.code == ErrorCode::kUnavailable) {
    counts.unavailable++;  // undecided, or the owner did not answer in time
    return;
  }
  // The owner makes the write: its bound (and own writes) may refuse it.
  if (op.refused_by_bound ||
      (r.code == ErrorCode::kNoSpace && config_.node.kv.max_data_bytes != 0)) {
    return;
  }
  // The owner's store may have failed it.
  for (uint32_t j = 0; j < nodes_.size(); ++j) {
    if (disk_failing(j) || nodes_[j].disk_failed_last >= op.started) return;
  }
  kv_checker_.on_error(now_, i, disk_failing(i) || nodes_[i].disk_failed_last >= op.started,
                       r.error);
}

void Simulation::register_maybe_written(uint32_t key, const Reply& r) {
  if (r.version.is_zero() || kv_checker_.knows(r.version)) return;
  const bool value = r.status == ReplyStatus::kOk;
  // A conditional write in flight: its owner made it, its answer is on the way.
  for (const auto& [request, op] : pending_ops_) {
    if (!op.condition || op.key != key || (op.op == ClientOp::kPut) != value) continue;
    if (value && r.value != value_for(op.op_id, op.bytes)) continue;
    const uint32_t writer = writer_index(r.version);
    if (writer >= nodes_.size()) return;
    kv_checker_.on_unacknowledged_write(
        WriteRecord{key, r.version, !value, op.op_id, op.bytes, writer, now_});
    return;
  }
  auto it = cas_maybe_.find(key);
  if (it == cas_maybe_.end()) return;
  std::vector<PendingOp>& maybe = it->second;
  for (auto op = maybe.begin(); op != maybe.end(); ++op) {
    if ((op->op == ClientOp::kPut) != value) continue;
    if (value && r.value != value_for(op->op_id, op->bytes)) continue;
    const uint32_t writer = writer_index(r.version);
    if (writer >= nodes_.size()) return;
    WriteRecord w{key, r.version, !value, op->op_id, op->bytes, writer, now_};
    kv_checker_.on_unacknowledged_write(w);
    maybe.erase(op);
    return;
  }
}

void Simulation::on_list_reply(uint32_t i, const PendingOp& op, const Reply& r) {
  if (r.status == ReplyStatus::kOk) {
    kv_counts_.ok++;
  } else {
    kv_counts_.errors++;
    // As a get's: only a failed batch its answer rode with excuses an error.
    kv_checker_.on_error(now_, i, nodes_[i].commit_failed_last >= op.started, r.error);
    return;
  }
  // Every value shown is the one its version wrote, with its content type, current or not.
  if (lists_values(op.op_id)) {
    for (const ListedKey& k : r.keys) {
      const uint32_t key = key_index(k.key);
      if (key >= config_.workload.keys) continue;  // reported below
      Reply shown{0, ClientOp::kGet, ReplyStatus::kOk, k.version, k.value};
      register_maybe_written(key, shown);
      kv_checker_.on_listed_value(now_, i, key, k);
    }
  }
  if (!r.current) {
    kv_counts_.lists_not_current++;
    return;
  }
  for (const ListedKey& k : r.keys) {
    if (key_index(k.key) >= config_.workload.keys) {
      kv_checker_.report(now_, "listings name written keys",
                         "n" + std::to_string(i) + " listed key " + k.key + ", never written");
    }
  }
  if (!op.joined) return;
  kv_checker_.on_list(now_, i, op.acked_before, r, op.heard, op.touched);
}

}  // namespace ckv::sim
