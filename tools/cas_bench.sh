#!/usr/bin/env bash
# Latency of conditional PUTs (compare-and-set) on a 3-node loopback cluster: wrk with
# bench/http/cas.lua against one node, three loops (one connection each) on three keys,
# so some keys are owned by the node asked and some are forwarded to their owner. Prints
# wrk's latency distribution and one JSON line, also written to build/bench/cas.json.
#   tools/cas_bench.sh [seconds, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: tools/cas_bench.sh [seconds]" >&2; exit 2; }
bin=${CKV_BIN:-build/release/runtime/cluster-kv}
out=${CKV_BENCH_DIR:-build/bench}
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "cas_bench: '$tool' is missing (tools/setup.sh bench installs it)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "cas_bench: build first: tools/build.sh release" >&2; exit 1; }

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-cas-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do ckv_stop "$p"; done; rm -rf "$work"' EXIT
flags=(--no-mdns --log-level warn)
ckv_start "$bin" a 19950 17950 "$work/a.log" --data-dir "$work/a" "${flags[@]}"
pids+=("$ckv_pid")
for n in b c; do
  port=$((19950 + ${#pids[@]}))
  ckv_start "$bin" "$n" "$port" $((17950 + ${#pids[@]})) "$work/$n.log" --data-dir "$work/$n" \
    --join 127.0.0.1:17950 "${flags[@]}"
  pids+=("$ckv_pid")
done
for port in 19950 19951 19952; do
  ckv_wait_formed "$port" 3 20 || { echo "cas_bench: the cluster did not form" >&2; cat "$work"/*.log >&2; exit 1; }
done
sleep 3  # past the owners' hand-off wait (2 s after joining)
wrk -t3 -c3 -d"${seconds}s" --latency -s bench/http/cas.lua http://127.0.0.1:19950 | tee "$work/wrk.out"
line=$(awk '
  /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /requests in/ { n = $1 }
  /cas_answers/ { split($2, a, "="); ok = a[2]; split($3, b, "="); failed = b[2]; split($4, c, "="); other = c[2] }
  END { printf "{\"conditional_puts\":%d,\"ok\":%d,\"precondition_failed\":%d,\"other\":%d,\"p50\":\"%s\",\"p99\":\"%s\"}", n, ok, failed, other, p50, p99 }
' "$work/wrk.out")
mkdir -p "$out"
echo "$line" | tee "$out/cas.json"
