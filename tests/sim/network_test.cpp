#include "sim/network.h"

#include <gtest/gtest.h>

namespace ckv::sim {
namespace {

using namespace std::chrono_literals;

NetworkProfile clean() {
  NetworkProfile p;
  p.latency_min = 1ms;
  p.latency_max = 2ms;
  return p;
}

TEST(Network, DeliversWithinTheBaseLatency) {
  Network net(4, clean(), 1);
  const MonoTime t{};
  for (int i = 0; i < 100; ++i) {
    auto r = net.route(t, 0, 1, Channel::kDatagram);
    ASSERT_EQ(r.copies, 1);
    EXPECT_GE(r.at[0], t + 1ms);
    EXPECT_LE(r.at[0], t + 2ms);
  }
}

TEST(Network, LosesAndDuplicatesDatagramsAtTheirRates) {
  NetworkProfile p = clean();
  p.loss = 0.3;
  p.duplication = 0.1;
  Network net(2, p, 2);
  int lost = 0, doubled = 0;
  for (int i = 0; i < 10000; ++i) {
    auto r = net.route({}, 0, 1, Channel::kDatagram);
    lost += r.dropped == DropReason::kLoss;
    doubled += r.copies == 2;
  }
  EXPECT_NEAR(lost / 10000.0, 0.3, 0.02);
  EXPECT_NEAR(doubled / 7000.0, 0.1, 0.02);
}

TEST(Network, StreamsAreNeitherLostNorReordered) {
  NetworkProfile p = clean();
  p.loss = 0.9;
  p.latency_max = 50ms;
  Network net(2, p, 3);
  MonoTime last{};
  for (int i = 0; i < 1000; ++i) {
    auto r = net.route(MonoTime{} + Duration(i), 0, 1, Channel::kStream);
    ASSERT_EQ(r.copies, 1);
    EXPECT_GE(r.at[0], last);
    last = r.at[0];
  }
}

TEST(Network, PartitionsCutTrafficByShape) {
  Network net(10, clean(), 4);
  net.start_partition(PartitionShape::kIsolateOne, 99, 3);
  EXPECT_TRUE(net.blocked(3, 4));
  EXPECT_TRUE(net.blocked(4, 3));
  EXPECT_FALSE(net.blocked(4, 5));
  EXPECT_EQ(net.route({}, 3, 4, Channel::kStream).dropped, DropReason::kPartition);

  net.start_partition(PartitionShape::kAsymmetric, 99, 3);
  EXPECT_TRUE(net.blocked(3, 4) || net.side(4) == 1);
  int one_way = 0;
  for (uint32_t i = 0; i < 10; ++i) {
    if (net.side(i) == 0) {
      EXPECT_FALSE(net.blocked(i, 3));  // the rest can still reach the group
      EXPECT_TRUE(net.blocked(3, i));
      ++one_way;
    }
  }
  EXPECT_GT(one_way, 0);

  net.start_partition(PartitionShape::kSplitHalves, 7, 0);
  int side1 = 0;
  for (uint32_t i = 0; i < 10; ++i)
    side1 += net.side(i);
  EXPECT_EQ(side1, 5);
  net.heal_partition();
  EXPECT_FALSE(net.partitioned());
  for (uint32_t i = 0; i < 10; ++i)
    EXPECT_FALSE(net.blocked(0, i));
}

TEST(Network, ClogHoldsASendersTrafficUntilItClears) {
  Network net(2, clean(), 5);
  net.clog(0, MonoTime{} + 3s);
  auto r = net.route({}, 0, 1, Channel::kDatagram);
  ASSERT_EQ(r.copies, 1);
  EXPECT_GE(r.at[0], MonoTime{} + 3s);
  auto back = net.route({}, 1, 0, Channel::kDatagram);
  EXPECT_LT(back.at[0], MonoTime{} + 3s);
}

}  // namespace
}  // namespace ckv::sim
