#include "kernel/node.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "kernel/kv/mem_store.h"
#include "kernel/wire/codec.h"

namespace ckv {
namespace {

MemStore store_(true);  // the tests here never touch keys

using namespace std::chrono_literals;

const Address kSelf{0x0a000001, 7946};
const Address kPeer{0x0a000002, 7946};

TEST(Node, RejectsBadNamesAndConfigs) {
  EXPECT_FALSE(Node::create({}, "", kSelf, 1, {}, store_).ok());
  EXPECT_FALSE(Node::create({}, std::string(256, 'x'), kSelf, 1, {}, store_).ok());
  NodeConfig bad;
  bad.membership.probe_timeout = bad.membership.probe_interval;
  auto r = Node::create(bad, "a", kSelf, 1, {}, store_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Node::create({}, "a", kSelf, 1, {}, store_).ok());
}

// Whatever arrives, the node survives, counts what it could not decode, and keeps working.
// Inputs known to be malformed without asking the decoder under test: of another wire
// generation, of revision 0, empty, or cut inside a frame (a frame is type, varint length,
// body: here a length of 127 with fewer body bytes).
std::vector<uint8_t> known_bad(uint8_t kind, std::vector<uint8_t> tail) {
  switch (kind % 4) {
    case 0:  // another generation
      tail.insert(tail.begin(), static_cast<uint8_t>(0x10 | (kind & 0xF0)));
      return tail;
    case 1:  // revision 0
      tail.insert(tail.begin(), uint8_t{0x00});
      return tail;
    case 2:
      return {};
    default:  // a frame cut short
      tail.resize(std::min<size_t>(tail.size(), 126));
      tail.insert(tail.begin(), {wire::kWireVersion, 1, 127});
      return tail;
  }
}

RC_GTEST_PROP(Node, GarbageIsCountedAndHarmless,
              (std::vector<std::pair<uint8_t, std::vector<uint8_t>>> garbage)) {
  auto node = std::move(*Node::create({}, "a", kSelf, 7, {}, store_));
  for (const auto& [kind, tail] : garbage)
    node->on_message({}, kPeer, Channel::kDatagram, known_bad(kind, tail));
  RC_ASSERT(node->stats().decode_errors == garbage.size());
  node->outbox().clear();
  const wire::Message ping = wire::Ping{5, "a"};
  node->on_message({}, kPeer, Channel::kDatagram, wire::encode_packet({&ping, 1}));
  bool acked = false;
  for (const Send& s : node->outbox().sends) {
    std::vector<wire::Message> out;
    RC_ASSERT(wire::decode_packet(s.bytes, {}, out).ok());
    acked |= !out.empty() && std::holds_alternative<wire::Ack>(out[0]);
  }
  RC_ASSERT(acked);
}

TEST(Node, CountsDecodeErrorsByKind) {
  auto node = std::move(*Node::create({}, "a", kSelf, 7, {}, store_));
  const std::vector<uint8_t> old_version = {0, 3, 1, 1};
  node->on_message({}, kPeer, Channel::kDatagram, old_version);
  const std::vector<uint8_t> oversized(node->membership().members().size() + 70000, 1);
  node->on_message({}, kPeer, Channel::kDatagram, oversized);
  EXPECT_EQ(node->stats().decode_errors, 2u);
  EXPECT_EQ(
      node->stats().decode_errors_by_code[static_cast<size_t>(ErrorCode::kUnsupportedVersion)], 1u);
  EXPECT_EQ(node->stats().decode_errors_by_code[static_cast<size_t>(ErrorCode::kOversized)], 1u);
}

// A member that names itself in a key-value message but that this node has not heard of
// (its news missed us) is sent a push-pull, so the node learns the cluster's state from
// it; no more than one such every gossip interval, nor to one address every 10 s.
TEST(Node, AMemberItHasNotHeardOfIsAskedForTheClusterState) {
  MemStore store(true);
  auto node = std::move(*Node::create({}, "a", kSelf, 7, {}, store));
  node->join({}, {});  // founds a cluster of one
  auto push_pulls_to = [&](const Address& to) {
    size_t n = 0;
    for (const Send& s : node->outbox().sends) {
      std::vector<wire::Message> out;
      if (s.to == to && wire::decode_packet(s.bytes, {}, out).ok() && !out.empty()) {
        n += std::holds_alternative<wire::PushPull>(out[0]);
      }
    }
    node->outbox().clear();
    return n;
  };
  const wire::Message from_stranger = wire::InvalidateReset{"b", 1, 0};
  const std::vector<uint8_t> packet = wire::encode_packet({&from_stranger, 1});
  const Address other{0x0a000003, 7946};
  auto at = [](Duration t) { return Now{MonoTime{} + t, WallTime{}}; };
  node->on_message(at(1s), kPeer, Channel::kDatagram, packet);
  EXPECT_EQ(push_pulls_to(kPeer), 1u);
  node->on_message(at(1s + 10ms), other, Channel::kDatagram, packet);
  EXPECT_EQ(push_pulls_to(other), 0u);  // within the gossip interval of the last
  node->on_message(at(2s), kPeer, Channel::kDatagram, packet);
  EXPECT_EQ(push_pulls_to(kPeer), 0u);  // that address, within 10 s
  node->on_message(at(2s), other, Channel::kDatagram, packet);
  EXPECT_EQ(push_pulls_to(other), 1u);
  node->on_message(at(12s), kPeer, Channel::kDatagram, packet);
  EXPECT_EQ(push_pulls_to(kPeer), 1u);
  EXPECT_EQ(node->stats().stranger_contacts, 3u);
}

}  // namespace
}  // namespace ckv
