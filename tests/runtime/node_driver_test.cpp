#include "runtime/node_driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/runtime/loopback_port.h"
#include "tests/runtime/temp_dir.h"

namespace ckv {
namespace {

using std::chrono::milliseconds;

constexpr uint32_t kLoopback = 0x7f000001;

// One node on its own (it founds a cluster), on a fresh RocksStore; the test runs `io_`.
class NodeDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = RocksStore::open({tmp_.sub("data")});
    ASSERT_TRUE(store.ok()) << store.error().detail;
    store_ = std::move(*store);
    DriverConfig config;
    config.name = "solo";
    config.bind = config.advertise = Address{kLoopback, unused_loopback_port()};
    config.cluster_tag = cluster_tag("node-driver-test");
    auto driver = NodeDriver::start(io_, config, *store_);
    ASSERT_TRUE(driver.ok()) << driver.error().detail;
    driver_ = std::move(*driver);
  }

  TempDir tmp_;
  std::unique_ptr<RocksStore> store_;
  boost::asio::io_context io_;
  std::unique_ptr<NodeDriver> driver_;
};

// Group commit's rule, seen from outside: a write's reply leaves only once the write is in
// RocksDB, where anyone reading the RocksStore directly (the HTTP threads' local hits) and
// a restarted process find it. Twenty writes posted together run in one strand burst, so
// they are staged together; each reply handler reads the RocksStore, bypassing the stage.
TEST_F(NodeDriverTest, AWriteIsInRocksDbBeforeItsReplyLeaves) {
  constexpr int kWrites = 20;
  int replies = 0, ok = 0, found_in_rocksdb = 0;
  for (int i = 0; i < kWrites; ++i) {
    const std::string key = "k" + std::to_string(i), value = "v" + std::to_string(i);
    driver_->put(key, value, std::nullopt, {}, [&, key, value](Reply r) {
      replies++;
      ok += r.status == ReplyStatus::kOk;
      Record record;
      Result<bool> found = store_->get(key, record);
      found_in_rocksdb += found.ok() && found.value() && record.value == value;
    });
  }
  for (int i = 0; i < 400 && replies < kWrites; ++i)
    io_.run_for(milliseconds(5));
  EXPECT_EQ(replies, kWrites);
  EXPECT_EQ(ok, kWrites);
  EXPECT_EQ(found_in_rocksdb, kWrites) << "a reply left before its write was committed";

  bool stopped = false;
  driver_->shutdown(milliseconds(100), [&] { stopped = true; });
  for (int i = 0; i < 200 && !stopped; ++i)
    io_.run_for(milliseconds(5));
  EXPECT_TRUE(stopped);
}

// The HTTP threads' reads beside the strand's commits, as a node runs them: readers on
// their own threads try the fast path (try_local_get: the RocksStore and its record cache,
// against the published epoch) and fall back to get() on the strand. One writer puts
// rising values 1, 2, ... to one hot key, deleting it before every eighth (so the key
// leaves the record cache and readers race to bring it back), and waits for each reply.
// Every read must return at least the value acknowledged before it began (no
// acknowledged write is missed) and nothing older than what the same reader read before
// (reads never go back in time); "not found" only where a delete could explain it.
TEST_F(NodeDriverTest, ReadsOnOtherThreadsSeeEveryAcknowledgedWriteAndNeverGoBack) {
  NodeDriver& node = *driver_;
  auto work = boost::asio::make_work_guard(io_);
  std::thread strand_thread([&] { io_.run(); });

  auto call = [](auto start) {  // runs an operation taking a ReplyHandler; waits for it
    std::promise<Reply> replied;
    std::future<Reply> reply = replied.get_future();
    start([&](Reply r) { replied.set_value(std::move(r)); });
    return reply.get();
  };
  constexpr uint64_t kWrites = 4000, kDeleteEvery = 8;
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<bool> writing{true};
  std::atomic<uint64_t> reads{0}, fast_reads{0}, violations{0};
  std::string first_violation;
  std::mutex first_violation_mu;
  // The key's states in order, as positions: the value v is 2v; "deleted before the put
  // of k" (k a multiple of kDeleteEvery) is 2k - 1; nothing yet is 0.
  auto reader = [&] {
    uint64_t last = 0;  // the position this reader last read: no later read may be before
    while (writing.load()) {
      const uint64_t floor = std::max(2 * acknowledged.load(), last);
      Reply r;
      if (node.try_local_get("hot", r)) {
        fast_reads++;
      } else {
        r = call([&](NodeDriver::ReplyHandler done) { node.get("hot", {}, std::move(done)); });
      }
      reads++;
      const uint64_t writer_at = acknowledged.load() + 1;  // its write may be in flight
      bool valid = false;
      uint64_t at = floor;
      if (r.status == ReplyStatus::kOk) {
        at = 2 * std::stoull(r.value);
        valid = at >= floor;
      } else if (r.status == ReplyStatus::kNotFound) {
        // Nothing yet, or the first delete at or after `floor`, which must have happened.
        const uint64_t k = ((floor + 2) / 2 + kDeleteEvery - 1) / kDeleteEvery * kDeleteEvery;
        at = floor == 0 ? 0 : 2 * k - 1;
        valid = floor == 0 || k <= writer_at;
      }
      if (!valid && violations++ == 0) {
        std::lock_guard lock(first_violation_mu);
        first_violation = std::string("read ") + to_string(r.status) + " \"" + r.value +
                          "\" after position " + std::to_string(floor) +
                          " (2v: the value v; 2k-1: deleted before the put of k)";
      }
      last = std::max(last, at);
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i)
    readers.emplace_back(reader);
  uint64_t failed_writes = 0;
  for (uint64_t v = 1; v <= kWrites; ++v) {
    if (v % kDeleteEvery == 0) {
      Reply erased =
          call([&](NodeDriver::ReplyHandler done) { node.erase("hot", std::move(done)); });
      failed_writes += erased.status != ReplyStatus::kOk;
    }
    Reply put = call([&](NodeDriver::ReplyHandler done) {
      node.put("hot", std::to_string(v), std::nullopt, {}, std::move(done));
    });
    failed_writes += put.status != ReplyStatus::kOk;
    acknowledged = v;
  }
  writing = false;
  for (std::thread& t : readers)
    t.join();

  std::promise<void> stopped;
  node.shutdown(milliseconds(100), [&] { stopped.set_value(); });
  stopped.get_future().wait();
  work.reset();
  io_.stop();  // the driver's own timers would keep run() going
  strand_thread.join();
  EXPECT_EQ(failed_writes, 0u);
  EXPECT_EQ(violations, 0u) << first_violation;
  EXPECT_GT(reads, kWrites / 4) << "the readers hardly ran: the test proves little";
  EXPECT_GT(fast_reads, reads / 4) << "the fast path was hardly taken";
}

}  // namespace
}  // namespace ckv
