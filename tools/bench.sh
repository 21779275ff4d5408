#!/usr/bin/env bash
# Runs the benchmark suite on a Release build and prints the figures the README reports;
# the full Google Benchmark output goes to build/bench/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh > /dev/null
tools/build.sh release
mkdir -p build/bench
for b in kernel_bench sim_bench; do
  echo "== $b"
  "build/release/bench/$b" --benchmark_out="build/bench/$b.json" --benchmark_out_format=json \
    --benchmark_counters_tabular=true
done
