// Simulation, group commit: each node's output goes through its CommitGate as the
// runtime's does (kernel/commit_gate.h); here the commits take simulated time, stall on
// slow disks, and fail (their requests answered with errors) when the store refuses them.
#include <set>

#include "sim/simulation.h"

namespace ckv::sim {

void Simulation::schedule_commit(uint32_t i) {
  SimNode& n = nodes_[i];
  if (n.commit_scheduled || n.committing || !n.gate->commit_due()) return;
  // Behind every event already due now, as the runtime posts its commit behind the
  // inputs already queued on its strand: inputs that arrive together commit together.
  n.commit_scheduled = true;
  push_for_process(now_, EventKind::kCommit, i);
}

Duration Simulation::commit_latency(uint32_t i) const {
  const SimNode& n = nodes_[i];
  return n.slow_disk_until > now_ ? std::max(n.slow_disk_lag, commit_latency_) : commit_latency_;
}

void Simulation::start_commit(uint32_t i) {
  SimNode& n = nodes_[i];
  n.commit_scheduled = false;
  if (!n.running() || n.committing) return;
  if (n.paused_until > now_) {  // a paused process commits once it resumes
    n.commit_scheduled = true;
    push_for_process(n.paused_until, EventKind::kCommit, i);
    return;
  }
  const size_t writes = n.gate->staged_writes();
  // Conditional writes this node made as an owner, known from now on (see note_decided).
  std::vector<std::pair<uint32_t, Record>> decided = decided_writes(i);
  if (Status s = n.gate->commit(n.committed); !s.ok()) {
    // As the runtime does: the batch's requests are answered with the store's error, and
    // the node forgets what it did on the strength of writes that were not stored.
    trace_.note(now_, n.name + "'s store failed a batch of " + std::to_string(writes) +
                          " writes (" + s.error().detail + "): their requests fail");
    n.commit_failed_last = now_;
    perform(i, n.committed);
    n.kernel->on_commit_failed(now_for(i));
    drain(i);
    return;
  }
  for (auto& [key, record] : decided)
    note_decided(i, key, record);
  if (writes == 0) {  // only batched datagrams: nothing to write
    perform(i, n.committed);
    return;
  }
  n.committing = true;
  n.commits++;
  n.commit_started = now_;
  n.commit_done_at = now_ + commit_latency(i);
  push_for_process(n.commit_done_at, EventKind::kCommitDone, i, n.commits);
}

void Simulation::finish_commit(uint32_t i) {
  SimNode& n = nodes_[i];
  if (!n.running() || !n.committing) return;
  if (n.paused_until > now_) {
    // Written, but the process tells nobody before it resumes (begin_quiet may end the
    // pause early: it then finishes the commit).
    n.commit_done_at = n.paused_until;
    push_for_process(n.commit_done_at, EventKind::kCommitDone, i, n.commits);
    return;
  }
  if (config_.node.kv.max_data_bytes != 0) check_data_bound(i);
  n.committing = false;
  n.commit_started = n.commit_done_at = kNever;
  perform(i, n.committed);
  // Then what waited for the process, in the order it came: messages and client requests
  // (its inbox), and timers.
  schedule_inbox(i);
  schedule_timer(i);
  schedule_commit(i);
}

uint64_t Simulation::own_value_bytes(uint32_t i, std::string_view except) {
  SimNode& n = nodes_[i];
  const uint64_t self = node_id(n.name);
  uint64_t bytes = 0;
  (void)n.gate->store().for_each([&](std::string_view key, const Record& r) {
    if (r.kind == RecordKind::kValue && r.version.node == self && key != except)
      bytes += r.value.size();
    return true;
  });
  return bytes;
}

bool Simulation::older_than_horizon(uint32_t i, const Version& v) const {
  const int64_t horizon = config_.node.kv.tombstone_horizon.count();
  return horizon > 0 &&
         v.wall_us + static_cast<uint64_t>(horizon) <= nodes_[i].kernel->kv().expiry_clock_us();
}

void Simulation::check_data_bound(uint32_t i) {
  SimNode& n = nodes_[i];
  const uint64_t self = node_id(n.name);
  std::set<uint64_t> active;  // writers whose copies may be evicted
  for (const Member& m : n.kernel->members()) {
    if (m.active()) active.insert(node_id(m.name.view()));
  }
  uint64_t bytes = 0;
  std::string evictable;  // a copy it could have evicted
  std::string evicted_own;
  (void)n.store->for_each([&](std::string_view key, const Record& r) {
    if (r.kind == RecordKind::kValue) bytes += r.value.size();
    if (r.kind == RecordKind::kValue && r.version.node != self && active.contains(r.version.node))
      evictable = std::string(key);
    // A marker of its own version: only eviction makes one (a lossy store may lose an own
    // write and learn its version back, so only durable stores are held to it; and once
    // the horizon has passed, a read may learn back the version of its own tombstone it
    // collected, from a node that still has a marker of it, as after it dropped its old
    // records when it came back from a long absence).
    if (r.kind == RecordKind::kInvalidated && r.version.node == self && durable_writes_ &&
        !older_than_horizon(i, r.version) &&
        r.version.wall_us >= n.kernel->kv().last_absence_cutoff_us())
      evicted_own = std::string(key) + " at " + to_string(r.version);
    return true;
  });
  if (!evicted_own.empty()) {
    kv_checker_.report(now_, "eviction never removes a node's own write",
                       n.name + " holds only a marker of its own write of " + evicted_own);
  }
  // Over the bound only with nothing left to evict: own writes, and copies of writers
  // that are not active members (they may be the last copy). Evictions go with the writes
  // that call for them; while the store refuses writes they wait for the next it takes.
  if (bytes > config_.node.kv.max_data_bytes && !evictable.empty() && !disk_failing(i) &&
      n.disk_failed_last < n.commit_started) {
    kv_checker_.report(now_, "values stay within the bound",
                       n.name + " holds " + std::to_string(bytes) + " bytes of values, over its " +
                           std::to_string(config_.node.kv.max_data_bytes) +
                           "-byte bound, and could evict its copy of " + evictable);
  }
}

std::vector<std::pair<uint32_t, Record>> Simulation::decided_writes(uint32_t i) const {
  std::vector<std::pair<uint32_t, Record>> out;
  const SimNode& n = nodes_[i];
  const uint64_t self = node_id(n.name);
  for (uint32_t key = first_cas_key(config_.workload); key < config_.workload.keys; ++key) {
    const Record* r = nullptr;
    if (n.gate->staged_store().staged(kernel_key(key), &r) && r != nullptr &&
        r->kind != RecordKind::kInvalidated && r->version.node == self &&
        !kv_checker_.knows(r->version)) {
      out.emplace_back(key, *r);
    }
  }
  return out;
}

void Simulation::note_decided(uint32_t i, uint32_t key, const Record& r) {
  const bool value = r.kind == RecordKind::kValue;
  auto matches = [&](const PendingOp& op) {
    return op.condition && op.key == key && (op.op == ClientOp::kPut) == value &&
           (!value || r.value == value_for(op.op_id, op.bytes));
  };
  const PendingOp* made = nullptr;
  for (const auto& [request, op] : pending_ops_) {
    if (matches(op)) {
      made = &op;
      break;
    }
  }
  if (made == nullptr) {
    for (const PendingOp& op : cas_maybe_[key]) {
      if (matches(op)) {
        made = &op;
        break;
      }
    }
  }
  if (made == nullptr) return;  // an unconditional write: its reply comes with this commit
  WriteRecord w{key, r.version, !value, made->op_id, made->bytes, i, now_};
  w.expires_us = r.expires_us;
  w.asker = made->node;
  kv_checker_.on_unacknowledged_write(w);
}

void Simulation::note_unacknowledged_writes(uint32_t i) {
  for (const Reply& r : nodes_[i].committed.replies) {
    auto it = pending_ops_.find(r.request);
    if (it == pending_ops_.end() || it->second.op == ClientOp::kGet ||
        it->second.op == ClientOp::kList || r.status != ReplyStatus::kOk) {
      continue;
    }
    const PendingOp& op = it->second;
    const uint32_t owner = op.condition ? writer_index(r.version) : i;
    const uint32_t writer = owner < nodes_.size() ? owner : i;
    WriteRecord w{op.key,   r.version, op.op == ClientOp::kDelete, op.op_id,
                  op.bytes, writer,    nodes_[i].commit_started};
    w.expires_us = r.expires_us;
    kv_checker_.on_unacknowledged_write(w);
  }
}

}  // namespace ckv::sim
