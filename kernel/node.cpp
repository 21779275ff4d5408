#include "kernel/node.h"

#include <algorithm>

#include "kernel/core/assert.h"
#include "kernel/membership/tags.h"
#include "kernel/wire/codec.h"

namespace ckv {

Status Node::validate(const NodeConfig& config) {
  const MembershipConfig& m = config.membership;
  auto bad = [](const char* why) { return Error{ErrorCode::kInvalidArgument, why}; };
  if (m.probe_interval <= Duration(0)) return bad("probe interval must be positive");
  if (m.probe_timeout <= Duration(0) || m.probe_timeout >= m.probe_interval) {
    return bad("probe timeout must be positive and shorter than the probe interval");
  }
  if (m.gossip_interval <= Duration(0)) return bad("gossip interval must be positive");
  if (m.push_pull_interval <= Duration(0)) return bad("push-pull interval must be positive");
  if (m.reconnect_interval <= Duration(0)) return bad("reconnect interval must be positive");
  if (m.join_retry_min <= Duration(0) || m.join_retry_max < m.join_retry_min) {
    return bad("join retry interval bounds are out of order");
  }
  if (m.indirect_checks < 0 || m.gossip_nodes < 1) return bad("fan-out counts out of range");
  if (Status s = check_tags(m.tags); !s.ok()) return s;
  if (m.suspicion_mult < 1 || m.suspicion_max_timeout_mult < 1 || m.retransmit_mult < 1 ||
      m.awareness_max_multiplier < 1) {
    return bad("multipliers must be at least 1");
  }
  // The largest frame gossip carries (a suspicion naming two 255-byte names) must fit.
  if (m.datagram_budget < 576 || m.datagram_budget > m.max_datagram_bytes) {
    return bad("datagram budget must be in 576..max_datagram_bytes");
  }
  if (m.max_datagram_frames < 1 || m.max_stream_frames < 1) {
    return bad("frame limits must be at least 1");
  }
  if (m.max_members < 1) return bad("max_members must be at least 1");
  const KvConfig& kv = config.kv;
  if (kv.max_key_bytes < 1 || kv.max_key_bytes > wire::kMaxKeyBytes) {
    return bad("max key bytes must be in 1..65536");
  }
  // The largest answer (a value and its framing) must fit a stream message.
  if (kv.max_value_bytes + kv.max_key_bytes + 1024 > m.max_stream_bytes) {
    return bad("max value bytes must leave room for framing within max_stream_bytes");
  }
  if (kv.inline_value_bytes + 1024 > m.max_datagram_bytes) {
    return bad("inline value bytes must fit a datagram");
  }
  if (kv.query_timeout < Duration(0) || kv.max_query_timeout <= Duration(0) ||
      kv.query_retry <= Duration(0) || kv.batch_delay < Duration(0) ||
      kv.resend_interval <= Duration(0)) {
    return bad("key-value timings out of range");
  }
  if (kv.log_entries < 1 || kv.log_bytes < 1 || kv.stream_chunk_bytes < 2 * wire::kMaxKeyBytes ||
      kv.stream_chunk_bytes > m.max_stream_bytes / 2 || kv.max_pending_queries < 1) {
    return bad("key-value limits out of range");
  }
  // A read in flight may still carry an answer older than what is collected: the horizon
  // must outlast every read by far.
  if (kv.tombstone_horizon < Duration(0) ||
      (kv.tombstone_horizon > Duration(0) && kv.tombstone_horizon <= 2 * kv.max_query_timeout)) {
    return bad(
        "tombstone horizon must be 0 (never collect) or more than twice the longest read "
        "timeout");
  }
  return {};
}

Result<std::unique_ptr<Node>> Node::create(const NodeConfig& config, std::string name,
                                           Address address, uint64_t seed, Now start,
                                           Store& store) {
  if (name.empty() || name.size() > wire::kMaxNameBytes) {
    return Error{ErrorCode::kInvalidArgument, "node name must have 1 to 255 bytes"};
  }
  if (Status s = validate(config); !s.ok()) return s.error();
  std::unique_ptr<Node> node(new Node(config, std::move(name), address, seed, start));
  uint64_t kv_seed = seed ^ 0x6b76'6b76'6b76'6b76ULL;  // the KV layer's own stream
  auto kv = KeyValue::open(config.kv, config.membership, node->membership_, store,
                           splitmix64(kv_seed), node->outbox_, node->stats_);
  if (!kv.ok()) return kv.error();
  node->kv_ = std::move(kv.value());
  CKV_ASSERT(node->kv_->epoch() >= 1, "the epoch is at least 1 once the node is open");
  return node;
}

void Node::forward_changes(Now now, size_t first) {
  CKV_ASSERT(first <= outbox_.changes.size(),
             "the outbox is not emptied while an input is handled");
  for (size_t i = first; i < outbox_.changes.size(); ++i) {
    kv_->on_member_change(now, outbox_.changes[i]);
  }
}

void Node::join(Now now, std::span<const Address> seeds) {
  kv_->observe(now);
  const size_t first = outbox_.changes.size();
  membership_.join(now.mono, seeds);
  forward_changes(now, first);
  kv_->settle_reads(now);
}

void Node::leave(Now now) {
  kv_->observe(now);
  const size_t first = outbox_.changes.size();
  membership_.leave(now.mono);
  forward_changes(now, first);
  kv_->settle_reads(now);
}

Status Node::force_leave(Now now, std::string_view member) {
  kv_->observe(now);
  const size_t first = outbox_.changes.size();
  Status s = membership_.force_leave(now.mono, member);
  forward_changes(now, first);
  kv_->settle_reads(now);
  return s;
}

Status Node::set_tags(Now now, wire::Tags tags) {
  kv_->observe(now);
  const size_t first = outbox_.changes.size();
  Status s = membership_.set_tags(now.mono, std::move(tags));
  forward_changes(now, first);
  kv_->settle_reads(now);
  return s;
}

void Node::on_timer(Now now) {
  kv_->observe(now);  // before membership: a member change may end a read
  const size_t first = outbox_.changes.size();
  membership_.on_timer(now.mono);
  forward_changes(now, first);
  kv_->settle_reads(now);
  kv_->on_timer(now);
}

void Node::note_local_hits(std::span<const std::string> keys) {
  kv_->note_local_hits(keys);
}

void Node::on_commit_failed(Now now) {
  kv_->on_commit_failed(now);
}

MonoTime Node::next_deadline() const {
  return std::min(membership_.next_deadline(), kv_->next_deadline());
}

void Node::get(Now now, uint64_t request, std::string_view key, std::optional<Duration> timeout) {
  kv_->get(now, request, key, timeout);
}

void Node::put(Now now, uint64_t request, std::string_view key, std::string value,
               std::optional<Duration> ttl, ContentType content) {
  kv_->put(now, request, key, std::move(value), ttl, std::move(content));
}

void Node::erase(Now now, uint64_t request, std::string_view key) {
  kv_->erase(now, request, key);
}

void Node::list(Now now, uint64_t request, std::string_view prefix, std::string_view after,
                size_t limit, std::optional<Duration> timeout, bool values) {
  kv_->list(now, request, prefix, after, limit, timeout, values);
}

void Node::write_if(Now now, uint64_t request, std::string_view key, bool erase, std::string value,
                    std::optional<Duration> ttl, WriteCondition condition, ContentType content) {
  kv_->write_if(now, request, key, erase, std::move(value), ttl, std::move(condition),
                std::move(content));
}

Node::Node(const NodeConfig& config, std::string name, Address address, uint64_t seed, Now start)
    : config_(config),
      membership_(config.membership, std::move(name), address, seed, start.mono, outbox_, stats_) {}

namespace {

// The name a key-value message gives for its sender, if it gives one.
const std::string* sender_name(const wire::Message& m) {
  return std::visit(
      [](const auto& message) -> const std::string* {
        using T = std::decay_t<decltype(message)>;
        if constexpr (std::is_same_v<T, wire::Invalidate> ||
                      std::is_same_v<T, wire::InvalidateReset> ||
                      std::is_same_v<T, wire::CollectCheck> || std::is_same_v<T, wire::CondWrite>) {
          return &message.origin;
        } else if constexpr (std::is_same_v<T, wire::InvalidateAck> ||
                             std::is_same_v<T, wire::CollectAck>) {
          return &message.member;
        } else if constexpr (std::is_same_v<T, wire::QueryReply> ||
                             std::is_same_v<T, wire::CondResult> ||
                             std::is_same_v<T, wire::ListKeysReply>) {
          return &message.responder;
        } else {
          return nullptr;
        }
      },
      m);
}

}  // namespace

void Node::on_message(Now now, const Address& from, Channel channel,
                      std::span<const uint8_t> bytes) {
  kv_->observe(now);  // before membership: a member change it brings may end a read
  const bool stream = channel == Channel::kStream;
  (stream ? stats_.streams_received : stats_.datagrams_received)++;
  stats_.bytes_received += bytes.size();
  wire::DecodeLimits limits;
  limits.max_packet_bytes =
      stream ? config_.membership.max_stream_bytes : config_.membership.max_datagram_bytes;
  limits.max_members = config_.membership.max_members;
  limits.max_frames =
      stream ? config_.membership.max_stream_frames : config_.membership.max_datagram_frames;
  if (Status s = wire::decode_packet(bytes, limits, decoded_); !s.ok()) {
    CKV_ASSERT(decoded_.empty(), "a packet that fails to decode yields no message");
    stats_.decode_errors++;
    stats_.decode_errors_by_code[static_cast<size_t>(s.error().code)]++;
    return;
  }
  // Member changes reach the key-value layer after each message, not after the packet: a
  // packet may carry gossip of a new member and then an answer that completes a read,
  // which must have asked that member.
  size_t first = outbox_.changes.size();
  for (wire::Message& m : decoded_) {
    if (wire::type_of(m) >= wire::MessageType::kInvalidate) {
      // A member that names itself but that we have not heard of yet (the news of it is
      // still spreading, or its gossip missed us): ask it for the cluster's state.
      if (const std::string* sender = sender_name(m);
          sender != nullptr && membership_.members().find(*sender) == nullptr) {
        membership_.contact_stranger(now.mono, from);
      }
      kv_->handle(now, from, channel, std::move(m));
    } else {
      membership_.handle(now.mono, from, channel, std::move(m));
      forward_changes(now, first);
      first = outbox_.changes.size();
    }
  }
  CKV_ASSERT(first == outbox_.changes.size(),
             "every member change of this packet reached the key-value layer");
  // Reads that lost a member they waited for end only now: the packet may also have
  // brought news of another member they must ask (a push-pull, or [dead, alive] gossip).
  kv_->settle_reads(now);
  decoded_.clear();
  // A big packet once must not cost memory for good: keep room for a typical one only.
  if (decoded_.capacity() > kDecodedKeep) std::vector<wire::Message>().swap(decoded_);
}

}  // namespace ckv
