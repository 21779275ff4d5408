#!/usr/bin/env bash
# What the flight recorder costs: local-hit GET and POST throughput of a node of a 2-node
# cluster on loopback under wrk, without and with --record (values masked, the default),
# alternated off/on/off/on in one run so that the machine's drift falls on both alike.
# Prints requests/s per round and the ratio of the means (on / off).
#   tools/record_bench.sh [seconds per measurement, default 10]
# Needs a Release build (tools/build.sh release) and wrk (tools/setup.sh bench).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bin=${CKV_BIN:-build/release/runtime/cluster-kv}
command -v wrk >/dev/null || { echo "record_bench: 'wrk' is missing (tools/setup.sh bench installs it)" >&2; exit 1; }
[ -x "$bin" ] || { echo "record_bench: build first: tools/build.sh release" >&2; exit 1; }
source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-record-bench.XXXXXX)
pids=()
cleanup() { ckv_stop "${pids[@]}"; rm -rf "$work"; }
trap cleanup EXIT
printf 'wrk.method = "POST"\nwrk.body = string.rep("v", 100)\n' > "$work/post.lua"

rate() {  # rate WRK-ARGS...: requests/s
  wrk -t2 -c50 -d"${secs}s" "$@" | awk '/^Requests\/sec/ {print $2}'
}

round() {  # round off|on: prints "GET POST"
  local mode=$1 flags=()
  rm -rf "$work/a" "$work/b" "$work/rec"
  [ "$mode" = on ] && flags=(--record "$work/rec")
  ckv_start "$bin" a 19840 17840 "$work/a.log" --data-dir "$work/a" --no-mdns --log-level warn "${flags[@]}"
  local a=$ckv_pid
  ckv_start "$bin" b 19841 17841 "$work/b.log" --data-dir "$work/b" --no-mdns --log-level warn \
    --join 127.0.0.1:17840 "${flags[@]}"
  local b=$ckv_pid
  pids=("$a" "$b")
  for _ in $(seq 1 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT http://127.0.0.1:19840/g -d 0123456789)" = 200 ] && break
    sleep 0.1
  done
  curl -s -o /dev/null http://127.0.0.1:19840/g
  local get post
  get=$(rate http://127.0.0.1:19840/g)
  post=$(rate -s "$work/post.lua" http://127.0.0.1:19840/p)
  ckv_stop "${pids[@]}"
  pids=()
  echo "$get $post"
}

declare -a off_get off_post on_get on_post
for mode in off on off on; do
  read -r g p < <(round $mode)
  printf '%-4s GET %10.0f req/s   POST %10.0f req/s\n' "$mode" "$g" "$p"
  if [ $mode = off ]; then off_get+=("$g"); off_post+=("$p"); else on_get+=("$g"); on_post+=("$p"); fi
done
mean() { printf '%s\n' "$@" | awk '{s += $1} END {print s / NR}'; }
awk -v og="$(mean "${off_get[@]}")" -v ng="$(mean "${on_get[@]}")" \
    -v op="$(mean "${off_post[@]}")" -v np="$(mean "${on_post[@]}")" 'BEGIN {
  printf "with --record / without: local-hit GET %.3f (%.0f vs %.0f req/s), POST %.3f (%.0f vs %.0f req/s)\n",
         ng / og, ng, og, np / op, np, op }'
