#include "kernel/wire/datagram_batcher.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "kernel/wire/codec.h"
#include "tests/kernel/wire/message_gen.h"

namespace ckv::wire {
namespace {

using testing::gen_message;

std::vector<Message> decode_all(std::span<const uint8_t> bytes) {
  std::vector<Message> out;
  Status s = decode_packet(bytes, DecodeLimits{SIZE_MAX, SIZE_MAX, SIZE_MAX}, out);
  EXPECT_TRUE(s.ok()) << s.error().detail;
  return out;
}

struct Sent {
  Address to;
  std::vector<uint8_t> bytes;
};

std::vector<Sent> drain(DatagramBatcher& b) {
  std::vector<Sent> sent;
  b.drain([&sent](const Address& to, std::vector<uint8_t>&& bytes) {
    sent.push_back(Sent{to, std::move(bytes)});
  });
  return sent;
}

bool has_membership_message(const std::vector<Message>& messages) {
  return std::any_of(messages.begin(), messages.end(),
                     [](const Message& m) { return type_of(m) < MessageType::kInvalidate; });
}

// Whatever is added, each peer receives exactly the messages sent to it: the key-value
// packets' messages in the order sent, and each packet holding a membership message alone
// and unchanged, in the order sent. No datagram is over the budget or the frame limit
// unless one packet alone was.
RC_GTEST_PROP(DatagramBatcher, PeersReceiveTheSameMessagesInOrder, ()) {
  const size_t budget = *rc::gen::inRange<size_t>(64, 2000);
  const size_t max_frames = *rc::gen::inRange<size_t>(1, 8);
  const auto packets = *rc::gen::container<std::vector<std::pair<uint8_t, std::vector<Message>>>>(
      rc::gen::pair(rc::gen::inRange<uint8_t>(0, 3),
                    rc::gen::nonEmpty(rc::gen::container<std::vector<Message>>(
                        *rc::gen::inRange<size_t>(1, 4), gen_message()))));
  DatagramBatcher batcher(budget, max_frames);
  // By peer and by kind of packet (membership or not).
  auto stream_of = [](const Address& to, const std::vector<Message>& messages) {
    return std::pair{to.packed(), has_membership_message(messages)};
  };
  std::map<std::pair<uint64_t, bool>, std::vector<Message>> expected;
  std::vector<std::vector<uint8_t>> added;
  for (const auto& [peer, messages] : packets) {
    Address to{0x0a000001u + peer, 7946};
    std::vector<uint8_t> packet = encode_packet(messages);
    added.push_back(packet);
    auto& list = expected[stream_of(to, messages)];
    list.insert(list.end(), messages.begin(), messages.end());
    batcher.add(to, std::move(packet));
  }
  RC_ASSERT(batcher.size() <= packets.size());
  std::map<std::pair<uint64_t, bool>, std::vector<Message>> received;
  for (Sent& s : drain(batcher)) {
    std::vector<Message> got = decode_all(s.bytes);
    if (s.bytes.size() > budget || got.size() > max_frames || has_membership_message(got)) {
      // Only a packet over a limit, or holding membership messages, travels so: alone.
      RC_ASSERT(std::find(added.begin(), added.end(), s.bytes) != added.end());
    }
    auto& list = received[stream_of(s.to, got)];
    list.insert(list.end(), got.begin(), got.end());
  }
  RC_ASSERT(received == expected);
  RC_ASSERT(batcher.empty());
}

std::vector<uint8_t> query(uint64_t id, std::string key = "k") {
  return encode_packet(std::vector<Message>{Query{id, std::move(key)}});
}

size_t frames_in(const std::vector<uint8_t>& datagram) {
  return decode_all(datagram).size();
}

TEST(DatagramBatcher, SmallPacketsToOnePeerShareADatagram) {
  DatagramBatcher batcher(1400, 255);
  Address a{0x0a000001, 1}, b{0x0a000002, 1};
  for (uint32_t i = 0; i < 10; ++i) {
    batcher.add(a, query(i));
    batcher.add(b, encode_packet(std::vector<Message>{InvalidateAck{"n", 1, i}}));
  }
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].to, a);
  EXPECT_EQ(frames_in(sent[0].bytes), 10u);
  EXPECT_EQ(frames_in(sent[1].bytes), 10u);
}

TEST(DatagramBatcher, MembershipPacketsTravelAlone) {
  DatagramBatcher batcher(1400, 255);
  Address a{0x0a000001, 1};
  const std::vector<uint8_t> ping = encode_packet(std::vector<Message>{Ping{1, "x"}});
  const std::vector<uint8_t> ack = encode_packet(std::vector<Message>{Ack{1}});
  batcher.add(a, query(1));
  batcher.add(a, std::vector<uint8_t>(ping));
  batcher.add(a, std::vector<uint8_t>(ack));
  batcher.add(a, query(2));  // joins the first query: membership packets do not close it
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(frames_in(sent[0].bytes), 2u);
  EXPECT_EQ(sent[1].bytes, ping);
  EXPECT_EQ(sent[2].bytes, ack);
}

TEST(DatagramBatcher, ABurstOverTheBudgetTakesSeveralDatagrams) {
  DatagramBatcher batcher(100, 255);
  Address a{0x0a000001, 1};
  const size_t each = query(1, std::string(20, 'k')).size();
  for (uint64_t i = 0; i < 5; ++i)
    batcher.add(a, query(i, std::string(20, 'k')));
  std::vector<Sent> sent = drain(batcher);
  const size_t per_datagram = 1 + (100 - each) / (each - 1);  // the first, then frames only
  ASSERT_GE(per_datagram, 2u);
  EXPECT_EQ(sent.size(), (5 + per_datagram - 1) / per_datagram);
  for (const Sent& s : sent)
    EXPECT_LE(s.bytes.size(), 100u);
}

TEST(DatagramBatcher, FrameLimitStartsANewDatagram) {
  DatagramBatcher batcher(1400, 3);
  Address a{0x0a000001, 1};
  for (uint64_t i = 0; i < 7; ++i)
    batcher.add(a, query(i));
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(frames_in(sent[0].bytes), 3u);
  EXPECT_EQ(frames_in(sent[2].bytes), 1u);
}

TEST(DatagramBatcher, AnOversizedPacketTravelsAloneAndUnchanged) {
  DatagramBatcher batcher(64, 255);
  Address a{0x0a000001, 1};
  std::vector<uint8_t> big = query(9, std::string(200, 'k'));
  batcher.add(a, query(1));
  batcher.add(a, std::vector<uint8_t>(big));
  batcher.add(a, query(2));
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].bytes, big);
}

TEST(DatagramBatcher, AMalformedPacketIsNeverMerged) {
  DatagramBatcher batcher(1400, 255);
  Address a{0x0a000001, 1};
  batcher.add(a, query(1));
  std::vector<uint8_t> junk{kWireVersion, 0xff, 0x09};  // a frame longer than its packet
  batcher.add(a, std::vector<uint8_t>(junk));
  batcher.add(a, query(2));
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(frames_in(sent[0].bytes), 2u);
  EXPECT_EQ(sent[1].bytes, junk);
}

}  // namespace
}  // namespace ckv::wire
