#!/usr/bin/env bash
# Time of one listing of 10,000 keys spread over a 3-node loopback cluster
# (GET /_cluster/keys?limit=10000): 3,334 keys of 100 bytes PUT on each node, then 20
# listings from one node, each timed by curl (time_total, end to end). Prints the times
# and one JSON line, also written to build/bench/listing.json.
#   tools/listing_bench.sh [keys, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
keys=${1:-10000}
[[ $keys =~ ^[1-9][0-9]*$ ]] && [ "$keys" -le 10000 ] ||
  { echo "usage: tools/listing_bench.sh [keys, 1..10000]" >&2; exit 2; }
bin=${CKV_BIN:-build/release/runtime/cluster-kv}
out=${CKV_BENCH_DIR:-build/bench}
command -v curl >/dev/null || { echo "listing_bench: curl is missing (tools/setup.sh installs it)" >&2; exit 1; }
[ -x "$bin" ] || { echo "listing_bench: build first: tools/build.sh release" >&2; exit 1; }

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-listing-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do ckv_stop "$p"; done; rm -rf "$work"' EXIT
flags=(--no-mdns --log-level warn)
ckv_start "$bin" a 19960 17960 "$work/a.log" --data-dir "$work/a" "${flags[@]}"
pids+=("$ckv_pid")
ckv_start "$bin" b 19961 17961 "$work/b.log" --data-dir "$work/b" --join 127.0.0.1:17960 "${flags[@]}"
pids+=("$ckv_pid")
ckv_start "$bin" c 19962 17962 "$work/c.log" --data-dir "$work/c" --join 127.0.0.1:17960 "${flags[@]}"
pids+=("$ckv_pid")
for port in 19960 19961 19962; do
  ckv_wait_formed "$port" 3 20 || { echo "listing_bench: the cluster did not form" >&2; cat "$work"/*.log >&2; exit 1; }
done
value=$(printf 'v%.0s' $(seq 1 100))
writers=()
for node in 0 1 2; do  # each node writes its third, over one connection
  : > "$work/urls.$node"
  for ((i = node; i < keys; i += 3)); do
    printf 'url = "http://127.0.0.1:%d/bench/%05d"\n' $((19960 + node)) "$i" >> "$work/urls.$node"
  done
  curl -s -X PUT -d "$value" -K "$work/urls.$node" -o /dev/null -w '%{http_code}\n' > "$work/codes.$node" &
  writers+=($!)
done
wait "${writers[@]}"  # (not the nodes)
bad=$(cat "$work"/codes.* | grep -vc '^200$' || true)
[ "$bad" -eq 0 ] || { echo "listing_bench: $bad writes failed" >&2; exit 1; }
sleep 1
times=()
for round in $(seq 1 20); do
  t=$(curl -s -m 30 -o "$work/list.json" -w '%{time_total}' "http://127.0.0.1:19960/_cluster/keys?prefix=bench/&limit=10000")
  n=$(grep -o '"key":' "$work/list.json" | wc -l)
  [ "$n" -eq "$keys" ] || { echo "listing_bench: listed $n of $keys keys" >&2; exit 1; }
  times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n > "$work/times"
echo "listing times (s): $(tr '\n' ' ' < "$work/times")" >&2
line=$(awk -v k="$keys" '{ t[NR] = $1 } END {
  printf "{\"keys\":%d,\"listings\":%d,\"p50_ms\":%.1f,\"max_ms\":%.1f}", k, NR, t[int((NR + 1) / 2)] * 1000, t[NR] * 1000 }' "$work/times")
mkdir -p "$out"
echo "$line" | tee "$out/listing.json"
