#include "runtime/store/rocks_store.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <thread>
#include <utility>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"
#include "runtime/log.h"

namespace ckv {
namespace {

namespace fs = std::filesystem;

// Record value, format 3:
//   u8 format (3) | u8 kind | fixed64 wall_us | varint logical | fixed64 node
//   | varint validated_epoch | varint expires_us | varint length + media type
//   | varint length + encoding | value bytes (the rest)
// Format 2 (written before content types) is the same without the media type and the
// encoding, format 1 (before TTLs) without expires_us too; both still read (as a value
// without a content type, and one that never expires). Each record is written in the
// oldest format that holds it (format 1 without expiry or content type, 2 with an expiry
// only), so a data directory stays readable by the builds before this one unless the
// features they lack are used.
// Fixed-width little-endian for wall_us and node (both use most of their 64 bits),
// varints for the usually small counters, written and read with the wire codec's
// ByteWriter/ByteReader (kernel/wire/), so a varint has one form everywhere: the shortest.
// This program has always written that form, so data directories written before this
// rule still read back. The value is stored for every kind so a record
// reads back exactly as written (a tombstone's is normally empty and costs nothing).
constexpr uint8_t kRecordFormatNoExpiry = 1;
constexpr uint8_t kRecordFormatNoContent = 2;
constexpr uint8_t kRecordFormat = 3;
// Peer snapshot, format 1: u8 format (1) | varint count | count x (ip u32 BE, port u16 BE).
constexpr uint8_t kPeersFormat = 1;
constexpr size_t kPeerBytes = 6;

constexpr int kBackupAttempts = 5;

Error io_error(std::string detail) {
  return Error{ErrorCode::kIoError, std::move(detail)};
}

// A failed write's error: kNoSpace when the disk is full, so the client hears 507.
Error write_error(std::string detail, const rocksdb::Status& s) {
  return Error{s.IsNoSpace() ? ErrorCode::kNoSpace : ErrorCode::kIoError,
               std::move(detail) + ": " + s.ToString()};
}

// Free space (for unprivileged users) on the filesystem holding `dir`; none if unknown.
std::optional<uint64_t> free_bytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<uint8_t> encode_record(const Record& r) {
  std::vector<uint8_t> out;
  out.reserve(2 + 8 + 5 + 8 + 10 + 10 + 4 + r.content.bytes() + r.value.size());
  wire::ByteWriter w(out);
  const uint8_t format = !r.content.empty()  ? kRecordFormat
                         : r.expires_us != 0 ? kRecordFormatNoContent
                                             : kRecordFormatNoExpiry;
  w.u8(format);
  w.u8(static_cast<uint8_t>(r.kind));
  w.fixed64(r.version.wall_us);
  w.varint(r.version.logical);
  w.fixed64(r.version.node);
  w.varint(r.validated_epoch);
  if (format >= kRecordFormatNoContent) w.varint(r.expires_us);
  if (format >= kRecordFormat) {
    w.bytes(r.content.media);
    w.bytes(r.content.encoding);
  }
  w.raw(r.value);
  return out;
}

// Empty on success, else why `data` is not a record.
std::string decode_record(std::span<const uint8_t> data, Record& out) {
  wire::ByteReader in(data);
  if (data.empty()) return "empty";
  const uint8_t format = in.u8();
  if (format < kRecordFormatNoExpiry || format > kRecordFormat) return "unknown record format";
  const uint8_t kind = in.u8();
  if (in.failed()) return "truncated";
  if (kind > static_cast<uint8_t>(RecordKind::kInvalidated)) return "unknown record kind";
  out.kind = static_cast<RecordKind>(kind);
  out.version.wall_us = in.fixed64();
  const uint64_t logical = in.varint();
  out.version.node = in.fixed64();
  out.validated_epoch = in.varint();
  out.expires_us = format >= kRecordFormatNoContent ? in.varint() : 0;
  out.content = {};
  if (format >= kRecordFormat) {
    out.content.media = in.string(kMaxContentTypeBytes);
    out.content.encoding = in.string(kMaxContentTypeBytes);
    if (!in.failed() && !valid_content_type(out.content)) return "bad content type";
  }
  if (in.failed()) return in.error().detail;
  if (logical > std::numeric_limits<uint32_t>::max()) return "logical counter out of range";
  out.version.logical = static_cast<uint32_t>(logical);
  out.value.assign(in.rest());
  return {};
}

std::string record_key(std::string_view key) {
  std::string k;
  k.reserve(1 + key.size());
  k.push_back(RocksStore::kRecordPrefix);
  k.append(key);
  return k;
}

std::string meta_key(MetaKey key) {
  return std::string{RocksStore::kMetaPrefix, static_cast<char>(key)};
}

std::string_view view(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

std::span<const uint8_t> bytes_of(const rocksdb::Slice& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

rocksdb::Slice slice(const std::vector<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

rocksdb::Options make_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // One modest block cache, and a bloom filter so a get of a key without a record skips
  // most table files. Everything else is RocksDB's default, which suits a small server:
  // 64 MiB memtables, 2 background jobs, Snappy compression.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(32 << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The same for the memtables: a read that misses (a key held elsewhere in the cluster, a
  // 404) is a filter probe, not a walk of a skip list of up to 64 MiB of records. About
  // 1.3 MiB of filter per memtable.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.02;
  // Not inplace_update_support, though it would keep a hot key one memtable entry instead
  // of one per write (24% of node 1's CPU under the 90/10 mix was skip-list walks through
  // old versions): in RocksDB 7.8 (Debian 12) an in-place update stores the new length
  // before it takes the key's lock, so a concurrent Get (the HTTP threads' local hits) can
  // read the old record's bytes cut to the new length (a review found it; fixed upstream
  // later).
  // RocksDB's own text log (LOG, LOG.old.*) in the data directory: keep a few.
  options.keep_log_file_num = 4;
  // Collection (--tombstone-ttl) removes records in bulk: a table file in which deletes
  // dominate (half of any 1,024 consecutive entries) is compacted soon, so the space of
  // what was collected comes back, instead of waiting for the level to fill.
  options.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(1024, 512, 0.5));
  // Defaults relied on: the ordinary write path (not unordered_write, not two-phase
  // commit): a write is visible to Get only once it is complete, and a batch all at
  // once (RecordCache's promise rests on it); wal_recovery_mode kPointInTimeRecovery
  // (after a crash the database holds a prefix of the writes: never reordered, never a
  // torn record) and recycle_log_file_num 0 (backup() assumes a WAL is only retired
  // after a MANIFEST edit).
  return options;
}

bool mentions_lock(const rocksdb::Status& s) {
  std::string text = s.ToString();
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text.find("lock") != std::string::npos;
}

// Identifies the state of the database's file set: the live MANIFEST's name and size.
// RocksDB records every flush and compaction in the MANIFEST before it deletes the
// files they make obsolete (WALs, tables), so an unchanged stamp over an interval means
// no file of the database was retired during it.
std::string manifest_stamp(const std::string& dir) {
  std::ifstream in(dir + "/CURRENT", std::ios::binary);
  std::string current((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) {
    current.pop_back();
  }
  std::error_code ec;
  uintmax_t size = current.empty() ? 0 : fs::file_size(fs::path(dir) / current, ec);
  return current + ":" + (ec ? "?" : std::to_string(size));
}

// A fresh, empty directory for the secondary instance's own files.
Result<std::string> make_temp_dir() {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) return io_error("no temporary directory: " + ec.message());
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  fs::path dir = base / ("ckv-backup-" + std::to_string(::getpid()) + "-" +
                         std::to_string(counter.fetch_add(1)) + "-" + std::to_string(now));
  if (!fs::create_directories(dir, ec) || ec) {
    return io_error("cannot create temporary directory " + dir.string() + ": " +
                    (ec ? ec.message() : "it already exists"));
  }
  return dir.string();
}

bool is_database_file(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "CURRENT" || name == "IDENTITY" || name.rfind("MANIFEST-", 0) == 0 ||
         ends_with(".sst") || ends_with(".log") || ends_with(".blob");
}

}  // namespace

RocksStore::RocksStore(std::unique_ptr<rocksdb::DB> db, RocksStoreOptions options)
    : db_(std::move(db)),
      dir_(std::move(options.dir)),
      sync_writes_(options.sync_writes),
      cache_(options.record_cache_bytes),
      min_free_bytes_(options.min_free_bytes) {}

RocksStore::~RocksStore() {
  if (compactor_.joinable()) {
    if (db_) db_->DisableManualCompaction();  // (it ends the compaction running)
    compactor_.join();
  }
  // A destructor has nowhere to report Close()'s error; call flush() first to know that
  // everything is durable.
  if (db_) (void)db_->Close();
}

bool RocksStore::compact_in_background() {
  if (read_only_ || compacting_.load() || !room_to_write(false).ok()) return false;
  if (compactor_.joinable()) compactor_.join();  // (the last one has ended)
  compacting_ = true;
  compactor_ = std::thread([this] {
    rocksdb::CompactRangeOptions options;
    options.exclusive_manual_compaction = false;  // RocksDB's own compactions go on
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    rocksdb::Status s = db_->CompactRange(options, nullptr, nullptr);
    if (!s.ok() && !s.IsManualCompactionPaused()) {
      log_warn("compaction of " + dir_ + " after a collection failed: " + s.ToString());
    }
    compacting_ = false;
  });
  return true;
}

Result<std::unique_ptr<RocksStore>> RocksStore::open(const RocksStoreOptions& options) {
  if (options.dir.empty()) {
    return Error{ErrorCode::kInvalidArgument, "RocksStore: no data directory given"};
  }
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return io_error("cannot create data directory " + options.dir + ": " + ec.message());

  // Opening writes (a new WAL, MANIFEST and OPTIONS file): on a full disk, open read-only.
  const std::optional<uint64_t> free = free_bytes(options.dir);
  const bool read_only = free && *free < options.min_free_bytes / 4;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(make_options(), options.dir, &raw)
                                : rocksdb::DB::Open(make_options(), options.dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) {
    std::string detail = "cannot open the database in " + options.dir +
                         (read_only ? " read-only (the disk is full)" : "") + ": " + s.ToString();
    if (mentions_lock(s)) detail += " (is another node running with this data directory?)";
    return io_error(std::move(detail));
  }
  std::unique_ptr<RocksStore> store(new RocksStore(std::move(db), options));
  store->read_only_ = read_only;
  if (read_only) {
    log_error("the disk holding " + options.dir + " has " + std::to_string(*free >> 10) +
              " KiB free: the database is opened read-only; reads are served, writes refused "
              "until the node is restarted with space freed");
  }
  return store;
}

Result<bool> RocksStore::get(std::string_view key, Record& out) {
  uint64_t ticket;
  if (cache_.lookup(key, out, ticket)) return true;
  rocksdb::PinnableSlice data;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), record_key(key), &data);
  if (s.IsNotFound()) return false;
  if (!s.ok()) {
    return io_error("get " + quote(key) + " in " + dir_ + ": " + s.ToString());
  }
  Record record;
  if (std::string why = decode_record(bytes_of(data), record); !why.empty()) {
    return Error{ErrorCode::kMalformed,
                 "corrupt record for key " + quote(key) + " in " + dir_ + ": " + why};
  }
  cache_.offer(key, ticket, record);
  out = std::move(record);
  return true;
}

Status RocksStore::write(std::string_view what, const std::string& key,
                         const std::vector<uint8_t>* value, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  if (Status room = room_to_write(key[0] != kRecordPrefix); !room.ok()) return room;
  auto attempt = [&] {
    return value ? db_->Put(options, key, slice(*value)) : db_->Delete(options, key);
  };
  rocksdb::Status s = attempt();
  if (!s.ok() && try_resume()) s = attempt();
  if (!s.ok()) return write_error(std::string(what) + " " + quote(key) + " in " + dir_, s);
  return {};
}

Status RocksStore::room_to_write(bool small) const {
  if (read_only_) {
    return Error{ErrorCode::kNoSpace, "the database in " + dir_ +
                                          " was opened read-only on a full disk: restart the "
                                          "node once space is freed"};
  }
  const uint64_t need = small ? min_free_bytes_ / 4 : min_free_bytes_;
  const std::optional<uint64_t> free = free_bytes(dir_);
  if (!free || *free >= need) return {};
  return Error{ErrorCode::kNoSpace, "the disk holding " + dir_ + " has " +
                                        std::to_string(*free >> 10) + " KiB free, less than the " +
                                        std::to_string(need >> 10) +
                                        " KiB kept free for the database (--min-free-disk-mb)"};
}

bool RocksStore::try_resume() {
  // After a failed write RocksDB takes no more until resumed (its "background error").
  // Resuming flushes the memtables, which fails again while the disk is full: try at most
  // once a second.
  const int64_t now = steady_ms();
  int64_t last = last_resume_ms_.load();
  if (now - last < 1000 || !last_resume_ms_.compare_exchange_strong(last, now)) return false;
  rocksdb::Status s = db_->Resume();
  return s.ok();
}

Status RocksStore::put(std::string_view key, const Record& record) {
  const std::vector<uint8_t> value = encode_record(record);
  RecordCache::Write cached(cache_, key);
  Status s = write("put", record_key(key), &value, sync_writes_);
  cached.done(s.ok() ? &record : nullptr);
  return s;
}

Status RocksStore::erase(std::string_view key) {
  RecordCache::Write cached(cache_, key);
  Status s = write("erase", record_key(key), nullptr, sync_writes_);
  cached.done(nullptr);
  return s;
}

Status RocksStore::write_batch(std::span<const RecordWrite> writes) {
  if (writes.empty()) return {};
  rocksdb::WriteBatch batch;
  std::vector<std::string_view> keys;
  std::vector<const Record*> stored;
  keys.reserve(writes.size());
  stored.reserve(writes.size());
  for (const RecordWrite& w : writes) {
    rocksdb::Status s = w.record ? batch.Put(record_key(w.key), slice(encode_record(*w.record)))
                                 : batch.Delete(record_key(w.key));
    if (!s.ok())
      return io_error("batch of " + std::to_string(writes.size()) + " writes in " + dir_ + ": " +
                      s.ToString());
    keys.push_back(w.key);
    stored.push_back(w.record);
  }
  if (Status room = room_to_write(false); !room.ok()) return room;
  rocksdb::WriteOptions options;
  options.sync = sync_writes_;
  RecordCache::Write cached(cache_, std::move(keys));
  rocksdb::Status s = db_->Write(options, &batch);
  if (!s.ok() && try_resume()) s = db_->Write(options, &batch);
  if (!s.ok()) {
    cached.done(std::vector<const Record*>(writes.size(), nullptr));
    return write_error("batch of " + std::to_string(writes.size()) + " writes in " + dir_, s);
  }
  cached.done(stored);
  return {};
}

Status RocksStore::for_each_from(
    std::string_view from,
    const std::function<bool(std::string_view key, const Record& record)>& visit) {
  std::string begin(1, kRecordPrefix);
  begin.append(from);
  const std::string end(1, static_cast<char>(kRecordPrefix + 1));
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  options.fill_cache = false;  // a full scan would evict the working set
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  Record record;
  for (it->Seek(begin); it->Valid(); it->Next()) {
    std::string_view key = view(it->key()).substr(1);
    if (std::string why = decode_record(bytes_of(it->value()), record); !why.empty()) {
      return Error{ErrorCode::kMalformed,
                   "corrupt record for key " + quote(key) + " in " + dir_ + ": " + why};
    }
    if (!visit(key, record)) return {};
  }
  if (!it->status().ok()) return io_error("scan of " + dir_ + ": " + it->status().ToString());
  return {};
}

Result<uint64_t> RocksStore::get_meta(MetaKey key) {
  rocksdb::PinnableSlice data;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), meta_key(key), &data);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return io_error("get meta in " + dir_ + ": " + s.ToString());
  wire::ByteReader in(bytes_of(data));
  const uint64_t value = in.fixed64();
  if (data.size() != 8 || in.failed()) {
    return Error{ErrorCode::kMalformed, "corrupt meta value " +
                                            std::to_string(static_cast<int>(key)) + " in " + dir_ +
                                            ": " + std::to_string(data.size()) + " bytes"};
  }
  return value;
}

Status RocksStore::put_meta(MetaKey key, uint64_t value) {
  std::vector<uint8_t> data;
  wire::ByteWriter(data).fixed64(value);
  return write("put meta", meta_key(key), &data, /*sync=*/true);
}

Status RocksStore::put_peers(const std::vector<Address>& peers) {
  std::vector<uint8_t> data;
  data.reserve(1 + 10 + peers.size() * kPeerBytes);
  wire::ByteWriter w(data);
  w.u8(kPeersFormat);
  w.varint(peers.size());
  for (const Address& a : peers)
    w.ipv4_port(a);
  return write("put peers", std::string(1, kPeersKey), &data, /*sync=*/true);
}

Result<std::vector<Address>> RocksStore::get_peers() {
  rocksdb::PinnableSlice data;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                               std::string(1, kPeersKey), &data);
  if (s.IsNotFound()) return std::vector<Address>{};
  if (!s.ok()) return io_error("get peers in " + dir_ + ": " + s.ToString());
  auto corrupt = [&](const char* why) {
    return Error{ErrorCode::kMalformed, "corrupt peer snapshot in " + dir_ + ": " + why};
  };
  wire::ByteReader in(bytes_of(data));
  if (data.empty()) return corrupt("empty");
  if (in.u8() != kPeersFormat) return corrupt("unknown format");
  const uint64_t count = in.varint();
  if (in.failed()) return corrupt("bad count");
  if (count > in.remaining() / kPeerBytes || in.remaining() != count * kPeerBytes) {
    return corrupt("count does not match length");
  }
  std::vector<Address> peers(count);
  for (Address& a : peers)
    a = in.ipv4_port();  // the length check above guarantees the bytes
  return peers;
}

Status RocksStore::flush() {
  if (read_only_) return {};  // nothing was written
  rocksdb::Status s = db_->FlushWAL(/*sync=*/true);
  // The memtable too (waiting for it), unless the disk is too full to take the table file:
  // the synced WAL holds the same writes.
  if (s.ok() && room_to_write(false).ok()) s = db_->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return io_error("flush of " + dir_ + ": " + s.ToString());
  return {};
}

uint64_t RocksStore::approximate_keys() {
  uint64_t n = 0;
  if (!db_->GetIntProperty(rocksdb::DB::Properties::kEstimateNumKeys, &n)) return 0;
  return n;
}

// Online backup. Experiments with RocksDB 7.8 against a process writing to the database:
//  - BackupEngine::CreateNewBackup on a read-only or secondary instance returns OK, but
//    if the writer flushes a memtable meanwhile the backup can silently miss that
//    memtable's writes (the instance lists table files from its older view and WALs from
//    the directory as it is now, after the flushed WAL was deleted). It also fails now and
//    then with "No such file" when the writer deletes a file being copied.
//  - Read-only instances are documented as undefined behaviour next to a writer;
//    secondary instances are the supported way to read a live database.
// So: a secondary instance, and an attempt counts only if the MANIFEST (where every
// flush and compaction is recorded before any file is retired) did not change from
// before the instance opened until the backup finished; otherwise the backup is deleted
// and retried. In stress runs (writers flushing once a second, and several times a
// second) this kept every restored backup a gap-free prefix of the writes, where the
// unchecked version produced gaps; see BackupDuringWritesAndFlushesIsAPrefix. The cost: a
// node that flushes or compacts more often than a backup takes to copy cannot be backed
// up while it runs (the first, full backup of a large database is the slow one; later
// ones share table files and copy little).
Status RocksStore::backup(const std::string& data_dir, const std::string& backup_dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(data_dir) / "CURRENT", ec)) {
    return io_error("cannot back up " + data_dir + ": it holds no database (no CURRENT file)");
  }
  fs::create_directories(backup_dir, ec);
  if (ec) return io_error("cannot create backup directory " + backup_dir + ": " + ec.message());

  rocksdb::BackupEngine* raw_engine = nullptr;
  rocksdb::IOStatus io = rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                     rocksdb::Env::Default(), &raw_engine);
  std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);
  if (!io.ok()) {
    return io_error("cannot open backup directory " + backup_dir + ": " + io.ToString());
  }

  rocksdb::Options options = make_options();
  options.create_if_missing = false;
  options.max_open_files = -1;  // required of secondary instances

  std::string last_error;
  bool last_changed = false;
  for (int attempt = 1; attempt <= kBackupAttempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    Result<std::string> secondary_dir = make_temp_dir();
    if (!secondary_dir.ok()) return secondary_dir.error();

    const std::string before = manifest_stamp(data_dir);
    rocksdb::DB* raw_db = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenAsSecondary(options, data_dir, *secondary_dir, &raw_db);
    std::unique_ptr<rocksdb::DB> db(raw_db);
    rocksdb::BackupID id = 0;
    if (s.ok()) s = engine->CreateNewBackup(rocksdb::CreateBackupOptions(), db.get(), &id);
    const bool created = s.ok();
    if (db) (void)db->Close();
    db.reset();
    fs::remove_all(*secondary_dir, ec);
    const std::string after = manifest_stamp(data_dir);

    last_changed = before != after;
    if (created && !last_changed) return {};
    if (created) {
      (void)engine->DeleteBackup(id);
      last_error = "the database changed while it was copied";
    } else {
      last_error = s.ToString();
    }
  }
  if (last_changed) {
    return io_error("cannot back up " + data_dir + " consistently: its node kept flushing or " +
                    "compacting during " + std::to_string(kBackupAttempts) +
                    " attempts (last: " + last_error + "); stop the node and retry");
  }
  return io_error("backup of " + data_dir + " into " + backup_dir + " failed: " + last_error);
}

Status RocksStore::restore(const std::string& backup_dir, const std::string& data_dir) {
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec)) {
    return io_error("cannot restore: backup directory " + backup_dir + " does not exist");
  }
  const std::string refuse = "refusing to restore into " + data_dir + ": it already holds ";
  const std::string advice = "; move it away or restore into another directory";
  if (fs::exists(fs::path(data_dir) / "CURRENT", ec)) {
    return io_error(refuse + "a database" + advice);
  }
  if (fs::is_directory(data_dir, ec)) {
    for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (is_database_file(name)) {
        return io_error(refuse + "database files (" + name + ")" + advice);
      }
    }
    if (ec) return io_error("cannot list " + data_dir + ": " + ec.message());
  }
  fs::create_directories(data_dir, ec);
  if (ec) return io_error("cannot create data directory " + data_dir + ": " + ec.message());

  rocksdb::BackupEngineReadOnly* raw_engine = nullptr;
  rocksdb::IOStatus io = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::BackupEngineOptions(backup_dir), rocksdb::Env::Default(), &raw_engine);
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw_engine);
  if (!io.ok()) {
    return io_error("cannot open backup directory " + backup_dir +
                    " (is it a directory made by backup?): " + io.ToString());
  }
  io = engine->RestoreDBFromLatestBackup(rocksdb::RestoreOptions(), data_dir, data_dir);
  if (!io.ok()) {
    return io_error("restore of " + backup_dir + " into " + data_dir + " failed: " + io.ToString());
  }
  return {};
}

}  // namespace ckv
