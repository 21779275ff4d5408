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

// The caller's part for a packet the batcher does not take: it is sent at once.
void offer(DatagramBatcher& b, const Address& to, std::vector<uint8_t> packet,
           std::vector<Sent>& sent_now) {
  const std::vector<uint8_t> copy = packet;
  if (b.add(to, packet)) return;
  EXPECT_EQ(packet, copy) << "a packet not taken is left as it was";
  sent_now.push_back(Sent{to, std::move(packet)});
}

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
  std::vector<Sent> sent_now;
  std::vector<std::vector<uint8_t>> added;
  for (const auto& [peer, messages] : packets) {
    Address to{0x0a000001u + peer, 7946};
    std::vector<uint8_t> packet = encode_packet(messages);
    added.push_back(packet);
    auto& list = expected[stream_of(to, messages)];
    list.insert(list.end(), messages.begin(), messages.end());
    offer(batcher, to, std::move(packet), sent_now);
  }
  RC_ASSERT(batcher.size() + sent_now.size() <= packets.size());
  std::vector<Sent> sent = drain(batcher);
  sent.insert(sent.end(), sent_now.begin(), sent_now.end());
  std::map<std::pair<uint64_t, bool>, std::vector<Message>> received;
  for (Sent& s : sent) {
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
  std::vector<Sent> now;
  for (uint32_t i = 0; i < 10; ++i) {
    offer(batcher, a, query(i), now);
    offer(batcher, b, encode_packet(std::vector<Message>{InvalidateAck{"n", 1, i}}), now);
  }
  EXPECT_TRUE(now.empty());
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].to, a);
  EXPECT_EQ(frames_in(sent[0].bytes), 10u);
  EXPECT_EQ(frames_in(sent[1].bytes), 10u);
}

TEST(DatagramBatcher, MembershipPacketsAreNotTaken) {
  DatagramBatcher batcher(1400, 255);
  Address a{0x0a000001, 1};
  const std::vector<uint8_t> ping = encode_packet(std::vector<Message>{Ping{1, "x"}});
  const std::vector<uint8_t> ack = encode_packet(std::vector<Message>{Ack{1}});
  std::vector<Sent> now;
  offer(batcher, a, query(1), now);
  offer(batcher, a, ping, now);
  offer(batcher, a, ack, now);
  offer(batcher, a, query(2), now);  // joins the first query
  ASSERT_EQ(now.size(), 2u);         // the probe and the ack go at once, alone
  EXPECT_EQ(now[0].bytes, ping);
  EXPECT_EQ(now[1].bytes, ack);
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(frames_in(sent[0].bytes), 2u);
}

TEST(DatagramBatcher, ABurstOverTheBudgetTakesSeveralDatagrams) {
  DatagramBatcher batcher(100, 255);
  Address a{0x0a000001, 1};
  const size_t each = query(1, std::string(20, 'k')).size();
  std::vector<Sent> now;
  for (uint64_t i = 0; i < 5; ++i)
    offer(batcher, a, query(i, std::string(20, 'k')), now);
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
  std::vector<Sent> now;
  for (uint64_t i = 0; i < 7; ++i)
    offer(batcher, a, query(i), now);
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(frames_in(sent[0].bytes), 3u);
  EXPECT_EQ(frames_in(sent[2].bytes), 1u);
}

TEST(DatagramBatcher, AnOversizedPacketTravelsAloneAndUnchanged) {
  DatagramBatcher batcher(64, 255);
  Address a{0x0a000001, 1};
  std::vector<uint8_t> big = query(9, std::string(200, 'k'));
  std::vector<Sent> now;
  offer(batcher, a, query(1), now);
  offer(batcher, a, big, now);
  offer(batcher, a, query(2), now);
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].bytes, big);
}

TEST(DatagramBatcher, AMalformedPacketIsNotTaken) {
  DatagramBatcher batcher(1400, 255);
  Address a{0x0a000001, 1};
  std::vector<Sent> now;
  offer(batcher, a, query(1), now);
  std::vector<uint8_t> junk{kWireVersion, 0xff, 0x09};  // a frame longer than its packet
  offer(batcher, a, junk, now);
  offer(batcher, a, query(2), now);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].bytes, junk);
  std::vector<Sent> sent = drain(batcher);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(frames_in(sent[0].bytes), 2u);
}

}  // namespace
}  // namespace ckv::wire
