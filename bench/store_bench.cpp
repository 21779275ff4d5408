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

#include "runtime/rocks_store.h"

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

// The database BM_StoreGet reads, built on first use and kept for every run (main()
// removes it): 100k 100-byte values, flushed to a table file so that reads go through
// the table, then each read once so that its blocks are in the block cache (13 MB of
// records in a 32 MiB cache): the benchmark measures warm hits, whatever its length.
std::unique_ptr<TempStore>& preloaded() {
  static std::unique_ptr<TempStore> store;
  return store;
}

RocksStore* preloaded_store(benchmark::State& state) {
  std::unique_ptr<TempStore>& p = preloaded();
  if (!p) {
    p = std::make_unique<TempStore>(false);
    if (!p->error.empty()) {
      state.SkipWithError(p->error.c_str());
      return nullptr;
    }
    for (size_t i = 0; i < kKeys; ++i) {
      if (!p->store->put(key_of(i), make_record(i)).ok()) {
        state.SkipWithError("preload put failed");
        return nullptr;
      }
    }
    if (!p->store->flush().ok()) {
      state.SkipWithError("preload flush failed");
      return nullptr;
    }
    Record record;
    for (size_t i = 0; i < kKeys; ++i) {
      Result<bool> found = p->store->get(key_of(i), record);
      if (!found.ok() || !found.value()) {
        state.SkipWithError("preload get failed");
        return nullptr;
      }
    }
  }
  return p->store.get();
}

// get() of a key that has a record, in a fixed random order over the 100k keys: RocksDB's
// lookup plus decoding the record into a Record (the value copied out).
void BM_StoreGet(benchmark::State& state) {
  RocksStore* store = preloaded_store(state);
  if (store == nullptr) return;
  const std::vector<std::string> keys = make_keys();
  std::vector<uint32_t> order(kKeys);
  for (size_t i = 0; i < kKeys; ++i)
    order[i] = static_cast<uint32_t>(i);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  Record record;
  size_t i = 0;
  uint64_t misses = 0;
  for (auto _ : state) {
    Result<bool> found = store->get(keys[order[i]], record);
    misses += !found.ok() || !found.value();
    benchmark::DoNotOptimize(record.value.data());
    if (++i == kKeys) i = 0;
  }
  if (misses > 0) state.SkipWithError("a get found no record");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kValueBytes));
}
BENCHMARK(BM_StoreGet)->UseRealTime();

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
