// The cost of sealing gossip (runtime/gossip/aead.h): AES-256-GCM seal and open of a small
// message, a full gossip datagram and a large stream frame.
#include <benchmark/benchmark.h>

#include <vector>

#include "runtime/gossip/aead.h"

namespace ckv {
namespace {

AeadKey bench_key() {
  AeadKey key;
  for (size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<uint8_t>(i);
  return key;
}

void BM_AeadSeal(benchmark::State& state) {
  AeadKey key = bench_key();
  std::vector<uint8_t> plain(static_cast<size_t>(state.range(0)), 0x5a), sealed;
  uint8_t aad[9] = {};
  for (auto _ : state) {
    sealed.clear();
    aead_seal(key, aad, plain, sealed);
    benchmark::DoNotOptimize(sealed.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadSeal)->Arg(100)->Arg(1400)->Arg(64 * 1024);

void BM_AeadOpen(benchmark::State& state) {
  AeadKey key = bench_key();
  std::vector<uint8_t> plain(static_cast<size_t>(state.range(0)), 0x5a), sealed, opened;
  uint8_t aad[9] = {};
  aead_seal(key, aad, plain, sealed);
  for (auto _ : state) {
    if (!aead_open(key, aad, sealed, opened)) {
      state.SkipWithError("a sealed message did not open");
      break;
    }
    benchmark::DoNotOptimize(opened.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadOpen)->Arg(100)->Arg(1400)->Arg(64 * 1024);

}  // namespace
}  // namespace ckv
