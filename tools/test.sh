#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this): installs what is
# missing, then builds and runs every test twice — the kernel and simulator tests under
# AddressSanitizer + UBSan, then everything (CLI contract and benchmark smoke runs
# included) in the Release build, checks that both builds give the same simulator traces
# for the same seeds, then runs each libFuzzer target for a minute (tools/fuzz.sh). Exits
# non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh bench  # wrk and nginx too: the HTTP harness runs briefly as a test

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== build and test: asan"
tools/build.sh asan
ctest --test-dir build/asan --output-on-failure -j 2 --timeout 900
tests/tools/sim_hashes.sh build/asan/tools/cluster-kv-sim 2 > build/asan/sim_hashes.txt

echo "== build and test: release"
tools/build.sh release
ctest --test-dir build/release --output-on-failure -j 2 --timeout 900

echo "== determinism: the same seeds give the same traces in both builds"
tests/tools/sim_hashes.sh build/release/tools/cluster-kv-sim 1 > build/release/sim_hashes.txt
if ! diff build/asan/sim_hashes.txt build/release/sim_hashes.txt; then
  echo "FAILED: the ASan build (two jobs) and the Release build (one) disagree on a trace" >&2
  exit 1
fi

echo "== fuzz: the wire decoder and the HTTP request path, 60 s each"
tools/fuzz.sh 60

echo "== all tests passed"
