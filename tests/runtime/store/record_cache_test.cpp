#include "runtime/store/record_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ckv {
namespace {

constexpr size_t kCapacity = 1 << 20;

Record record_of(uint64_t wall_us, std::string value = "v") {
  Record r;
  r.version = Version{wall_us, 0, 1};
  r.value = std::move(value);
  return r;
}

// A miss, then an offer of `record` with the miss's ticket.
void miss_and_offer(RecordCache& cache, std::string_view key, const Record& record) {
  Record ignored;
  uint64_t ticket;
  ASSERT_FALSE(cache.lookup(key, ignored, ticket));
  cache.offer(key, ticket, record);
}

// Two misses and offers in a row: the doorkeeper lets the record in at the second.
void fill(RecordCache& cache, std::string_view key, const Record& record) {
  miss_and_offer(cache, key, record);
  miss_and_offer(cache, key, record);
}

bool holds(RecordCache& cache, std::string_view key, Record& out) {
  uint64_t ticket;
  return cache.lookup(key, out, ticket);
}

TEST(RecordCache, ARecordOfferedTwiceIsAHit) {
  RecordCache cache(kCapacity);
  miss_and_offer(cache, "k", record_of(5, "five"));
  Record out;
  ASSERT_FALSE(holds(cache, "k", out)) << "the doorkeeper let in a key read once";
  miss_and_offer(cache, "k", record_of(5, "five"));
  ASSERT_TRUE(holds(cache, "k", out));
  EXPECT_EQ(out, record_of(5, "five"));
  EXPECT_FALSE(holds(cache, "other", out));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(RecordCache, AWriteAfterTheTicketVoidsTheOffer) {
  RecordCache cache(kCapacity);
  miss_and_offer(cache, "k", record_of(0));  // the doorkeeper now lets "k" in at its next offer
  Record out;
  uint64_t ticket;
  ASSERT_FALSE(cache.lookup("k", out, ticket));
  {
    RecordCache::Write write(cache, "k");
    write.done(nullptr);
  }
  cache.offer("k", ticket, record_of(1));  // read before the write: maybe stale
  EXPECT_FALSE(holds(cache, "k", out));
}

TEST(RecordCache, AnOfferDuringAWriteIsVoidEvenWithAnEarlierTicket) {
  // The reader may have read the store before the write reached it, and other readers
  // may already have read the new record from the store: keeping the old one now would
  // send them back in time.
  RecordCache cache(kCapacity);
  miss_and_offer(cache, "k", record_of(0));  // the doorkeeper now lets "k" in at its next offer
  Record out;
  uint64_t ticket;
  ASSERT_FALSE(cache.lookup("k", out, ticket));
  RecordCache::Write write(cache, "k");
  cache.offer("k", ticket, record_of(1));
  EXPECT_FALSE(holds(cache, "k", out));
  Record stored = record_of(2);
  write.done(&stored);
  EXPECT_FALSE(holds(cache, "k", out));
}

TEST(RecordCache, NoTicketWhileAWriteIsInFlight) {
  RecordCache cache(kCapacity);
  miss_and_offer(cache, "k", record_of(0));  // the doorkeeper now lets "k" in at its next offer
  Record out;
  uint64_t ticket = 99;
  RecordCache::Write write(cache, "k");
  ASSERT_FALSE(cache.lookup("k", out, ticket));
  EXPECT_EQ(ticket, RecordCache::kNoTicket);
  cache.offer("k", ticket, record_of(1));
  write.done(nullptr);
  EXPECT_FALSE(holds(cache, "k", out));
}

TEST(RecordCache, AFinishedWriteReplacesTheCachedRecord) {
  RecordCache cache(kCapacity);
  fill(cache, "k", record_of(1, "old"));
  Record out;
  {
    RecordCache::Write write(cache, "k");
    Record stored = record_of(2, "new");
    write.done(&stored);
  }
  ASSERT_TRUE(holds(cache, "k", out));
  EXPECT_EQ(out, record_of(2, "new"));
}

TEST(RecordCache, ACachedRecordIsNotServedWhileAWriteOfItIsInFlight) {
  // The store shows a write before the writer calls done(): a reader that missed and
  // read the store meanwhile may have the new record already, and must not be sent back
  // to the old one by its next read. The interleaving CachedReadsNeverGoBackInTime (in
  // rocks_store_test) hit: reader 1 misses; reader 2 misses and caches the old record;
  // a write begins; reader 1 reads the new record from the store; reader 1 reads again.
  RecordCache cache(kCapacity);
  miss_and_offer(cache, "k", record_of(0));  // the doorkeeper now lets "k" in at its next offer
  Record out;
  uint64_t first_ticket;
  ASSERT_FALSE(cache.lookup("k", out, first_ticket));  // reader 1
  miss_and_offer(cache, "k", record_of(1, "old"));     // reader 2
  ASSERT_TRUE(holds(cache, "k", out));
  RecordCache::Write write(cache, "k");
  const Record stored = record_of(2, "new");
  cache.offer("k", first_ticket, stored);  // reader 1 read the store: void, a write began
  uint64_t ticket = 99;
  EXPECT_FALSE(cache.lookup("k", out, ticket)) << "served " << out.value << " mid-write";
  EXPECT_EQ(ticket, RecordCache::kNoTicket);
  write.done(&stored);
  ASSERT_TRUE(holds(cache, "k", out));
  EXPECT_EQ(out, stored);
}

TEST(RecordCache, ABatchWriteReplacesOrDropsEachOfItsKeys) {
  RecordCache cache(kCapacity);
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i)  // over every shard, most of them more than once
    keys.push_back("key" + std::to_string(i));
  for (const std::string& key : keys)
    fill(cache, key, record_of(1, "old"));
  // A key of the batch not cached yet, its doorkeeper primed and its ticket taken.
  miss_and_offer(cache, "fresh", record_of(0));
  Record out;
  uint64_t ticket;
  ASSERT_FALSE(cache.lookup("fresh", out, ticket));

  std::vector<std::string_view> views(keys.begin(), keys.end());
  views.push_back("fresh");
  RecordCache::Write write(cache, views);
  cache.offer("fresh", ticket, record_of(0));  // read before the batch: void
  const Record stored = record_of(2, "new");
  std::vector<const Record*> records;
  for (size_t i = 0; i < views.size(); ++i)
    records.push_back(i % 2 == 0 ? &stored : nullptr);  // odd keys erased
  write.done(records);

  for (size_t i = 0; i < keys.size(); ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(holds(cache, keys[i], out)) << keys[i];
      EXPECT_EQ(out.value, "new");
    } else {
      EXPECT_FALSE(holds(cache, keys[i], out)) << keys[i];
    }
  }
  EXPECT_FALSE(holds(cache, "fresh", out));
  miss_and_offer(cache, "fresh", record_of(2));  // still primed; the batch is over
  EXPECT_TRUE(holds(cache, "fresh", out));
}

TEST(RecordCache, AWriteInFlightDoesNotHoldUpCachingOtherKeys) {
  // With --sync a batch is in flight for an fsync: reads of other keys still fill the
  // cache (unless a key shares a stripe with the batch's, one chance in 4096).
  RecordCache cache(kCapacity);
  RecordCache::Write write(cache, "written");
  fill(cache, "read", record_of(1));
  Record out;
  EXPECT_TRUE(holds(cache, "read", out));
  write.done(nullptr);
}

TEST(RecordCache, AWriteDoesNotAddAKey) {
  RecordCache cache(kCapacity);
  RecordCache::Write write(cache, "k");
  Record stored = record_of(2);
  write.done(&stored);
  Record out;
  EXPECT_FALSE(holds(cache, "k", out));
}

TEST(RecordCache, AnEraseOrAFailedWriteDropsTheKey) {
  RecordCache cache(kCapacity);
  fill(cache, "erased", record_of(1));
  fill(cache, "abandoned", record_of(1));
  {
    RecordCache::Write write(cache, "erased");
    write.done(nullptr);
  }
  { RecordCache::Write write(cache, "abandoned"); }  // never done: an early return
  Record out;
  EXPECT_FALSE(holds(cache, "erased", out));
  EXPECT_FALSE(holds(cache, "abandoned", out));
  EXPECT_EQ(cache.bytes(), 0u);
}

std::string key_of(int i) {  // all the same length, so all the same cost
  std::string digits = std::to_string(i);
  return "k" + std::string(3 - digits.size(), '0') + digits;
}

TEST(RecordCache, EvictsTheLeastRecentlyUsedWhenAShardIsFull) {
  // Each shard's budget holds exactly 16 of these records.
  const size_t value_bytes = 100;
  const size_t cost = RecordCache::kEntryOverhead + key_of(0).size() + value_bytes;
  RecordCache cache(16 * cost * RecordCache::kShards);
  const Record value = record_of(1, std::string(value_bytes, 'x'));
  fill(cache, key_of(0), value);
  Record out;
  for (int i = 1; i < 1000; ++i) {
    fill(cache, key_of(i), value);
    // Used after every fill, the first key is never its shard's least recently used.
    ASSERT_TRUE(holds(cache, key_of(0), out)) << "evicted after " << key_of(i);
  }
  EXPECT_LE(cache.size(), 16 * RecordCache::kShards);
  EXPECT_GE(cache.size(), 8 * RecordCache::kShards);  // std::hash spreads keys fairly
  EXPECT_EQ(cache.bytes(), cache.size() * cost);
  EXPECT_LE(cache.bytes(), cache.capacity_bytes());
}

TEST(RecordCache, RecordsTooLargeForAShardAreNotKept) {
  RecordCache cache(RecordCache::kShards * 8 * 1024);  // 8 KiB per shard: at most 1 KiB each
  fill(cache, "big", record_of(1, std::string(2048, 'x')));
  fill(cache, "small", record_of(1, std::string(100, 'x')));
  Record out;
  EXPECT_FALSE(holds(cache, "big", out));
  EXPECT_TRUE(holds(cache, "small", out));
  // Growing past the limit by a write drops the key rather than keep the large record.
  RecordCache::Write write(cache, "small");
  Record grown = record_of(2, std::string(2048, 'x'));
  write.done(&grown);
  EXPECT_FALSE(holds(cache, "small", out));
}

TEST(RecordCache, ZeroCapacityKeepsNothing) {
  RecordCache cache(0);
  Record out;
  uint64_t ticket;
  EXPECT_FALSE(cache.lookup("k", out, ticket));
  EXPECT_EQ(ticket, RecordCache::kNoTicket);
  fill(cache, "k", record_of(1));
  RecordCache::Write write(cache, "k");
  write.done(nullptr);
  EXPECT_FALSE(holds(cache, "k", out));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace ckv
