#!/usr/bin/env bash
# The HTTP load harness: a real 3-node cluster on loopback under wrk, beside nginx serving
# a tiny static file with the same wrk parameters in the same run (this machine's HTTP
# ceiling), and nginx answering the mix's Lua script (what the script costs wrk). nginx's
# static file is measured first and again last; the ratios are to the mean of the two (the
# machine's speed drifts over the run's minutes). Prints a Markdown table (requests/s, p50,
# p99, ratio to nginx's static file, CPU per request) and writes the same as JSON to
# build/bench/http.json. CPU per request is user + system time from /proc over the
# measurement, divided by the requests wrk counted: the server's (nginx's workers, or each of
# the three nodes) and wrk's own; on two shared cores, their sum times the rate is at most
# 2,000,000 us a second.
# Fails if any answer had an unexpected status or any request went unanswered (wrk's socket
# errors and timeouts); before measuring, it checks that the status checks count (below).
#   tools/http_bench.sh [seconds per measurement, default 10]
# The cluster's gossip is encrypted, as the README recommends; CKV_BENCH_PLAINTEXT=1 runs it
# in plaintext instead, to measure what encryption costs; CKV_BENCH_SYNC=1 runs the nodes
# with --sync (every write on disk before its answer; group commit: one fsync per burst);
# CKV_BENCH_MAX_DATA_MB=N runs them with --max-data-mb N.
# Needs a Release build (tools/build.sh release) and wrk + nginx (tools/setup.sh bench).
# CKV_BIN names another node binary, CKV_BENCH_DIR another results directory (the CI
# smoke run uses both).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
threads=2
conns=50
bin=${CKV_BIN:-build/release/runtime/cluster-kv}
out=${CKV_BENCH_DIR:-build/bench}
lua=bench/http
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "http_bench: '$tool' is missing (tools/setup.sh bench installs it)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "http_bench: build first: tools/build.sh release" >&2; exit 1; }

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-http-bench.XXXXXX)
pids=()
cleanup() {
  ckv_stop "${pids[@]}"
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# nginx: a minimal config of our own, loopback only, a 100-byte file like our values.
mkdir -p "$work/html"
chmod 755 "$work" "$work/html"  # nginx's workers run as an unprivileged user
head -c 100 /dev/zero | tr '\0' v > "$work/html/static"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:18080; root $work/html; }
  # The same 100 bytes from memory for any method and path: the reference for the Lua-
  # scripted rows (wrk's scripts cost wrk itself, whoever answers).
  server { listen 127.0.0.1:18081; location / { return 200 "$(cat "$work/html/static")"; } }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"

# The checks that fail a row, checked first against nginx (a row cannot pass because its
# check stopped counting): walk.lua expecting 404 must count every one of nginx's 200s
# on :18081 as unexpected, and wrk's "Non-2xx" count (what the 200 rows and the mix are
# checked by) must count every 404 of nginx's static server for walk.lua's keys.
check_counting() {  # NAME URL WRK_EXPECT FIGURE_PATTERN
  local text requests counted
  text=$(WRK_EXPECT=$3 wrk -t1 -c2 -d1s -s "$lua/walk.lua" "$2" 2>&1)
  requests=$(awk '/ requests in / { print $1 }' <<< "$text")
  counted=$(awk -v p="$4" '$0 ~ p { print $NF }' <<< "$text")
  if [ -z "$requests" ] || [ "$requests" -eq 0 ] || [ "${counted:-0}" != "$requests" ]; then
    echo "http_bench: $1 counted ${counted:-nothing} of ${requests:-no} wrong answers:" >&2
    echo "$text" >&2
    exit 1
  fi
}
check_counting "walk.lua's status check" http://127.0.0.1:18081 404 '^unexpected_status'
check_counting "wrk's Non-2xx count" http://127.0.0.1:18080 200 'Non-2xx or 3xx responses:'

gossip=encrypted
keyring=()
if [ "${CKV_BENCH_PLAINTEXT:-0}" = 1 ]; then
  gossip=plaintext
else
  (umask 077 && head -c 32 /dev/urandom | base64 > "$work/keyring")
  keyring=(--keyring-file "$work/keyring")
fi
durability=()
[ "${CKV_BENCH_SYNC:-0}" = 1 ] && durability=(--sync)
# CKV_BENCH_MAX_DATA_MB=N bounds each node's values (--max-data-mb N), to measure eviction.
[ -n "${CKV_BENCH_MAX_DATA_MB:-}" ] && durability+=(--max-data-mb "$CKV_BENCH_MAX_DATA_MB")
for i in 1 2 3; do
  join=()
  [ "$i" -gt 1 ] && join=(--join 127.0.0.1:17946)
  ckv_start "$bin" "bench$i" $((19875 + i)) $((17945 + i)) "$work/bench$i.log" \
    --data-dir "$work/bench$i" --no-mdns --log-level warn "${keyring[@]}" "${durability[@]}" "${join[@]}"
  pids+=("$ckv_pid")
done
ckv_wait_formed 19878 3 10 || { echo "http_bench: the cluster did not form" >&2; exit 1; }

# CPU time (ticks) of processes, and of this shell's waited-for children (wrk, mostly).
tick=$(getconf CLK_TCK)
ticks_of() {  # PID...: utime + stime (fields 14, 15 of /proc/PID/stat)
  local total=0 p stat
  for p in "$@"; do
    read -r -a stat 2>/dev/null < "/proc/$p/stat" || continue
    total=$((total + stat[13] + stat[14]))
  done
  echo "$total"
}
children_ticks() {  # cutime + cstime of the main shell ($$), which waits for wrk
  local stat
  read -r -a stat < "/proc/$$/stat"
  echo $((stat[15] + stat[16]))
}
per_request() {  # TICKS REQUESTS -> microseconds per request
  awk -v t="$1" -v n="$2" -v hz="$tick" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }'
}
nginx_workers() { pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' '; }

# run NAME URL [env...]: one wrk measurement; records
# "NAME rps p50_ms p99_ms unexpected server_cpu_us wrk_cpu_us" (server_cpu_us: one figure
# for nginx, node1/node2/node3 for the cluster)
results=()
to_ms() {  # wrk prints 523.00us, 2.10ms, 1.20s
  awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); x = v + 0;
    if (u == "us") x /= 1000; else if (u == "s") x *= 1000; else if (u == "m") x *= 60000;
    printf "%.3f", x }'
}
run() {
  local name=$1 url=$2 script=$3 duration=$4
  shift 4
  local servers=("${pids[@]}")
  [[ $name == nginx* ]] && read -r -a servers <<< "$(nginx_workers)"
  local before=() wrk_before
  for p in "${servers[@]}"; do before+=("$(ticks_of "$p")"); done
  wrk_before=$(children_ticks)
  env "$@" wrk -t"$threads" -c"$conns" -d"${duration}s" --latency ${script:+-s "$script"} "$url" \
    > "$work/$name.out" 2>&1
  local wrk_ticks=$(($(children_ticks) - wrk_before))
  local requests server_cpu=()
  requests=$(awk '/ requests in / { print $1 }' "$work/$name.out")
  if [[ $name == nginx* ]]; then
    local sum=0
    for i in "${!servers[@]}"; do sum=$((sum + $(ticks_of "${servers[$i]}") - before[i])); done
    server_cpu=("$(per_request "$sum" "${requests:-0}")")
  else
    for i in "${!servers[@]}"; do
      server_cpu+=("$(per_request $(($(ticks_of "${servers[$i]}") - before[i])) "${requests:-0}")")
    done
  fi
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$name.out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$work/$name.out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$work/$name.out")")
  bad=$(awk '/^unexpected_status/ { print $2 }' "$work/$name.out")
  errors=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$work/$name.out")
  # "Socket errors: connect 0, read 0, write 0, timeout 0": requests that got no answer.
  lost=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$work/$name.out")
  local server_text wrk_cpu
  server_text=$(IFS=/; echo "${server_cpu[*]}")
  wrk_cpu=$(per_request "$wrk_ticks" "${requests:-0}")
  results+=("$name ${rps:-0} ${p50:-0} ${p99:-0} $((${bad:-${errors:-0}} + ${lost:-0})) $server_text $wrk_cpu")
  echo "  $name: ${rps:-?} req/s, p50 ${p50} ms, p99 ${p99} ms; CPU us/request: server $server_text, wrk $wrk_cpu" >&2
}

echo "http_bench: wrk -t$threads -c$conns, ${secs}s each; gossip $gossip${durability:+, --sync}" >&2
run nginx_static http://127.0.0.1:18080/static "" "$secs"
run nginx_mix_script http://127.0.0.1:18081 "$lua/mix.lua" "$secs"
curl -s -o /dev/null -d "$(head -c 100 /dev/zero | tr '\0' v)" http://127.0.0.1:19876/hit
curl -s -o /dev/null http://127.0.0.1:19876/hit
run get_local_hit http://127.0.0.1:19876/hit "" "$secs"
# POSTs of distinct keys on node 1 (twice as long: the remote reads walk the same keys).
run post http://127.0.0.1:19876 "$lua/walk.lua" $((secs * 2)) WRK_PREFIX=r WRK_METHOD=POST WRK_EXPECT=200
run get_remote http://127.0.0.1:19877 "$lua/walk.lua" "$secs" WRK_PREFIX=r WRK_EXPECT=200
run get_404 http://127.0.0.1:19877 "$lua/walk.lua" "$secs" WRK_PREFIX=missing WRK_EXPECT=404
for k in $(seq 0 999); do echo "m$k"; done | while read -r key; do
  curl -s -o /dev/null -d v "http://127.0.0.1:19876/$key"
done
run mix_90_10 http://127.0.0.1:19876 "$lua/mix.lua" "$secs"
run nginx_static_again http://127.0.0.1:18080/static "" "$secs"

last=$((${#results[@]} - 1))
for i in 0 "$last"; do
  if [ "$(echo "${results[$i]}" | awk '{ print $5 }')" != 0 ]; then
    echo "http_bench: nginx answered errors; the reference is void (see $work/nginx-error.log)" >&2
    exit 1
  fi
done
nginx_rps=$(printf '%s\n' "${results[0]}" "${results[$last]}" | awk '{ sum += $2 } END { print sum / 2 }')
mkdir -p "$out"
{
  echo "| measurement | requests/s | p50 ms | p99 ms | vs nginx (mean of its 2 runs) | unexpected answers | server CPU us/req (nginx, or nodes 1/2/3) | wrk CPU us/req |"
  echo "|---|---|---|---|---|---|---|---|"
  for r in "${results[@]}"; do
    echo "$r" | awk -v base="$nginx_rps" '{ printf "| %s | %.0f | %.2f | %.2f | %.2fx | %s | %s | %s |\n", $1, $2, $3, $4, $2 / base, $5, $6, $7 }'
  done
} | tee "$work/table.md"
{
  echo "{\"wrk\":{\"threads\":$threads,\"connections\":$conns,\"seconds\":$secs},\"gossip\":\"$gossip\",\"nginx_rps\":$nginx_rps,\"results\":["
  first=1
  for r in "${results[@]}"; do
    [ $first -eq 1 ] || echo ","
    first=0
    echo "$r" | awk -v base="$nginx_rps" '{ cpu = $6; gsub("/", ",", cpu)
      printf "{\"name\":\"%s\",\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"vs_nginx\":%.3f,\"unexpected\":%d,\"server_cpu_us\":[%s],\"wrk_cpu_us\":%s}", $1, $2, $3, $4, $2 / base, $5, cpu, $7 }'
  done
  echo "]}"
} > "$out/http.json"
echo "http_bench: JSON in $out/http.json" >&2
for r in "${results[@]}"; do
  # CPU read from /proc: a measurement that took seconds cannot have cost nothing.
  read -r name _ _ _ _ server wrk_cpu <<< "$r"
  if [ "${server%%/*}" = 0.0 ] || [ "$wrk_cpu" = 0.0 ]; then
    echo "http_bench: $name: no CPU time was read for the server or wrk (/proc)" >&2
    exit 1
  fi
done
for r in "${results[@]}"; do
  read -r name _ _ _ bad _ <<< "$r"
  [ "$bad" = 0 ] || { echo "http_bench: $name had $bad unexpected answers" >&2; exit 1; }
done
