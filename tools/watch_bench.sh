#!/usr/bin/env bash
# Watching, measured on a 3-node loopback cluster (Release build):
#  1. latency: from just before a POST on node a to its event on a stream from node b
#     (GET /_cluster/watch), 2,000 writes 5 ms apart, while wrk keeps up a background
#     load of about 1,000 writes/s on node c (bench/http/paced_post.lua);
#  2. idle clients: node b's resident memory before and after 10,000 long-polls wait on
#     it (tools/watch_probe.py idle), and local-hit GET throughput (wrk, 10 s) without and
#     with them.
# Prints one JSON line, also written to build/bench/watch.json.
#   tools/watch_bench.sh [idle clients, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-10000}
bin=${CKV_BIN:-build/release/runtime/cluster-kv}
out=${CKV_BENCH_DIR:-build/bench}
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "watch_bench: $tool is missing (tools/setup.sh installs it)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "watch_bench: build first: tools/build.sh release" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-watch-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do ckv_stop "$p"; done; rm -rf "$work"' EXIT
flags=(--no-mdns --log-level warn --http-max-connections $((clients + 1000)))
ckv_start "$bin" a 19920 17920 "$work/a.log" --data-dir "$work/a" "${flags[@]}"
pids+=("$ckv_pid")
ckv_start "$bin" b 19921 17921 "$work/b.log" --data-dir "$work/b" --join 127.0.0.1:17920 "${flags[@]}"
pids+=("$ckv_pid")
b_pid=$ckv_pid
ckv_start "$bin" c 19922 17922 "$work/c.log" --data-dir "$work/c" --join 127.0.0.1:17920 "${flags[@]}"
pids+=("$ckv_pid")
for port in 19920 19921 19922; do
  ckv_wait_formed "$port" 3 20 || { echo "watch_bench: the cluster did not form" >&2; cat "$work"/*.log >&2; exit 1; }
done

echo "# latency, with ~1,000 writes/s on node c" >&2
wrk -t1 -c1 -d60s -s bench/http/paced_post.lua http://127.0.0.1:19922 > "$work/bg.out" &
bg=$!
sleep 1
latency=$(python3 tools/watch_probe.py latency 19920 19921 2000)
kill "$bg" 2>/dev/null || true
wait "$bg" 2>/dev/null || true
echo "$latency" >&2

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
get_rate() {  # local-hit GETs/s of one key on node b: wrk, 2 threads, 32 connections; the
  # better of two 8 s runs (one run alone varies by 10% on a 2-core machine)
  local best=0 r
  for _ in 1 2; do
    r=$(wrk -t2 -c32 -d8s http://127.0.0.1:19921/hot | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    best=$(python3 -c "print(max($best, $r))")
  done
  echo "$best"
}
curl -s -o /dev/null -X PUT http://127.0.0.1:19921/hot -d "$(printf 'v%.0s' $(seq 1 100))"
curl -s -o /dev/null http://127.0.0.1:19921/hot
curl -s -o /dev/null -X PUT http://127.0.0.1:19920/idle -d waited-on
etag=$(curl -s -o /dev/null -D - http://127.0.0.1:19921/idle | tr -d '\r' | sed -n 's/^ETag: //Ip')
echo "# local-hit GETs without idle clients" >&2
rate_without=$(get_rate)
rss_before=$(rss_kib "$b_pid")
echo "# $clients idle long-polls" >&2
python3 tools/watch_probe.py idle 19921 "$clients" 35 "$etag" > "$work/idle.json" &
idle=$!
sleep 12
rss_with=$(rss_kib "$b_pid")
open=$(curl -s http://127.0.0.1:19921/_cluster/metrics | sed -n 's/^ckv_http_connections \([0-9]*\).*/\1/p')
rate_with=$(get_rate)
wait "$idle"
echo "rss $rss_before -> $rss_with, open ${open:-?}, GET/s $rate_without -> $rate_with" >&2; cat "$work/idle.json" >&2
line=$(python3 - "$latency" "$clients" "$open" "$rss_before" "$rss_with" "$rate_without" "$rate_with" <<'PY'
import json, sys
lat = json.loads(sys.argv[1])
clients, open_, before, with_ = (int(x) for x in sys.argv[2:6])
without, with_rate = float(sys.argv[6]), float(sys.argv[7])
print(json.dumps({"latency": lat, "idle_clients": clients, "open_connections": open_,
                  "rss_kib_before": before, "rss_kib_with": with_,
                  "kib_per_idle_client": round((with_ - before) / clients, 2),
                  "local_get_rps_without": without, "local_get_rps_with": with_rate,
                  "get_rate_change_pct": round((with_rate - without) / without * 100, 1)}))
PY
)
mkdir -p "$out"
echo "$line" | tee "$out/watch.json"
