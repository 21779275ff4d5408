#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time; CI runs `tools/fuzz.sh 60` from
# tools/test.sh.
#   tools/fuzz.sh [seconds]     seconds per target, 60 by default
# Builds build/fuzz when needed (tools/build.sh fuzz), fuzzes a scratch copy of each
# target's seed corpus (the repository's corpora are never written) and prints, per
# target, the executions, executions per second, corpus size before and after and the
# coverage reached. Fails on any crash, leak, timeout or broken invariant, keeping the
# input that did it (and the run's corpus) in build/fuzz/crashes/ and printing how to
# replay it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: tools/fuzz.sh [seconds per target]" >&2
  exit 2
fi

tools/build.sh fuzz

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ckv-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
crashes=build/fuzz/crashes
failed=()

# fuzz TARGET SEED_CORPUS [libFuzzer flags...]
fuzz() {
  local target=$1 seeds=$2
  shift 2
  local work=$scratch/$target
  mkdir -p "$work/corpus" "$work/tmp" "$work/artifacts"
  cp "$seeds"/* "$work/corpus/"
  local before
  before=$(find "$work/corpus" -type f | wc -l)
  echo "== fuzz: $target for ${seconds}s"
  local rc=0
  # TMPDIR: where a target keeps its scratch files (the HTTP target's RocksDB), removed
  # with the rest.
  TMPDIR="$work/tmp" "build/fuzz/tests/$target" -max_total_time="$seconds" -timeout=25 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" \
    "$work/corpus" > "$work/log" 2>&1 || rc=$?
  local after runs speed edges features
  after=$(find "$work/corpus" -type f | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
  # The last status line: "#N ... cov: EDGES ft: FEATURES corp: ..."
  read -r edges features < <(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) .*/\1 \2/p' "$work/log" |
    tail -n 1) || true
  echo "$target: ${runs:-?} executions, ${speed:-?} exec/s, corpus $before -> $after inputs," \
    "coverage ${edges:-?} edges, ${features:-?} features"
  if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
    failed+=("$target")
    echo "$target FAILED (exit $rc); the end of its log:"
    tail -n 80 "$work/log"
    mkdir -p "$crashes"
    rm -rf "${crashes:?}/$target-corpus"
    cp -r "$work/corpus" "$crashes/$target-corpus"
    for f in "$work/artifacts"/*; do
      [ -e "$f" ] || continue
      cp "$f" "$crashes/"
      echo "kept $crashes/$(basename "$f"); replay: build/fuzz/tests/$target $crashes/$(basename "$f")"
    done
  fi
}

fuzz wire_decode_fuzz tests/kernel/wire/decode_fuzz_corpus
# Up to 20 KiB of input, so a header can pass the server's 16 KiB limit.
fuzz http_request_fuzz tests/runtime/http_request_fuzz_corpus -max_len=20480 \
  -dict=tests/runtime/http_request_fuzz.dict

if [ ${#failed[@]} -ne 0 ]; then
  echo "== fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "== fuzz: no crash, leak or broken invariant"
