#!/usr/bin/env bash
# Store size after 1,000,000 keys are written and then all deleted, once the tombstone
# horizon has passed: one node with --tombstone-ttl 30s, keys of 100-byte values written
# through HTTP with wrk, then deleted the same way (each round of deletes walks its round's
# keys for longer than the writes took, so that every key is deleted; a DELETE of a key
# never written is a 404 that leaves nothing). The data directory (without RocksDB's
# text LOG files) is measured after a clean stop, and so is an empty node's. Prints one
# JSON line and writes it to build/bench/collection.json.
#   tools/collection_bench.sh [keys, default 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-1000000}
[[ $want =~ ^[1-9][0-9]*$ ]] || { echo "usage: tools/collection_bench.sh [keys, a positive integer]" >&2; exit 2; }
bin=${CKV_BIN:-build/release/runtime/cluster-kv}  # CKV_BIN, CKV_BENCH_DIR: as http_bench.sh
out=${CKV_BENCH_DIR:-build/bench}
for tool in wrk curl du; do
  command -v "$tool" >/dev/null || { echo "collection_bench: '$tool' is missing (tools/setup.sh bench installs it)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "collection_bench: build first: tools/build.sh release" >&2; exit 1; }

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-collection-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && ckv_stop $pid; rm -rf "$work"' EXIT
flags=(--no-mdns --log-level warn --tombstone-ttl 30s)
data_bytes() { du -sb --exclude='LOG*' "$1" | awk '{ print $1 }'; }
metric() { curl -s -m 10 http://127.0.0.1:19892/_cluster/metrics | awk -v n="$1" '$1 == n { print $2 }'; }

# An empty node, started and stopped cleanly.
ckv_start "$bin" empty 19892 17992 "$work/empty.log" --data-dir "$work/empty" "${flags[@]}"
pid=$ckv_pid
ckv_wait_healthy 19892 5 || { echo "collection_bench: the node did not start:" >&2; cat "$work/empty.log" >&2; exit 1; }
ckv_stop $pid
pid=
empty=$(data_bytes "$work/empty")

ckv_start "$bin" full 19892 17992 "$work/node.log" --data-dir "$work/data" "${flags[@]}"
pid=$ckv_pid
ckv_wait_healthy 19892 5 || { echo "collection_bench: the node did not start:" >&2; cat "$work/node.log" >&2; exit 1; }
ckv_write_keys 19892 "$want" "$work" || { echo "collection_bench: see $work/node.log" >&2; exit 1; }
written=$ckv_written
round=$ckv_rounds
deleted=0
for r in $(seq 1 "$round"); do
  WRK_PREFIX="w$r-" WRK_METHOD=DELETE WRK_EXPECT=200 \
    wrk -t2 -c50 -d14s -s bench/http/walk.lua http://127.0.0.1:19892 > "$work/wrk.out"
  deleted=$((deleted + $(awk '/requests in/ { print $1 }' "$work/wrk.out")))
  echo "  deleted round $r ($deleted deletes)" >&2
done
after_deletes=$(data_bytes "$work/data")
start=$(date +%s)
# Every tombstone is collected past the horizon: one per delete the node took (a DELETE of
# a key nobody holds is a 404 that writes none).
tombstones=$(metric ckv_deletes_total)
[ "$tombstones" -ge "$written" ] || echo "collection_bench: only $tombstones of $written keys were deleted" >&2
while [ "$(metric ckv_records_collected_total)" -lt "$tombstones" ]; do
  [ $(($(date +%s) - start)) -lt 600 ] || { echo "collection_bench: collected only $(metric ckv_records_collected_total) of $tombstones" >&2; exit 1; }
  sleep 1
done
collected_after=$(($(date +%s) - start))
sleep 30  # removal pauses: the node asks RocksDB to compact, and it does
ckv_stop $pid
pid=
final=$(data_bytes "$work/data")
line=$(awk -v k="$written" -v d="$tombstones" -v e="$empty" -v a="$after_deletes" -v f="$final" -v t="$collected_after" 'BEGIN {
  printf "{\"keys_written\":%d,\"keys_deleted\":%d,\"empty_node_bytes\":%d,\"bytes_after_deletes\":%d,\"bytes_after_collection\":%d,\"ratio_to_empty\":%.3f,\"collected_within_s_after_deletes\":%d}", k, d, e, a, f, f / e, t }')
mkdir -p "$out"
echo "$line" | tee "$out/collection.json"
