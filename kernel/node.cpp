#include "kernel/node.h"

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
  return {};
}

Result<std::unique_ptr<Node>> Node::create(const NodeConfig& config, std::string name,
                                           Address address, uint64_t seed, Now start) {
  if (name.empty() || name.size() > wire::kMaxNameBytes) {
    return Error{ErrorCode::kInvalidArgument, "node name must have 1 to 255 bytes"};
  }
  if (Status s = validate(config); !s.ok()) return s.error();
  return std::unique_ptr<Node>(new Node(config, std::move(name), address, seed, start));
}

Node::Node(const NodeConfig& config, std::string name, Address address, uint64_t seed, Now start)
    : config_(config),
      membership_(config.membership, std::move(name), address, seed, start.mono, outbox_, stats_) {}

void Node::on_message(Now now, const Address& from, Channel channel,
                      std::span<const uint8_t> bytes) {
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
    stats_.decode_errors++;
    stats_.decode_errors_by_code[static_cast<size_t>(s.error().code)]++;
    return;
  }
  for (wire::Message& m : decoded_) {
    membership_.handle(now.mono, from, channel, std::move(m));
  }
  decoded_.clear();
  // A big packet once must not cost memory for good: keep room for a typical one only.
  if (decoded_.capacity() > kDecodedKeep) std::vector<wire::Message>().swap(decoded_);
}

}  // namespace ckv
