#include "runtime/store/rocks_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "tests/runtime/temp_dir.h"

namespace ckv {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

Record value_record(std::string value, uint64_t wall_us = 1700000000000000, uint32_t logical = 3,
                    uint64_t node = 0x1234567890abcdef, uint64_t validated_epoch = 7) {
  Record r;
  r.kind = RecordKind::kValue;
  r.version = Version{wall_us, logical, node};
  r.validated_epoch = validated_epoch;
  r.value = std::move(value);
  return r;
}

Record marker(RecordKind kind, uint64_t wall_us) {
  Record r = value_record("", wall_us);
  r.kind = kind;
  return r;
}

std::map<std::string, Record> all_records(RocksStore& store) {
  std::map<std::string, Record> out;
  Status s = store.for_each([&](std::string_view key, const Record& r) {
    out.emplace(std::string(key), r);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.error().detail;
  return out;
}

class RocksStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<RocksStore> open_store(const std::string& dir, bool sync = false) {
    auto store = RocksStore::open({dir, sync});
    EXPECT_TRUE(store.ok()) << store.error().detail;
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Writes raw key/value pairs with a plain RocksDB handle (the store must be closed).
  void write_raw(const std::string& dir,
                 const std::vector<std::pair<std::string, std::string>>& kv) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options options;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (const auto& [k, v] : kv)
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), k, v).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  TempDir tmp_;
  std::string dir_ = tmp_.sub("data");
};

TEST_F(RocksStoreTest, RoundTripsEveryKind) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 131 + (i >> 9));
  const std::map<std::string, Record> want = {
      {"plain", value_record("hello")},
      {"empty", value_record("")},
      {"big", value_record(big)},
      {"extremes", value_record("x", UINT64_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX)},
      {"zeros", value_record("y", 0, 0, 0, 0)},
      {"tombstone", marker(RecordKind::kTombstone, 11)},
      {"invalidated", marker(RecordKind::kInvalidated, 12)},
      {std::string("bin\0key\xff", 8), value_record(std::string("v\0w", 3))},
      {"", value_record("the empty key")},
  };
  for (const auto& [k, r] : want)
    ASSERT_TRUE(store->put(k, r).ok());
  for (const auto& [k, r] : want) {
    Record got;
    auto found = store->get(k, got);
    ASSERT_TRUE(found.ok()) << found.error().detail;
    EXPECT_TRUE(*found) << k;
    EXPECT_EQ(got, r) << k;
  }
  // Overwrite: the latest put wins.
  ASSERT_TRUE(store->put("plain", marker(RecordKind::kTombstone, 99)).ok());
  Record got;
  ASSERT_TRUE(store->get("plain", got).ok());
  EXPECT_EQ(got, marker(RecordKind::kTombstone, 99));
}

// A value with a TTL is written in format 2 (its expiry) and reads back, across a reopen;
// one without is still written in format 1, which the previous build reads.
TEST_F(RocksStoreTest, AnExpiryRoundTripsAndRecordsWithoutOneKeepTheOldFormat) {
  Record expiring = value_record("soon");
  expiring.expires_us = 1'700'000'000'123'456;
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("e", expiring).ok());
    ASSERT_TRUE(store->put("plain", value_record("always")).ok());
  }
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string bytes;
  ASSERT_TRUE(
      db->Get(rocksdb::ReadOptions(), std::string(1, RocksStore::kRecordPrefix) + "plain", &bytes)
          .ok());
  EXPECT_EQ(bytes[0], '\x01');
  ASSERT_TRUE(
      db->Get(rocksdb::ReadOptions(), std::string(1, RocksStore::kRecordPrefix) + "e", &bytes)
          .ok());
  EXPECT_EQ(bytes[0], '\x02');
  db.reset();
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  Record got;
  ASSERT_TRUE(store->get("e", got).value());
  EXPECT_EQ(got, expiring);
  ASSERT_TRUE(store->get("plain", got).value());
  EXPECT_EQ(got.expires_us, 0u);
}

// A value with a content type is written in format 3 and reads back across a reopen; a
// record an earlier build wrote in format 2 (an expiry, no content type) still reads.
TEST_F(RocksStoreTest, AContentTypeRoundTripsAndFormatTwoRecordsStillRead) {
  Record typed = value_record("{\"a\":1}");
  typed.content = {"application/json; charset=utf-8", "gzip"};
  Record typed_expiring = typed;
  typed_expiring.expires_us = 1'700'000'000'999'999;
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("t", typed).ok());
    ASSERT_TRUE(store->put("te", typed_expiring).ok());
  }
  // Format 2, byte by byte: format, kind, wall (fixed64 LE), logical, node (fixed64 LE),
  // validated epoch, expires_us (varints), then the value.
  std::string v2("\x02\x00", 2);
  v2 += std::string("\x01\x02\x03\x04\x05\x06\x07\x00", 8) + "\x09";
  v2 += std::string("\xef\xcd\xab\x90\x78\x56\x34\x12", 8) + "\x07" + "\x2a";
  v2 += "old value";
  write_raw(dir_, {{std::string(1, RocksStore::kRecordPrefix) + "old", v2}});
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string bytes;
  ASSERT_TRUE(
      db->Get(rocksdb::ReadOptions(), std::string(1, RocksStore::kRecordPrefix) + "t", &bytes)
          .ok());
  EXPECT_EQ(bytes[0], '\x03');
  db.reset();
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  Record got;
  ASSERT_TRUE(store->get("t", got).value());
  EXPECT_EQ(got, typed);
  ASSERT_TRUE(store->get("te", got).value());
  EXPECT_EQ(got, typed_expiring);
  got.content = {"stale", "stale"};
  ASSERT_TRUE(store->get("old", got).value());
  EXPECT_EQ(got.version, (Version{0x0007060504030201, 9, 0x1234567890abcdef}));
  EXPECT_EQ(got.validated_epoch, 7u);
  EXPECT_EQ(got.expires_us, 42u);
  EXPECT_EQ(got.value, "old value");
  EXPECT_TRUE(got.content.empty()) << "a record without a content type has none";
}

TEST_F(RocksStoreTest, GetOfMissingKeyIsFalseAndLeavesOutAlone) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  Record out = value_record("untouched");
  auto found = store->get("nope", out);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(*found);
  EXPECT_EQ(out, value_record("untouched"));
}

TEST_F(RocksStoreTest, Erase) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("a", value_record("1")).ok());
  ASSERT_TRUE(store->put("b", value_record("2")).ok());
  ASSERT_TRUE(store->erase("a").ok());
  ASSERT_TRUE(store->erase("never-there").ok());
  Record out;
  EXPECT_FALSE(*store->get("a", out));
  EXPECT_TRUE(*store->get("b", out));
  auto all = all_records(*store);
  EXPECT_EQ(all.size(), 1u);
  EXPECT_EQ(all.count("b"), 1u);
}

TEST_F(RocksStoreTest, ForEachVisitsEveryRecordAndNothingElse) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  std::map<std::string, Record> want;
  for (int i = 0; i < 500; ++i) {
    std::string k = "key" + std::to_string(i);
    want[k] = value_record("v" + std::to_string(i), 1000 + i);
    ASSERT_TRUE(store->put(k, want[k]).ok());
  }
  ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, 5).ok());
  ASSERT_TRUE(store->put_peers({Address{0x0a000001, 7000}}).ok());
  EXPECT_EQ(all_records(*store), want);
  // Also when part of the data is in table files.
  ASSERT_TRUE(store->flush().ok());
  ASSERT_TRUE(store->put("late", value_record("l")).ok());
  want["late"] = value_record("l");
  EXPECT_EQ(all_records(*store), want);
}

TEST_F(RocksStoreTest, ForEachStopsWhenTold) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(store->put(std::to_string(i), value_record("v")).ok());
  int visits = 0;
  Status s = store->for_each([&](std::string_view, const Record&) { return ++visits < 3; });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(visits, 3);
}

TEST_F(RocksStoreTest, MetaIsZeroUntilWrittenAndPersists) {
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->get_meta(MetaKey::kClockCeiling), 0u);
    EXPECT_EQ(*store->get_meta(MetaKey::kEpoch), 0u);
    ASSERT_TRUE(store->put_meta(MetaKey::kClockCeiling, 1700000000123456).ok());
    EXPECT_EQ(*store->get_meta(MetaKey::kClockCeiling), 1700000000123456u);
    EXPECT_EQ(*store->get_meta(MetaKey::kEpoch), 0u);
    ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, UINT64_MAX).ok());
  }
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->get_meta(MetaKey::kClockCeiling), 1700000000123456u);
  EXPECT_EQ(*store->get_meta(MetaKey::kEpoch), UINT64_MAX);
}

TEST_F(RocksStoreTest, PeersRoundTrip) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  auto none = store->get_peers();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::vector<Address> peers = {{0x0a000001, 7000}, {0xffffffff, 65535}, {0x7f000001, 1}};
  ASSERT_TRUE(store->put_peers(peers).ok());
  EXPECT_EQ(*store->get_peers(), peers);
  ASSERT_TRUE(store->put_peers({}).ok());
  EXPECT_TRUE(store->get_peers()->empty());
}

TEST_F(RocksStoreTest, EverythingSurvivesReopen) {
  const std::vector<Address> peers = {{0xc0a80001, 7001}, {0xc0a80002, 7002}};
  for (bool sync : {false, true}) {
    TempDir tmp;
    const std::string dir = tmp.sub("d");
    {
      auto store = open_store(dir, sync);
      ASSERT_TRUE(store);
      ASSERT_TRUE(store->put("kept", value_record("1")).ok());
      ASSERT_TRUE(store->put("gone", value_record("2")).ok());
      ASSERT_TRUE(store->put("tomb", marker(RecordKind::kTombstone, 5)).ok());
      ASSERT_TRUE(store->erase("gone").ok());
      ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, 9).ok());
      ASSERT_TRUE(store->put_peers(peers).ok());
    }
    auto store = open_store(dir, sync);
    ASSERT_TRUE(store);
    auto all = all_records(*store);
    ASSERT_EQ(all.size(), 2u) << "sync=" << sync;
    EXPECT_EQ(all["kept"], value_record("1"));
    EXPECT_EQ(all["tomb"], marker(RecordKind::kTombstone, 5));
    EXPECT_EQ(*store->get_meta(MetaKey::kEpoch), 9u);
    EXPECT_EQ(*store->get_peers(), peers);
  }
}

TEST_F(RocksStoreTest, FlushAndApproximateKeys) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(store->put(std::to_string(i), value_record("v")).ok());
  ASSERT_TRUE(store->flush().ok());
  uint64_t n = store->approximate_keys();
  EXPECT_GE(n, 900u);
  EXPECT_LE(n, 1100u);
  bool has_table = false;
  for (const auto& e : fs::directory_iterator(dir_)) {
    has_table |= e.path().extension() == ".sst";
  }
  EXPECT_TRUE(has_table) << "flush() wrote no table file";
}

TEST_F(RocksStoreTest, UserKeysStartingWithPrefixBytesDoNotCollide) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  const std::vector<Address> peers = {{0x0a000002, 7000}};
  ASSERT_TRUE(store->put_meta(MetaKey::kClockCeiling, 111).ok());
  ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, 222).ok());
  ASSERT_TRUE(store->put_peers(peers).ok());
  // Every user key that spells a database key of meta or peers, with or without prefix.
  const std::vector<std::string> keys = {
      std::string{RocksStore::kMetaPrefix, '\0'},
      std::string{RocksStore::kMetaPrefix, '\1'},
      std::string{RocksStore::kMetaPrefix},
      std::string{RocksStore::kPeersKey},
      std::string{RocksStore::kRecordPrefix},
      std::string{RocksStore::kRecordPrefix, RocksStore::kMetaPrefix, '\1'},
      std::string{static_cast<char>(RocksStore::kRecordPrefix + 1)},
      std::string("\xff\xff", 2),
  };
  for (const std::string& k : keys)
    ASSERT_TRUE(store->put(k, value_record("user " + k)).ok());
  EXPECT_EQ(*store->get_meta(MetaKey::kClockCeiling), 111u);
  EXPECT_EQ(*store->get_meta(MetaKey::kEpoch), 222u);
  EXPECT_EQ(*store->get_peers(), peers);
  ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, 333).ok());
  ASSERT_TRUE(store->put_peers({}).ok());
  auto all = all_records(*store);
  ASSERT_EQ(all.size(), keys.size());
  for (const std::string& k : keys)
    EXPECT_EQ(all[k], value_record("user " + k));
}

TEST_F(RocksStoreTest, CorruptDataIsAnErrorNotACrash) {
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("good", value_record("fine")).ok());
  }
  const std::string r(1, RocksStore::kRecordPrefix);
  const std::string ok_head =
      std::string("\x01\x00", 2) + std::string(8, '\x01');  // format, kind, wall
  const std::vector<std::pair<std::string, std::string>> bad = {
      {r + "empty", ""},
      {r + "format", std::string("\x04\x00", 2) + std::string(30, '\0')},
      // Format 3: a content type holding a line break (a header it could not go back into).
      {r + "content-type", std::string("\x03\x00", 2) + std::string(8, '\x01') +
                               std::string(11, '\0') + std::string("\x03a\nb\x00", 5) + "value"},
      {r + "kind", std::string("\x01\x07", 2) + std::string(30, '\0')},
      {r + "short-wall", std::string("\x01\x00\x01\x02", 4)},
      {r + "no-node", ok_head + "\x05" + std::string(3, '\0')},
      {r + "no-epoch", ok_head + "\x05" + std::string(8, '\0')},
      {r + "varint-overflow", ok_head + "\x05" + std::string(8, '\0') + std::string(10, '\xff')},
      {r + "varint-unterminated", ok_head + std::string(4, '\x80')},
      // One varint rule with the wire codec: only the shortest form.
      {r + "varint-not-shortest",
       ok_head + std::string("\x85\x00", 2) + std::string(8, '\0') + "\x00"},
      {r + "logical-too-big",
       ok_head + std::string("\xff\xff\xff\xff\x10", 5) + std::string(8, '\0') + "\x00"},
  };
  write_raw(dir_, bad);
  write_raw(dir_, {{std::string{RocksStore::kMetaPrefix, '\1'}, "abc"},
                   {std::string{RocksStore::kPeersKey}, std::string("\x01\x02", 2) + "123456"}});

  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  Record out;
  for (const auto& [k, v] : bad) {
    auto got = store->get(k.substr(1), out);
    ASSERT_FALSE(got.ok()) << k;
    EXPECT_EQ(got.error().code, ErrorCode::kMalformed) << k;
    EXPECT_NE(got.error().detail.find(k.substr(1)), std::string::npos) << got.error().detail;
  }
  Status scan = store->for_each([](std::string_view, const Record&) { return true; });
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.error().code, ErrorCode::kMalformed);
  auto meta = store->get_meta(MetaKey::kEpoch);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(*store->get_meta(MetaKey::kClockCeiling), 0u);
  auto peers = store->get_peers();
  ASSERT_FALSE(peers.ok());
  EXPECT_EQ(peers.error().code, ErrorCode::kMalformed);
  // The good record is unharmed.
  ASSERT_TRUE(*store->get("good", out));
  EXPECT_EQ(out, value_record("fine"));
}

// The record cache under the load it sees in a node: one writer (the kernel's strand)
// and readers on other threads (the HTTP threads' local hits). The writer puts rising
// versions to one key, erasing it first every eighth write (an erase leaves the key out
// of the cache, so readers race to refill it while the writer goes on), and publishes
// each version once put() returns. A reader takes the published version before each get
// and must read at least that (a write completed before a read began is never lost to a
// stale cached copy) and never less than it read before (reads do not go back in time).
// With the cache's check of the ticket removed this failed in 5 runs of 8; while the cache
// still served a key during a write of it, in about 1 run of 8 (a reader that missed read
// the new record from the store, then the old one from the cache). The RecordCache unit
// tests catch both deterministically.
TEST_F(RocksStoreTest, CachedReadsNeverGoBackInTimeUnderConcurrentWrites) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  constexpr uint64_t kWrites = 60'000;
  const std::string key = "hot";
  ASSERT_TRUE(store->put(key, value_record("v", 1)).ok());
  std::atomic<uint64_t> published{1};
  std::atomic<bool> writing{true};
  std::atomic<uint64_t> reads{0}, violations{0};
  std::string first_violation;
  std::mutex first_violation_mu;
  auto reader = [&] {
    uint64_t last = 0;
    Record record;
    while (writing.load()) {
      const uint64_t floor = published.load();
      Result<bool> found = store->get(key, record);
      reads++;
      if (!found.ok() || !found.value()) continue;  // between an erase and its put
      const uint64_t got = record.version.wall_us;
      if ((got < floor || got < last) && violations++ == 0) {
        std::lock_guard lock(first_violation_mu);
        first_violation =
            "read " + std::to_string(got) + " after " + std::to_string(std::max(floor, last));
      }
      last = std::max(last, got);
    }
  };
  std::thread readers[] = {std::thread(reader), std::thread(reader)};
  uint64_t failed_writes = 0;
  for (uint64_t v = 2; v < kWrites; ++v) {
    if (v % 8 == 0) failed_writes += !store->erase(key).ok();
    failed_writes += !store->put(key, value_record("v", v)).ok();
    published = v;
  }
  writing = false;
  for (std::thread& t : readers)
    t.join();
  EXPECT_EQ(failed_writes, 0u);
  EXPECT_EQ(violations, 0u) << first_violation;
  EXPECT_GT(reads, kWrites / 10) << "the readers hardly ran: the test proves little";
  EXPECT_GT(store->record_cache().stats().hits, kWrites / 10) << "the cache was hardly used";
}

// A batch that writes one cached key twice: the read through the cache after it is what
// RocksDB holds (its last operation on the key wins), as a reopened store reads it.
TEST_F(RocksStoreTest, ABatchWritingACachedKeyTwiceLeavesTheCacheAsTheStore) {
  const Record a = value_record("a", 2), b = value_record("b", 3);
  struct Case {
    const char* name;
    const Record* first;  // null: erase
    const Record* second;
  };
  const Case cases[] = {
      {"put, put", &a, &b}, {"put, erase", &a, nullptr}, {"erase, put", nullptr, &b}};
  for (size_t i = 0; i < std::size(cases); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.name);
    const std::string dir = tmp_.sub("batch" + std::to_string(i));
    auto store = open_store(dir);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("k", value_record("old", 1)).ok());
    Record got;
    for (int read = 0; read < 3; ++read)
      ASSERT_TRUE(*store->get("k", got));
    ASSERT_EQ(store->record_cache().stats().records, 1u) << "the key was not cached";
    ASSERT_TRUE(store->write_batch(std::vector<RecordWrite>{{"k", c.first}, {"k", c.second}}).ok());
    Record through_cache;
    const bool found_through_cache = *store->get("k", through_cache);
    store.reset();
    store = open_store(dir);
    ASSERT_TRUE(store);
    Record from_disk;
    const bool found_on_disk = *store->get("k", from_disk);
    EXPECT_EQ(found_through_cache, c.second != nullptr);
    ASSERT_EQ(found_through_cache, found_on_disk);
    if (found_on_disk) {
      EXPECT_EQ(through_cache, from_disk);
    }
  }
}

// Below its free-space reserve the store refuses writes as kNoSpace (RocksDB never meets
// a full disk itself) and serves reads; opened below a quarter of it, it is read-only.
TEST_F(RocksStoreTest, ADiskShortOfItsReserveRefusesWritesAndServesReads) {
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("k", value_record("v")).ok());
    ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, 3).ok());
  }
  RocksStoreOptions short_of_space{dir_};
  short_of_space.min_free_bytes = uint64_t{1} << 62;  // more than any disk has
  auto store = RocksStore::open(short_of_space);
  ASSERT_TRUE(store.ok()) << store.error().detail;
  Status put = (*store)->put("k2", value_record("v2"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kNoSpace);
  EXPECT_NE(put.error().detail.find("restart"), std::string::npos) << put.error().detail;
  EXPECT_EQ((*store)->put_meta(MetaKey::kEpoch, 4).error().code, ErrorCode::kNoSpace);
  const Record* none = nullptr;
  const std::vector<RecordWrite> batch{{"k3", none}};
  EXPECT_EQ((*store)->write_batch(batch).error().code, ErrorCode::kNoSpace);
  Record got;
  ASSERT_TRUE((*store)->get("k", got).value());
  EXPECT_EQ(got.value, "v");
  EXPECT_EQ(*(*store)->get_meta(MetaKey::kEpoch), 3u);
  EXPECT_TRUE((*store)->flush().ok());
}

TEST_F(RocksStoreTest, SecondOpenOfTheSameDirectoryFailsClearly) {
  auto first = open_store(dir_);
  ASSERT_TRUE(first);
  auto second = RocksStore::open({dir_});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kIoError);
  EXPECT_NE(second.error().detail.find(dir_), std::string::npos) << second.error().detail;
  EXPECT_NE(second.error().detail.find("another node"), std::string::npos) << second.error().detail;
  // The first store is unaffected.
  ASSERT_TRUE(first->put("k", value_record("v")).ok());
}

TEST_F(RocksStoreTest, OpenOfAnUnusablePathFails) {
  const std::string file = tmp_.sub("regular-file");
  std::ofstream(file) << "not a directory";
  for (const std::string& path : {file + "/data", file}) {
    auto store = RocksStore::open({path});
    ASSERT_FALSE(store.ok()) << path;
    EXPECT_EQ(store.error().code, ErrorCode::kIoError);
    EXPECT_NE(store.error().detail.find(path), std::string::npos) << store.error().detail;
  }
  auto empty = RocksStore::open({""});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

// Fills a store with a bit of everything; returns what it wrote.
std::map<std::string, Record> fill(RocksStore& store, int n, const std::string& tag) {
  std::map<std::string, Record> written;
  for (int i = 0; i < n; ++i) {
    std::string k = tag + std::to_string(i);
    Record r = i % 7 == 0 ? marker(RecordKind::kTombstone, i)
                          : value_record(std::string(i % 300, 'a' + i % 26), 1000 + i);
    EXPECT_TRUE(store.put(k, r).ok());
    written[k] = r;
  }
  return written;
}

TEST_F(RocksStoreTest, BackupThenRestoreYieldsTheSameData) {
  const std::string backups = tmp_.sub("backups/nested");
  const std::vector<Address> peers = {{0x0a000003, 7003}};
  std::map<std::string, Record> want;
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    want = fill(*store, 2000, "k");
    ASSERT_TRUE(store->flush().ok());  // some in table files...
    for (auto& [k, r] : fill(*store, 100, "late"))
      want[k] = r;  // ...some in the WAL only
    ASSERT_TRUE(store->put_meta(MetaKey::kEpoch, 77).ok());
    ASSERT_TRUE(store->put_peers(peers).ok());
  }
  Status b = RocksStore::backup(dir_, backups);
  ASSERT_TRUE(b.ok()) << b.error().detail;

  const std::string restored = tmp_.sub("restored/data");
  Status r = RocksStore::restore(backups, restored);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  auto store = open_store(restored);
  ASSERT_TRUE(store);
  EXPECT_EQ(all_records(*store), want);
  EXPECT_EQ(*store->get_meta(MetaKey::kEpoch), 77u);
  EXPECT_EQ(*store->get_peers(), peers);
}

TEST_F(RocksStoreTest, RestoreTakesTheLatestOfSeveralBackups) {
  const std::string backups = tmp_.sub("backups");
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("a", value_record("first")).ok());
  ASSERT_TRUE(RocksStore::backup(dir_, backups).ok());
  ASSERT_TRUE(store->put("a", value_record("second")).ok());
  ASSERT_TRUE(store->put("b", value_record("new")).ok());
  ASSERT_TRUE(RocksStore::backup(dir_, backups).ok());
  store.reset();

  const std::string restored = tmp_.sub("restored");
  ASSERT_TRUE(RocksStore::restore(backups, restored).ok());
  auto back = open_store(restored);
  ASSERT_TRUE(back);
  auto all = all_records(*back);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["a"], value_record("second"));
}

TEST_F(RocksStoreTest, RestoreRefusesADirectoryThatHoldsData) {
  const std::string backups = tmp_.sub("backups");
  {
    auto store = open_store(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("a", value_record("from backup")).ok());
  }
  ASSERT_TRUE(RocksStore::backup(dir_, backups).ok());

  const std::string other = tmp_.sub("other");
  {
    auto store = open_store(other);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->put("a", value_record("precious")).ok());
  }
  Status s = RocksStore::restore(backups, other);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("refusing"), std::string::npos) << s.error().detail;
  EXPECT_NE(s.error().detail.find(other), std::string::npos) << s.error().detail;
  {
    auto store = open_store(other);
    ASSERT_TRUE(store);
    Record out;
    ASSERT_TRUE(*store->get("a", out));
    EXPECT_EQ(out, value_record("precious"));
  }

  // A directory with database files but no CURRENT (a half-deleted database) too.
  const std::string stray = tmp_.sub("stray");
  fs::create_directories(stray);
  std::ofstream(stray + "/000007.log") << "wal bytes";
  s = RocksStore::restore(backups, stray);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("000007.log"), std::string::npos) << s.error().detail;
  EXPECT_TRUE(fs::exists(stray + "/000007.log"));

  // A directory with unrelated files is fine.
  const std::string unrelated = tmp_.sub("unrelated");
  fs::create_directories(unrelated);
  std::ofstream(unrelated + "/README") << "hi";
  ASSERT_TRUE(RocksStore::restore(backups, unrelated).ok());
}

TEST_F(RocksStoreTest, BackupAndRestoreReportMissingInputs) {
  Status b = RocksStore::backup(tmp_.sub("no-such-data"), tmp_.sub("backups"));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().detail.find("no-such-data"), std::string::npos) << b.error().detail;

  Status r = RocksStore::restore(tmp_.sub("no-such-backups"), tmp_.sub("data2"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("no-such-backups"), std::string::npos) << r.error().detail;

  fs::create_directories(tmp_.sub("empty-backups"));
  r = RocksStore::restore(tmp_.sub("empty-backups"), tmp_.sub("data3"));
  EXPECT_FALSE(r.ok());
}

TEST_F(RocksStoreTest, BackupWhileTheStoreIsOpenSeesEveryCompletedWrite) {
  const std::string backups = tmp_.sub("backups");
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  auto want = fill(*store, 300, "k");  // memtable and WAL only: nothing flushed
  ASSERT_TRUE(store->put_meta(MetaKey::kClockCeiling, 5).ok());
  Status b = RocksStore::backup(dir_, backups);
  ASSERT_TRUE(b.ok()) << b.error().detail;
  ASSERT_TRUE(store->put("after", value_record("not in the backup")).ok());

  const std::string restored = tmp_.sub("restored");
  ASSERT_TRUE(RocksStore::restore(backups, restored).ok());
  auto back = open_store(restored);
  ASSERT_TRUE(back);
  EXPECT_EQ(all_records(*back), want);
  EXPECT_EQ(*back->get_meta(MetaKey::kClockCeiling), 5u);
}

// A writer puts k000000000, k000000001, ... and flushes (each flush retires a WAL and
// edits the MANIFEST): every second, and right as each backup starts, so that the first
// attempt usually overlaps a flush. Every restored backup must hold exactly a prefix of
// the writes, at least as long as what was written before backup() began. (With the
// MANIFEST check in backup() disabled, this failed in 8 runs of 8: the backup silently
// lacked the writes of a flushed memtable.)
TEST_F(RocksStoreTest, BackupDuringWritesAndFlushesIsAPrefix) {
  auto store = open_store(dir_);
  ASSERT_TRUE(store);
  std::atomic<int> written{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> flush_now{false};
  std::thread writer([&] {
    char key[16];
    auto last_flush = std::chrono::steady_clock::now();
    for (int i = 0; !stop; ++i) {
      std::snprintf(key, sizeof key, "k%09d", i);
      if (!store->put(key, value_record(std::to_string(i))).ok()) return;
      written = i + 1;
      if (flush_now.exchange(false) ||
          std::chrono::steady_clock::now() - last_flush > milliseconds(1000)) {
        if (!store->flush().ok()) return;
        last_flush = std::chrono::steady_clock::now();
      }
      if (i % 50 == 0) std::this_thread::sleep_for(milliseconds(1));
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{stop, writer};
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(milliseconds(30));
    const int before = written;
    flush_now = true;
    const std::string backups = tmp_.sub("backups" + std::to_string(round));
    Status b = RocksStore::backup(dir_, backups);
    ASSERT_TRUE(b.ok()) << b.error().detail;
    const std::string restored = tmp_.sub("restored" + std::to_string(round));
    ASSERT_TRUE(RocksStore::restore(backups, restored).ok());
    auto back = open_store(restored);
    ASSERT_TRUE(back);
    int n = 0;
    bool prefix = true;
    char key[16];
    Status s = back->for_each([&](std::string_view k, const Record& r) {
      std::snprintf(key, sizeof key, "k%09d", n);
      prefix = prefix && k == key && r == value_record(std::to_string(n));
      ++n;
      return prefix;
    });
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(prefix) << "round " << round << ": gap or wrong value at " << n;
    EXPECT_GE(n, before) << "round " << round;
  }
  EXPECT_GT(written.load(), 1000);
}

}  // namespace
}  // namespace ckv
