#include "kernel/record/node_host.h"

#include "kernel/core/assert.h"

namespace ckv {

namespace {

Store& store_for(Store& durable, record::Writer* recording,
                 std::unique_ptr<record::RecordingStore>& wrapper) {
  if (recording == nullptr) return durable;
  wrapper = std::make_unique<record::RecordingStore>(durable, *recording);
  return *wrapper;
}

void sizes_of(const Effects& e, size_t out[4]) {
  out[0] = e.changes.size();
  out[1] = e.sends.size();
  out[2] = e.replies.size();
  out[3] = e.events.size();
}

}  // namespace

NodeHost::NodeHost(Store& durable, const MembershipConfig& membership, record::Writer* recording)
    : recording_(recording),
      gate_(std::make_unique<CommitGate>(store_for(durable, recording, recording_store_),
                                         membership.datagram_budget,
                                         membership.max_datagram_frames)) {}

Status NodeHost::create(const record::StartInfo& info, std::optional<Error> store_refuses) {
  if (recording_) {
    recording_->start(info);
    if (store_refuses) recording_->store_refuses(*store_refuses);
  }
  if (store_refuses) gate_->store_refuses_writes(std::move(*store_refuses));
  auto node =
      Node::create(info.config, info.name, info.address, info.seed, info.start, gate_->store());
  if (!node) return node.error();
  node_ = std::move(*node);
  return Status{};
}

void NodeHost::join(Now now, std::span<const Address> seeds) {
  if (recording_) recording_->join(now, seeds);
  node_->join(now, seeds);
}

void NodeHost::leave(Now now) {
  if (recording_) recording_->leave(now);
  node_->leave(now);
}

Status NodeHost::set_tags(Now now, wire::Tags tags) {
  if (recording_) recording_->set_tags(now, tags);
  return node_->set_tags(now, std::move(tags));
}

Status NodeHost::force_leave(Now now, std::string_view member) {
  if (recording_) recording_->force_leave(now, member);
  return node_->force_leave(now, member);
}

void NodeHost::on_message(Now now, const Address& from, Channel channel,
                          std::span<const uint8_t> bytes) {
  if (recording_) recording_->message(now, from, channel, bytes);
  node_->on_message(now, from, channel, bytes);
}

void NodeHost::on_timer(Now now) {
  if (recording_) recording_->timer(now);
  node_->on_timer(now);
}

void NodeHost::on_commit_failed(Now now) {
  if (recording_) recording_->commit_failed(now);
  node_->on_commit_failed(now);
}

void NodeHost::get(Now now, uint64_t request, std::string_view key,
                   std::optional<Duration> timeout) {
  if (recording_) recording_->get(now, request, key, timeout);
  node_->get(now, request, key, timeout);
}

void NodeHost::put(Now now, uint64_t request, std::string_view key, std::string value,
                   std::optional<Duration> ttl, ContentType content) {
  if (recording_) recording_->put(now, request, key, value, ttl, content);
  node_->put(now, request, key, std::move(value), ttl, std::move(content));
}

void NodeHost::erase(Now now, uint64_t request, std::string_view key) {
  if (recording_) recording_->erase(now, request, key);
  node_->erase(now, request, key);
}

void NodeHost::watch(std::string_view prefix) {
  if (recording_) recording_->watch(prefix, true);
  node_->watch(prefix);
}

void NodeHost::unwatch(std::string_view prefix) {
  if (recording_) recording_->watch(prefix, false);
  node_->unwatch(prefix);
}

void NodeHost::write_if(Now now, uint64_t request, std::string_view key, bool erase,
                        std::string value, std::optional<Duration> ttl, WriteCondition condition,
                        ContentType content) {
  if (recording_) recording_->write_if(now, request, key, erase, value, ttl, condition, content);
  node_->write_if(now, request, key, erase, std::move(value), ttl, std::move(condition),
                  std::move(content));
}

void NodeHost::list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
                    size_t limit, std::optional<Duration> timeout, bool values) {
  if (recording_) recording_->list(now, request, prefix, after, limit, timeout, values);
  node_->list(now, request, prefix, after, limit, timeout, values);
}

void NodeHost::note_local_hits(std::span<const std::string> keys) {
  if (recording_) recording_->local_hits(keys);
  node_->note_local_hits(keys);
}

void NodeHost::take(Effects& now) {
  size_t before[4];
  sizes_of(now, before);
  if (recording_) recording_->gate_op(record::Type::kTake);
  gate_->take(node_->outbox(), now);
  if (recording_) record_released(now, before);
}

Status NodeHost::commit(Effects& now) {
  size_t before[4];
  sizes_of(now, before);
  if (recording_) recording_->gate_op(record::Type::kCommit);
  Status s = gate_->commit(now);
  if (recording_) record_released(now, before);
  return s;
}

void NodeHost::record_released(const Effects& now, const size_t before[4]) {
  if (before[0] == 0 && before[1] == 0 && before[2] == 0 && before[3] == 0) {
    recording_->released(now);
    return;
  }
  Effects tail;
  tail.changes.assign(now.changes.begin() + static_cast<ptrdiff_t>(before[0]), now.changes.end());
  tail.sends.assign(now.sends.begin() + static_cast<ptrdiff_t>(before[1]), now.sends.end());
  tail.replies.assign(now.replies.begin() + static_cast<ptrdiff_t>(before[2]), now.replies.end());
  tail.events.assign(now.events.begin() + static_cast<ptrdiff_t>(before[3]), now.events.end());
  recording_->released(tail);
}

void NodeHost::release(std::unique_ptr<CommitGate>& gate, std::unique_ptr<Node>& node) {
  CKV_ASSERT(recording_ == nullptr, "a recording host keeps its kernel");
  gate = std::move(gate_);
  node = std::move(node_);
}

}  // namespace ckv
