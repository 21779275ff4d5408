#include "kernel/record/config_codec.h"

#include <gtest/gtest.h>

namespace ckv::record {
namespace {

using namespace std::chrono_literals;

TEST(ConfigCodec, EveryFieldRoundTrips) {
  NodeConfig c;
  c.membership.tags = {{"role", "cache"}, {"zone", "eu-1"}};
  c.membership.probe_interval = 777ms;
  c.membership.indirect_checks = 5;
  c.membership.lifeguard = false;
  c.membership.datagram_budget = 1200;
  c.membership.max_members = 1234;
  c.kv.max_data_bytes = 99;
  c.kv.default_ttl = 3s;
  c.kv.query_timeout = 1500ms;
  c.kv.log_entries = 17;
  c.kv.stream_chunk_bytes = 4096;
  std::vector<uint8_t> bytes;
  encode_config(c, bytes);
  auto back = decode_config(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->membership, c.membership);
  EXPECT_EQ(back->kv, c.kv);
  bytes.pop_back();
  EXPECT_FALSE(decode_config(bytes).ok());
}

}  // namespace
}  // namespace ckv::record
