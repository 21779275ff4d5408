// RocksStore micro-benchmarks: the production store through the kernel's Store interface
// (record encoding and decoding included), on a real disk. Release builds only give
// meaningful numbers:
//   build/release/bench/store_bench
// Rates are per second of wall-clock time (UseRealTime), not of this thread's CPU time:
// a synced put spends most of its time waiting for the disk, and RocksDB works on
// background threads too. Databases go in fresh directories under the temporary
// directory ($TMPDIR, else /tmp; its file system decides what a sync costs) and are
// removed when done.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernel/kv/staged_store.h"
#include "runtime/store/rocks_store.h"

namespace ckv {
namespace {

namespace fs = std::filesystem;

constexpr size_t kKeys = 100'000;
constexpr size_t kValueBytes = 100;

// A fresh directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("ckv-store-bench-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// A store in its own temporary directory; the store closes before the directory goes.
struct TempStore {
  explicit TempStore(bool sync_writes) {
    auto opened = RocksStore::open({dir.path(), sync_writes});
    if (opened.ok()) {
      store = std::move(*opened);
    } else {
      error = opened.error().detail;
    }
  }
  TempDir dir;
  std::unique_ptr<RocksStore> store;
  std::string error;
};

std::string key_of(size_t i) {
  return "user:" + std::to_string(1'000'000 + i);
}

std::vector<std::string> make_keys() {
  std::vector<std::string> keys;
  keys.reserve(kKeys);
  for (size_t i = 0; i < kKeys; ++i)
    keys.push_back(key_of(i));
  return keys;
}

Record make_record(uint64_t n) {
  Record r;
  r.kind = RecordKind::kValue;
  r.version = Version{1'700'000'000'000'000 + n, 0, 0x1234'5678'9abc'def0};
  r.validated_epoch = 7;
  r.value = std::string(kValueBytes, static_cast<char>('a' + n % 26));
  return r;
}

// The database the get benchmarks read, written on first use and kept for every run
// (main() removes it): 100k 100-byte values, flushed to a table file so that reads go
// through the table. Each benchmark opens it with its own record cache size.
std::unique_ptr<TempDir>& preloaded() {
  static std::unique_ptr<TempDir> dir;
  return dir;
}

// Opens the preloaded database (writing it first if needed) with a record cache of
// `cache_bytes`, then reads every key once so that its blocks are in the block cache
// (13 MB of records in a 32 MiB cache): the benchmark measures warm reads, whatever its
// length. Null, with the state marked skipped, on failure.
std::unique_ptr<RocksStore> open_preloaded(benchmark::State& state, size_t cache_bytes) {
  auto fail = [&state](const std::string& why) {
    state.SkipWithError(why.c_str());
    return nullptr;
  };
  std::unique_ptr<TempDir>& dir = preloaded();
  const bool fresh = !dir;
  if (fresh) dir = std::make_unique<TempDir>();
  auto opened = RocksStore::open({dir->path(), false, cache_bytes});
  if (!opened.ok()) return fail(opened.error().detail);
  std::unique_ptr<RocksStore> store = std::move(*opened);
  if (fresh) {
    for (size_t i = 0; i < kKeys; ++i) {
      if (!store->put(key_of(i), make_record(i)).ok()) return fail("preload put failed");
    }
    if (!store->flush().ok()) return fail("preload flush failed");
  }
  Record record;
  for (size_t i = 0; i < kKeys; ++i) {
    Result<bool> found = store->get(key_of(i), record);
    if (!found.ok() || !found.value()) return fail("preloaded key missing");
  }
  return store;
}

// get() of keys from the preloaded database in a shuffled order, cycling through the
// first `keys` of them: record decoding included.
void BM_StoreGetCommon(benchmark::State& state, size_t cache_bytes, size_t keys_read) {
  std::unique_ptr<RocksStore> store = open_preloaded(state, cache_bytes);
  if (store == nullptr) return;
  const std::vector<std::string> keys = make_keys();
  std::vector<uint32_t> order(keys_read);
  for (size_t i = 0; i < keys_read; ++i)
    order[i] = static_cast<uint32_t>(i);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  Record record;
  size_t i = 0;
  uint64_t misses = 0;
  for (auto _ : state) {
    Result<bool> found = store->get(keys[order[i]], record);
    misses += !found.ok() || !found.value();
    benchmark::DoNotOptimize(record.value.data());
    if (++i == keys_read) i = 0;
  }
  if (misses > 0) state.SkipWithError("a get found no record");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kValueBytes));
}

// RocksDB's own read path (memtable and table probes, block cache): no record cache.
void BM_StoreGet(benchmark::State& state) {
  BM_StoreGetCommon(state, 0, kKeys);
}
BENCHMARK(BM_StoreGet)->UseRealTime();

// As the node runs it (the default 16 MiB record cache), reading 100k records the cache
// cannot hold (~26 MB): every get misses, reads RocksDB and offers the record (the worst
// case of the cache: its cost on top of BM_StoreGet).
void BM_StoreGetCacheMiss(benchmark::State& state) {
  BM_StoreGetCommon(state, RocksStoreOptions::kDefaultRecordCacheBytes, kKeys);
}
BENCHMARK(BM_StoreGetCacheMiss)->UseRealTime();

// The default record cache, reading 1,000 hot records it holds: every get is a hit.
void BM_StoreGetCacheHit(benchmark::State& state) {
  BM_StoreGetCommon(state, RocksStoreOptions::kDefaultRecordCacheBytes, 1'000);
}
BENCHMARK(BM_StoreGetCacheHit)->UseRealTime();

// put() of a 100-byte value record: encoding the record and RocksDB's write (WAL append,
// memtable insert; memtable flushes and compactions run on RocksDB's background threads).
// Keys cycle through 100k, so after the first 100k writes every put overwrites. A fresh
// database each run.
void BM_StorePutCommon(benchmark::State& state, bool sync) {
  TempStore t(sync);
  if (!t.error.empty()) {
    state.SkipWithError(t.error.c_str());
    return;
  }
  const std::vector<std::string> keys = make_keys();
  Record record = make_record(0);
  size_t i = 0;
  uint64_t failed = 0;
  for (auto _ : state) {
    record.version.wall_us++;
    failed += !t.store->put(keys[i], record).ok();
    if (++i == kKeys) i = 0;
  }
  if (failed > 0) state.SkipWithError("a put failed");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kValueBytes));
}

void BM_StorePut(benchmark::State& state) {
  BM_StorePutCommon(state, false);
}
BENCHMARK(BM_StorePut)->UseRealTime();

// As BM_StorePut with sync_writes (--sync): every put waits for the WAL to reach the disk.
void BM_StorePutSync(benchmark::State& state) {
  BM_StorePutCommon(state, true);
}
BENCHMARK(BM_StorePutSync)->UseRealTime();

// The node's write path: the kernel's puts staged in a StagedStore, then committed as one
// RocksDB batch (one WAL append; with sync, one fsync) — what NodeDriver does after each
// burst of requests. The argument is the batch size; rates are per record. Keys cycle
// through 100k as in BM_StorePut.
void BM_StoreCommitCommon(benchmark::State& state, bool sync) {
  TempStore t(sync);
  if (!t.error.empty()) {
    state.SkipWithError(t.error.c_str());
    return;
  }
  StagedStore staged(*t.store);
  const std::vector<std::string> keys = make_keys();
  const auto batch = static_cast<size_t>(state.range(0));
  Record record = make_record(0);
  size_t i = 0;
  uint64_t failed = 0;
  for (auto _ : state) {
    for (size_t n = 0; n < batch; ++n) {
      record.version.wall_us++;
      failed += !staged.put(keys[i], record).ok();
      if (++i == kKeys) i = 0;
    }
    failed += !staged.commit().ok();
  }
  if (failed > 0) state.SkipWithError("a staged put or a commit failed");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch * kValueBytes));
}

void BM_StoreCommit(benchmark::State& state) {
  BM_StoreCommitCommon(state, false);
}
BENCHMARK(BM_StoreCommit)->Arg(1)->Arg(8)->Arg(64)->UseRealTime();

// As BM_StoreCommit with sync_writes (--sync): one fsync per batch.
void BM_StoreCommitSync(benchmark::State& state) {
  BM_StoreCommitCommon(state, true);
}
BENCHMARK(BM_StoreCommitSync)->Arg(1)->Arg(8)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace ckv

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ckv::preloaded().reset();
  return 0;
}
