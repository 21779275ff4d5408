#include "kernel/membership/broadcast_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ckv {
namespace {

std::vector<uint8_t> frame(uint8_t tag, size_t size) {
  return std::vector<uint8_t>(size, tag);
}

// The tags of the frames appended to an empty packet.
std::vector<uint8_t> take(BroadcastQueue& q, size_t budget, int limit, size_t frame_size) {
  std::vector<uint8_t> packet;
  q.fill(packet, budget, limit);
  std::vector<uint8_t> tags;
  for (size_t i = 0; i < packet.size(); i += frame_size)
    tags.push_back(packet[i]);
  return tags;
}

TEST(BroadcastQueue, NewerNewsAboutASubjectReplacesOlder) {
  BroadcastQueue q;
  q.push("a", frame(1, 10));
  q.push("b", frame(2, 10));
  q.push("a", frame(3, 10));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(take(q, 100, 5, 10), (std::vector<uint8_t>{3, 2}));
}

TEST(BroadcastQueue, SendsFewestTransmittedFirstThenNewest) {
  BroadcastQueue q;
  q.push("a", frame(1, 10));
  q.push("b", frame(2, 10));
  EXPECT_EQ(take(q, 11, 5, 10), (std::vector<uint8_t>{2}));  // newest of the unsent
  EXPECT_EQ(take(q, 11, 5, 10), (std::vector<uint8_t>{1}));  // a has fewer transmissions
  q.push("c", frame(3, 10));
  EXPECT_EQ(take(q, 31, 5, 10), (std::vector<uint8_t>{3, 2, 1}));
}

TEST(BroadcastQueue, DropsNewsAfterItsTransmitLimit) {
  BroadcastQueue q;
  q.push("a", frame(1, 10));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(q.pending("a"));
    EXPECT_EQ(take(q, 100, 3, 10).size(), 1u);
  }
  EXPECT_FALSE(q.pending("a"));
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(take(q, 100, 3, 10).empty());
}

TEST(BroadcastQueue, DropsNewsTooBigForAnyPacket) {
  BroadcastQueue q;
  q.push("huge", frame(1, 100));
  q.push("small", frame(2, 8));
  std::vector<uint8_t> packet(1, 0);  // a version byte
  EXPECT_EQ(q.fill(packet, 100, 5), 1u);
  EXPECT_FALSE(q.pending("huge"));
  EXPECT_TRUE(q.pending("small"));
}

TEST(BroadcastQueue, StaysWithinBudgetAndSkipsWhatDoesNotFit) {
  BroadcastQueue q;
  q.push("big", frame(1, 50));
  q.push("small", frame(2, 8));
  std::vector<uint8_t> packet(30, 0);  // 30 bytes already used
  EXPECT_EQ(q.fill(packet, 40, 5), 1u);
  EXPECT_EQ(packet.size(), 38u);
  EXPECT_EQ(packet[30], 2);
  EXPECT_TRUE(q.pending("big"));
}

}  // namespace
}  // namespace ckv
