#include "runtime/node_driver.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>

#include "tests/runtime/temp_dir.h"

namespace ckv {
namespace {

using std::chrono::milliseconds;

constexpr uint32_t kLoopback = 0x7f000001;

// Group commit's rule, seen from outside: a write's reply leaves only once the write is in
// RocksDB, where anyone reading the RocksStore directly (the HTTP threads' local hits) and
// a restarted process find it. Twenty writes posted together run in one strand burst, so
// they are staged together; each reply handler reads the RocksStore, bypassing the stage.
TEST(NodeDriver, AWriteIsInRocksDbBeforeItsReplyLeaves) {
  TempDir tmp;
  auto store = RocksStore::open({tmp.sub("data")});
  ASSERT_TRUE(store.ok()) << store.error().detail;
  boost::asio::io_context io;
  DriverConfig config;
  config.name = "solo";
  config.bind = config.advertise = Address{kLoopback, 27971};
  config.cluster_tag = cluster_tag("node-driver-test");
  auto driver = NodeDriver::start(io, config, **store);
  ASSERT_TRUE(driver.ok()) << driver.error().detail;

  constexpr int kWrites = 20;
  int replies = 0, ok = 0, found_in_rocksdb = 0;
  for (int i = 0; i < kWrites; ++i) {
    const std::string key = "k" + std::to_string(i), value = "v" + std::to_string(i);
    (*driver)->put(key, value, [&, key, value](Reply r) {
      replies++;
      ok += r.status == ReplyStatus::kOk;
      Record record;
      Result<bool> found = (*store)->get(key, record);
      found_in_rocksdb += found.ok() && found.value() && record.value == value;
    });
  }
  for (int i = 0; i < 400 && replies < kWrites; ++i)
    io.run_for(milliseconds(5));
  EXPECT_EQ(replies, kWrites);
  EXPECT_EQ(ok, kWrites);
  EXPECT_EQ(found_in_rocksdb, kWrites) << "a reply left before its write was committed";

  bool stopped = false;
  (*driver)->shutdown(milliseconds(100), [&] { stopped = true; });
  for (int i = 0; i < 200 && !stopped; ++i)
    io.run_for(milliseconds(5));
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace ckv
