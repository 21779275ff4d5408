// RecordCache: a bounded, thread-safe cache of recently read records, in front of a store
// that several threads read and one or more threads write (RocksStore).
//
// Why: a hot key written often leaves one RocksDB memtable entry per version, and every
// read of it walks the skip list past them (a quarter of a node's CPU under the 90/10
// benchmark mix). A hit here is a hash lookup and a copy.
//
// What it promises: a reader never gets a record older than one a write had completed
// storing before the read began, and two reads in sequence never go back in time. The
// protocol that keeps it so, for every store read and write:
//  - a reader calls `lookup`; on a miss it reads the store and then `offer`s what it read
//    with the ticket `lookup` gave it. The record is kept only if no write to a key of
//    the same stripe (1/4096th of the keys, by hash) began since the ticket was taken (a
//    write in flight gives no ticket for them);
//  - a writer holds a `Write` for its keys around its store write: it waits out other
//    writers of their shards, and while it is open its keys' stripes are bypassed (every
//    lookup of them misses and gives no ticket: the store may already show the write, and
//    a reader that read it there must not then be served the older cached record); when
//    done it replaces each cached record with the new one (or drops it, if the store
//    write failed or erased it).
// So every read returns what the store held at some instant during the read.
// Writes never add records, reads do: a key enters at its second read miss in a short
// while (a doorkeeper remembers the keys missed once, so that reads spread over more keys
// than the cache holds do not pay for records that would be evicted unread), and leaves
// when its shard is over budget and it is the least recently used there.
//
// Records larger than a shard's budget / 8 are never kept. A capacity of 0 disables the
// cache (every lookup misses, every offer is ignored).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernel/kv/store.h"

namespace ckv {

class RecordCache {
  struct Shard;

 public:
  static constexpr size_t kShards = 16;
  // What a kept record costs beyond its key and value: list and index nodes, the Record.
  static constexpr size_t kEntryOverhead = 160;
  // "No ticket": returned while a write is in flight; an offer with it keeps nothing.
  static constexpr uint64_t kNoTicket = 0;
  // Per shard: how many keys read once the doorkeeper remembers (see above).
  static constexpr size_t kDoorkeeperSlots = 1024;
  // Per shard: stripes of keys; a write in flight bypasses its keys' stripes (see above).
  static constexpr size_t kStripes = 256;

  explicit RecordCache(size_t capacity_bytes);
  ~RecordCache();
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  // True and fills `out` on a hit. On a miss, `ticket` is what to pass to `offer`. Always
  // a miss while a write of the key's stripe is in flight.
  bool lookup(std::string_view key, Record& out, uint64_t& ticket);
  // Keeps `record` for `key` (as read from the store after `lookup` missed) if no write
  // to a key of its stripe began since `ticket` was taken.
  void offer(std::string_view key, uint64_t ticket, const Record& record);

  // Scope of one store write of some keys (one record, or a batch applied atomically).
  // Construct it before writing the store, then call `done` with the records now stored,
  // in the order of the keys (null: erased, or the write failed). Locks the keys' shards
  // against other writers, in one order, until then.
  class Write {
   public:
    Write(RecordCache& cache, std::string_view key);
    Write(RecordCache& cache, std::vector<std::string_view> keys);
    ~Write();  // drops the keys if `done` was not called (an exception, an early return)
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;
    void done(const Record* stored);  // the one-key form
    void done(const std::vector<const Record*>& stored);

   private:
    RecordCache* cache_;  // null when the cache is off
    std::vector<std::string_view> keys_;
    std::vector<size_t> hashes_;  // of keys_
    std::vector<size_t> shards_;  // distinct, ascending: the order they are locked in
    bool finished_ = false;
  };

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t records = 0;  // kept now
    uint64_t bytes = 0;    // kept now, estimated as above
  };
  // Summed over the shards, each read under its lock (not one snapshot of all of them).
  Stats stats() const;
  size_t capacity_bytes() const { return capacity_bytes_; }
  size_t bytes() const { return stats().bytes; }
  size_t size() const { return stats().records; }

 private:
  size_t capacity_bytes_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace ckv
