#!/usr/bin/env bash
# Runs the whole benchmark suite on a Release build: the Google Benchmark suites (kernel,
# key-value paths, RocksDB store, gossip sealing, simulator), the HTTP load harness against nginx, and the
# memory of a node holding 1,000,000 keys. Full outputs go to build/bench/*.json.
#   tools/bench.sh [seconds per HTTP measurement, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh bench > /dev/null
tools/build.sh release
mkdir -p build/bench
for b in kernel_bench kv_bench store_bench aead_bench sim_bench; do
  echo "== $b"
  "build/release/bench/$b" --benchmark_out="build/bench/$b.json" --benchmark_out_format=json \
    --benchmark_counters_tabular=true
done
echo "== HTTP load (tools/http_bench.sh)"
tools/http_bench.sh "${1:-10}"
echo "== memory (tools/memory_bench.sh)"
tools/memory_bench.sh
