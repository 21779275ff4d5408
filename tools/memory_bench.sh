#!/usr/bin/env bash
# Memory of one node holding 1,000,000 keys of 100-byte values, written through HTTP with
# wrk: resident memory (VmRSS) before and after, and the bytes per key beyond the raw
# data (key + value). Prints one JSON line and writes it to build/bench/memory.json.
#   tools/memory_bench.sh [keys, default 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-1000000}
[[ $want =~ ^[1-9][0-9]*$ ]] || { echo "usage: tools/memory_bench.sh [keys, a positive integer]" >&2; exit 2; }
bin=${CKV_BIN:-build/release/runtime/cluster-kv}  # CKV_BIN, CKV_BENCH_DIR: as http_bench.sh
out=${CKV_BENCH_DIR:-build/bench}
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "memory_bench: '$tool' is missing (tools/setup.sh bench installs it)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "memory_bench: build first: tools/build.sh release" >&2; exit 1; }

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-memory-bench.XXXXXX)
ckv_start "$bin" mem 19890 17990 "$work/node.log" --data-dir "$work/data" --no-mdns --log-level warn
pid=$ckv_pid
trap 'ckv_stop $pid; rm -rf "$work"' EXIT
ckv_wait_healthy 19890 5 || { echo "memory_bench: the node did not start:" >&2; cat "$work/node.log" >&2; exit 1; }
rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$pid/status"; }
before=$(rss)

# Distinct keys "/w<round>-<thread>-<n>" (7 to 14 bytes), 100-byte values, until `want`.
ckv_write_keys 19890 "$want" "$work" || { echo "memory_bench: see $work/node.log" >&2; cat "$work/node.log" >&2; exit 1; }
written=$ckv_written
round=$ckv_rounds
sleep 2  # let RocksDB's background flushes settle
after=$(rss)
# Average key: "w<round>-<thread>-<n>" with n up to ~written/100.
key_bytes=$(awk -v w="$written" -v r="$round" 'BEGIN { printf "%.1f", 1 + length(r) + 3 + length(int(w / 100)) }')
line=$(awk -v b="$before" -v a="$after" -v n="$written" -v k="$key_bytes" 'BEGIN {
  per = (a - b) / n; printf "{\"keys\":%d,\"value_bytes\":100,\"avg_key_bytes\":%.1f,\"rss_before\":%d,\"rss_after\":%d,\"rss_bytes_per_key\":%.1f,\"bytes_per_key_beyond_data\":%.1f}", n, k, b, a, per, per - 100 - k }')
mkdir -p "$out"
echo "$line" | tee "$out/memory.json"
