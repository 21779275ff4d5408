// RocksStore: the production Store, one RocksDB database in a node's data directory.
//
// It keeps the kernel's records, its meta numbers and a snapshot of the peers last seen
// alive, each under its own one-byte key prefix, so no user key can reach meta or peers.
// What it promises, beyond store.h:
//  - `put_meta` and `put_peers` are synced to disk before they return;
//  - `put`/`erase` are synced when `sync_writes` is set; otherwise a crash of the machine
//    may lose the latest ones (never reorder them or tear a record), and a crash of the
//    process alone loses none;
//  - a record that does not decode (a damaged disk, a foreign writer) comes back as an
//    error, never as a crash or a wrong value;
//  - no exception escapes; every failure is a Status or Result carrying the path and
//    RocksDB's message; a write refused for want of space is kNoSpace;
//  - a full disk is survived. RocksDB must never meet one itself (the build Debian ships
//    aborts on a failed WAL write), so every write first checks the filesystem's free
//    space and is refused (kNoSpace) below `min_free_bytes`; writes work again once space
//    is freed. (RocksDB's own flushes and compactions use that reserve: it must exceed
//    what they write at once.) Should RocksDB still stop taking writes, a later write
//    asks it to resume, at most once a second;
//  - opened on a disk with less than a quarter of `min_free_bytes` free, the database is
//    opened read-only (it then writes nothing at all): reads work, every write is refused
//    (kNoSpace) until the process is restarted with space freed.
//  - keys read more than once lately are answered from a RecordCache (record_cache.h)
//    without RocksDB, and no read returns a record older than one whose write had
//    returned before the read began.
// One process at a time may open a directory (RocksDB's LOCK file); a second `open`
// fails. The methods may be called from several threads, as RocksDB's may.
//
// `backup` copies a data directory's database into a backup directory (incremental:
// table files already there are shared) and works while the node owning it is running;
// `restore` puts the latest backup into a data directory that holds no database yet.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernel/core/address.h"
#include "kernel/core/result.h"
#include "kernel/kv/store.h"
#include "runtime/store/record_cache.h"

namespace rocksdb {
class DB;
}

namespace ckv {

struct RocksStoreOptions {
  static constexpr size_t kDefaultRecordCacheBytes = 16 << 20;

  std::string dir;           // the data directory; created (with parents) if missing
  bool sync_writes = false;  // sync every put/erase (--sync)
  // Recently read records kept in memory in front of RocksDB (see record_cache.h);
  // 0 turns the cache off.
  size_t record_cache_bytes = kDefaultRecordCacheBytes;
  // Writes are refused (kNoSpace) while the data directory's filesystem has less free
  // space than this (meta writes, a few bytes each, while it has less than a quarter).
  uint64_t min_free_bytes = 128 << 20;
};

class RocksStore final : public Store {
 public:
  // The first byte of every key in the database.
  static constexpr char kRecordPrefix = 'r';  // 'r' + user key -> encoded Record
  static constexpr char kMetaPrefix = 'm';    // 'm' + MetaKey byte -> 8-byte little endian
  static constexpr char kPeersKey = 'p';      // the whole key -> encoded peer list

  // Opens (creating if needed) the database in `options.dir`. Fails if the directory
  // cannot be created or used, or another process (or another RocksStore) has it open.
  static Result<std::unique_ptr<RocksStore>> open(const RocksStoreOptions& options);
  ~RocksStore() override;

  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  Result<bool> get(std::string_view key, Record& out) override;
  Status put(std::string_view key, const Record& record) override;
  Status erase(std::string_view key) override;
  using Store::for_each;
  Status for_each_from(
      std::string_view from,
      const std::function<bool(std::string_view key, const Record& record)>& visit) override;
  Result<uint64_t> get_meta(MetaKey key) override;
  Status put_meta(MetaKey key, uint64_t value) override;

  // One atomic RocksDB batch (one WAL record; one sync with `sync_writes`): after a crash
  // the database holds all of the writes or none.
  Status write_batch(std::span<const RecordWrite> writes) override;

  // Durably replaces the snapshot of the gossip addresses of the peers last seen alive.
  Status put_peers(const std::vector<Address>& peers);
  // The last snapshot written; empty when none was.
  Result<std::vector<Address>> get_peers();

  // Makes every write so far durable (syncs the WAL, and flushes the memtable unless the
  // disk is short of space).
  Status flush();
  // RocksDB's estimate of the number of keys (records, meta and peers), for metrics.
  uint64_t approximate_keys();
  // Compacts the whole database on a thread of its own (false: one is running already, or
  // the disk is short of space), so that what was deleted in bulk (collection) gives its
  // space back now. The destructor stops it and waits for it.
  bool compact_in_background();

  // Ok when a write may go to RocksDB: the database is writable and the filesystem has at
  // least `min_free_bytes` free (a quarter of it for `small` writes: meta, peers).
  Status room_to_write(bool small = false) const;

  const std::string& dir() const { return dir_; }
  const RecordCache& record_cache() const { return cache_; }

  // Adds a new backup of the database in `data_dir` to `backup_dir` (created if
  // missing). The node owning `data_dir` may be running: the database is read through a
  // RocksDB secondary instance, and an attempt during which the node flushed or compacted
  // is discarded and retried; after a few such attempts this fails, asking to stop the
  // node. The backup holds a prefix of the node's writes: every write synced before the
  // call, possibly some later ones.
  static Status backup(const std::string& data_dir, const std::string& backup_dir);
  // Restores the latest backup in `backup_dir` into `data_dir` (created if missing).
  // Refuses if `data_dir` already holds a database or database files.
  static Status restore(const std::string& backup_dir, const std::string& data_dir);

 private:
  RocksStore(std::unique_ptr<rocksdb::DB> db, RocksStoreOptions options);

  Status write(std::string_view what, const std::string& key, const std::vector<uint8_t>* value,
               bool sync);
  // After a failed write: asks RocksDB to take writes again (at most once a second);
  // true if it does, and the write is worth one more try.
  bool try_resume();

  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;
  bool sync_writes_;
  RecordCache cache_;
  std::atomic<int64_t> last_resume_ms_{0};  // steady clock, of the last try_resume
  uint64_t min_free_bytes_;
  bool read_only_ = false;  // opened on a full disk
  std::thread compactor_;
  std::atomic<bool> compacting_{false};
};

}  // namespace ckv
